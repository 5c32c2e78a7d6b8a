import { defaultParams } from '../core/params.ts'
import { arbitrationSeats, auditRateOf, executorsOf, rankTask } from '../core/task.ts'
import type { Address, Hex, TaskSpec } from '../core/types.ts'
import type { EpochView } from '../ports/node.ts'

/**
 * A task's places in the public ranking, best first: its executor seats (the first k ranked
 * nodes), the verifier's place right after them, and the arbiters a dispute among those seats
 * would draw. Plus the agreeing reveals its policy asks for and its audit rate.
 */
export interface TaskSeats {
  seats: readonly Address[]
  quorum: number
  /** The designated verifier while every seat commits (the node ranked k-th from zero); none without an audit rate. */
  verifier?: Address
  /** The arbitration seats of a dispute among all the seats (`arbitrationSeats`): a node once per seat it holds. */
  arbiters?: readonly Address[]
  /** The policy's audit rate (ppm): how often the verifier's draw audits unanimous seats. */
  auditPpm?: number
}

/** Where a task's seats come from: public data only, so that any node, adversaries included, can compute them. */
export interface PublicSeatsParameters {
  /** A task's signed spec, as the nodes hold it (undefined when not known). */
  specOf(taskId: Hex): TaskSpec | undefined
  /** An epoch's snapshot: its seed and its eligible nodes with their stake. */
  snapshot(epoch: bigint): EpochView | undefined
  /** A block's hash once mined (a spec's draw block): undefined before. */
  blockHash(block: bigint): Hex | undefined
  /** Arbiters per dispute (`ProtocolParams.arbiters`); the protocol default when absent. */
  arbiters?: number
}

/**
 * What a coalition knows of each task's places before it executes: the ranking every node
 * computes (`rankTask` over the epoch's seed, the draw block's hash and the stake snapshot), cut
 * at the policy's k for the seats, the next place for the verifier, and the arbitration's seats
 * of a dispute among every seat (`arbitrationSeats`). Undefined when the spec, its
 * epoch's snapshot or its draw block is not known yet.
 */
export function createPublicSeats({ specOf, snapshot, blockHash, arbiters = defaultParams.arbiters }: PublicSeatsParameters): (taskId: Hex) => TaskSeats | undefined {
  return (taskId) => {
    const spec = specOf(taskId)
    const view = spec === undefined ? undefined : snapshot(spec.epoch)
    const draw = spec === undefined ? undefined : blockHash(spec.drawBlock)
    if (spec === undefined || view === undefined || draw === undefined) return undefined
    const k = executorsOf(spec.policy)
    const auditPpm = auditRateOf(spec.policy)
    const ranking = rankTask({ view, taskId, spec, draw, backups: 0 })
    const seats = ranking.slice(0, k)
    const verifier = auditPpm > 0 ? ranking[k] : undefined
    return {
      seats,
      quorum: spec.policy.kind === 'replicate' ? spec.policy.quorum : seats.length,
      ...(verifier === undefined ? {} : { verifier }),
      arbiters: arbitrationSeats({ view, taskId, spec, draw, count: arbiters }),
      auditPpm,
    }
  }
}
