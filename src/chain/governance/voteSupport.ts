/** How a vote counts (GovernorCountingSimple's `support` values). No viem here: the CLI parses votes before it connects. */
export const voteSupport = { against: 0, for: 1, abstain: 2 } as const
export type VoteSupport = keyof typeof voteSupport
