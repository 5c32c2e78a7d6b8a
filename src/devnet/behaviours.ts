/**
 * The node behaviours the devnet can cast (docs/devnet.md), apart from their runtimes
 * (`adversaries.ts`) so that the CLI can list them in `--help` without loading a runtime.
 */
export const behaviours = [
  'honest',
  'liar',
  'colluder',
  'strategic-colluder',
  'grinding-requester',
  'quorum-colluder',
  'withholder',
  'colluding-verifier',
  'bribed-arbiter',
  'lazy',
  'slow',
  'offline',
  'copier',
  'guesser',
  'noisy',
  'jitter',
] as const
export type Behaviour = (typeof behaviours)[number]
