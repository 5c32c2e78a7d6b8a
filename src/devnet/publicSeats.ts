import { executorsOf, rankTask } from '../core/task.ts'
import type { Address, Hex, TaskSpec } from '../core/types.ts'
import type { EpochView } from '../ports/node.ts'

/** A task's executor seats (its first k ranked nodes, best first; not its verifier's place) and the agreeing reveals its policy asks for. */
export interface TaskSeats {
  seats: readonly Address[]
  quorum: number
}

/** Where a task's seats come from: public data only, so that any node, adversaries included, can compute them. */
export interface PublicSeatsParameters {
  /** A task's signed spec, as the nodes hold it (undefined when not known). */
  specOf(taskId: Hex): TaskSpec | undefined
  /** An epoch's snapshot: its seed and its eligible nodes with their stake. */
  snapshot(epoch: bigint): EpochView | undefined
}

/**
 * What a coalition knows of each task's seats before it executes: the ranking every node computes
 * (`rankTask` over the epoch's seed and stake snapshot), cut at the policy's k. Undefined when the
 * spec or its epoch's snapshot is not known.
 */
export function createPublicSeats({ specOf, snapshot }: PublicSeatsParameters): (taskId: Hex) => TaskSeats | undefined {
  return (taskId) => {
    const spec = specOf(taskId)
    const view = spec === undefined ? undefined : snapshot(spec.epoch)
    if (spec === undefined || view === undefined) return undefined
    const seats = rankTask({ view, taskId, spec, backups: 0 }).slice(0, executorsOf(spec.policy))
    return { seats, quorum: spec.policy.kind === 'replicate' ? spec.policy.quorum : seats.length }
  }
}
