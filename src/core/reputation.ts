import type { Address, Verdict } from './types.ts'

/** What a node did in settled tasks: the inputs of its reputation. */
export interface NodeRecord {
  /** Reveals in the winning group. */
  agreed: number
  /** Reveals outside the winning group. */
  dissented: number
  /** Commit or reveal deadlines let pass while holding a seat. */
  missed: number
}

export interface ReputationParams {
  /** Weight of one dissent against one agreement. */
  dissentPenalty: number
  /** Weight of one missed deadline against one agreement. */
  missPenalty: number
  /** Below this score (ppm) a node with enough history is jailed. */
  jailBelowPpm: number
  /** Events a node needs before the jail threshold applies. */
  minEvents: number
}

export const defaultReputationParams: ReputationParams = {
  dissentPenalty: 4,
  missPenalty: 1,
  jailBelowPpm: 250_000,
  minEvents: 8,
}

export const emptyRecord: NodeRecord = { agreed: 0, dissented: 0, missed: 0 }

/**
 * A node's reputation in parts per million: (agreed + 1) / (agreed + 1 + missPenalty·missed +
 * dissentPenalty·dissented). A new node starts at 1,000,000 (the +1 is a uniform prior); each
 * agreement pulls it back toward the top, each fault down. Integer arithmetic only, so every node
 * computes the same score from the same settled record.
 */
export function reputationPpm(record: NodeRecord, params: ReputationParams = defaultReputationParams): bigint {
  const good = BigInt(record.agreed + 1)
  const bad = BigInt(params.missPenalty * record.missed + params.dissentPenalty * record.dissented)
  return (good * 1_000_000n) / (good + bad)
}

/** Sortition weight: stake scaled by reputation. */
export function sortitionWeight(stake: bigint, record: NodeRecord, params: ReputationParams = defaultReputationParams): bigint {
  return (stake * reputationPpm(record, params)) / 1_000_000n
}

/** Whether the record warrants jail: enough history and a score below the threshold. */
export function isReputationJailable(record: NodeRecord, params: ReputationParams = defaultReputationParams): boolean {
  const events = record.agreed + record.dissented + record.missed
  return events >= params.minEvents && reputationPpm(record, params) < BigInt(params.jailBelowPpm)
}

/** Adds one settled task's verdict and deadline misses to the records. */
export function recordTask(
  records: Map<Address, NodeRecord>,
  verdict: Verdict,
  missed: readonly Address[],
): void {
  const bump = (node: Address, field: keyof NodeRecord) => {
    const r = records.get(node) ?? emptyRecord
    records.set(node, { ...r, [field]: r[field] + 1 })
  }
  for (const node of verdict.executors) bump(node, 'agreed')
  for (const node of verdict.dissenters) bump(node, 'dissented')
  for (const node of missed) bump(node, 'missed')
}
