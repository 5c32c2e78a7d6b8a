import type { SettledTask } from './epochBatch.ts'
import type { Hex } from './types.ts'

export type BatchObjectionReason =
  /** The proposal settles a task this node never accepted: it cannot vouch for its spec. */
  | 'unknown-task'
  /** The proposal leaves out a task this node decided (one that did not cross the epoch boundary). */
  | 'missing-task'
  /** Requester, fee or quorum differ from the spec this node accepted. */
  | 'terms-differ'
  /** A verified or failed outcome with fewer agreeing executors than the quorum. */
  | 'below-quorum'
  /** An agreeing executor whose signed reveal of that result this node never saw. */
  | 'no-evidence'
  /** A dissenter whose signed, different reveal this node never saw. */
  | 'dissent-without-evidence'

export interface BatchObjection {
  taskId: Hex
  reason: BatchObjectionReason
}

/**
 * What a committee member checks before signing: the aggregator's settled tasks against what the
 * member saw itself. Views of a task can differ at the edges of deadlines (who committed in time),
 * so the member does not demand its own verdicts; it demands evidence. Every agreeing executor and
 * every dissenter must be backed by a signed reveal the member saw, a winning group must reach the
 * quorum, and the task set and its terms must be the member's. A task the member decided but the
 * proposal leaves out is an objection, unless `mayOmit` says the member accepted it across the
 * epoch boundary (after the epoch ended, within the grace period): an aggregator that had passed
 * the boundary never saw it, and leaving it unsettled (unpaid, uncharged) costs less than stalling
 * the epoch. An `unresolved` outcome needs no evidence: it charges and pays nobody. Returns the
 * first objection, or null to sign.
 */
export function findBatchObjection(
  proposed: readonly SettledTask[],
  own: readonly SettledTask[],
  mayOmit: (taskId: Hex) => boolean = () => false,
): BatchObjection | null {
  const mine = new Map(own.map((t) => [t.verdict.taskId, t]))
  const seen = new Set<Hex>()
  for (const task of proposed) {
    const taskId = task.verdict.taskId
    seen.add(taskId)
    const local = mine.get(taskId)
    if (local === undefined) return { taskId, reason: 'unknown-task' }
    if (local.requester !== task.requester || local.fee !== task.fee || local.quorum !== task.quorum) {
      return { taskId, reason: 'terms-differ' }
    }
    const { outcome, resultHash, executors, dissenters } = task.verdict
    if (outcome === 'unresolved') continue
    if (executors.length < task.quorum) return { taskId, reason: 'below-quorum' }
    const status = outcome === 'verified' ? 'ok' : 'failed'
    const reveals = local.reveals ?? []
    // Under a tolerance comparison agreeing executors reveal different hashes: the member vouches
    // for those its own comparison of the bytes put in the same cluster (docs/inference.md).
    const localVerdict = local.verdict
    const agreesLocally = (executor: string) =>
      localVerdict.outcome === outcome && localVerdict.resultHash === resultHash && localVerdict.executors.some((e) => e === executor)
    const matches = (r: (typeof reveals)[number]) => r.status === status && (r.resultHash === resultHash || agreesLocally(r.executor))
    const revealed = (executor: string, agrees: boolean) => reveals.some((r) => r.executor === executor && matches(r) === agrees)
    if (!executors.every((e) => revealed(e, true))) return { taskId, reason: 'no-evidence' }
    if (!dissenters.every((d) => revealed(d, false))) return { taskId, reason: 'dissent-without-evidence' }
  }
  for (const taskId of mine.keys()) if (!seen.has(taskId) && !mayOmit(taskId)) return { taskId, reason: 'missing-task' }
  return null
}
