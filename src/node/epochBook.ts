import { SpecRejectedError } from '../core/errors.ts'
import type { DecidedTask } from '../core/batchCheck.ts'
import type { Address, Hex, TaskSpec } from '../core/types.ts'
import type { ChainView, EpochView } from '../ports/node.ts'
import type { Clock } from './clock.ts'

export interface CreateEpochBookParameters {
  chain: Pick<ChainView, 'epoch' | 'snapshot'>
  clock: Pick<Clock, 'now'>
  /** How long after a new epoch opens specs for the previous one are still accepted (ms). */
  epochGraceMs: number
}

/**
 * What a node keeps per epoch until the epoch's batch is settled: which epochs still take specs,
 * the escrow its accepted tasks reserve, and the decided tasks it expects the batch to settle.
 */
export interface EpochBook {
  /**
   * The snapshot a spec's epoch is ranked and checked with. New specs must name the current
   * epoch, or the previous one within `epochGraceMs` of the boundary and before its batch is
   * built (a spec gossiped across the boundary); `resuming` accepts any epoch still known.
   * Throws a `SpecRejectedError` (`SPEC_WRONG_EPOCH`) otherwise.
   */
  epochOf(spec: TaskSpec, resuming: boolean): EpochView
  /** Fees reserved for `requester` by accepted tasks of every epoch not settled yet. */
  reservedBy(requester: Address): bigint
  /** Reserves an accepted task's fee from its requester's escrow, in the task's epoch. */
  reserve(epoch: bigint, requester: Address, fee: bigint): void
  /**
   * Records a decided task, with its certificate, for its epoch's batch; an unresolved task is not
   * charged, so its fee is released.
   */
  recordDecided(epoch: bigint, task: DecidedTask): void
  /** Tasks accepted in `epoch` and decided so far. */
  decidedTasks(epoch: bigint): readonly DecidedTask[]
  /**
   * Replaces a decided task of `epoch` by what `revise` makes of it (evidence that came late); false
   * when the task is not decided here in that epoch, or `revise` returns undefined.
   */
  reviseDecided(epoch: bigint, taskId: Hex, revise: (task: DecidedTask) => DecidedTask | undefined): boolean
  /** Refuses new specs for `epoch` from now on. */
  closeEpoch(epoch: bigint): void
  /** Drops what was kept for `epoch` once its batch is settled on-chain. */
  forgetEpoch(epoch: bigint): void
  /** Fees reserved in all, over every epoch not settled yet. */
  feesReserved(): bigint
}

export function createEpochBook({ chain, clock, epochGraceMs }: CreateEpochBookParameters): EpochBook {
  /** Epochs whose batch is being built or settled: specs for them are refused. */
  const closedEpochs = new Set<bigint>()
  /** The newest epoch seen, and when this node first saw it (local time). */
  let newest = { epoch: -1n, seenAt: 0 }
  /** Fees reserved per requester, by epoch: released when that epoch is settled or a task is unresolved. */
  const reserved = new Map<bigint, Map<Address, bigint>>()
  let feesReserved = 0n
  const settled = new Map<bigint, DecidedTask[]>()
  /** Where each decided task sits in its epoch's list, by task id. */
  const positions = new Map<bigint, Map<Hex, number>>()

  const reserve = (epoch: bigint, requester: Address, amount: bigint): void => {
    const byRequester = reserved.get(epoch) ?? new Map<Address, bigint>()
    byRequester.set(requester, (byRequester.get(requester) ?? 0n) + amount)
    reserved.set(epoch, byRequester)
    feesReserved += amount
  }

  return {
    epochOf(spec, resuming) {
      const current = chain.epoch()
      if (current !== newest.epoch) newest = { epoch: current, seenAt: clock.now() }
      const view = chain.snapshot(spec.epoch)
      const inGrace = spec.epoch + 1n === current && clock.now() - newest.seenAt < epochGraceMs
      const open = !closedEpochs.has(spec.epoch) && (spec.epoch === current || inGrace)
      if (view === undefined || !(open || resuming)) {
        throw new SpecRejectedError('SPEC_WRONG_EPOCH', `The spec names epoch ${spec.epoch}, which this node does not accept now.`, {
          details: { epoch: spec.epoch, current },
          hint: `Name the current epoch (${current}), as GET /v1/status reports it.`,
        })
      }
      return view
    },
    reservedBy(requester) {
      let sum = 0n
      for (const byRequester of reserved.values()) sum += byRequester.get(requester) ?? 0n
      return sum
    },
    reserve,
    recordDecided(epoch, task) {
      const { requester, fee } = task.certificate.spec.message
      if (task.verdict.outcome === 'unresolved') reserve(epoch, requester, -fee)
      const list = settled.get(epoch) ?? []
      const index = positions.get(epoch) ?? new Map<Hex, number>()
      index.set(task.verdict.taskId, list.length)
      list.push(task)
      settled.set(epoch, list)
      positions.set(epoch, index)
    },
    decidedTasks: (epoch) => settled.get(epoch) ?? [],
    reviseDecided(epoch, taskId, revise) {
      const at = positions.get(epoch)?.get(taskId)
      const list = settled.get(epoch)
      if (at === undefined || list === undefined) return false
      const revised = revise(list[at]!)
      if (revised === undefined) return false
      list[at] = revised
      return true
    },
    closeEpoch(epoch) {
      closedEpochs.add(epoch)
    },
    forgetEpoch(epoch) {
      closedEpochs.add(epoch)
      for (const old of closedEpochs) if (old + 2n < epoch) closedEpochs.delete(old)
      for (const amount of reserved.get(epoch)?.values() ?? []) feesReserved -= amount
      reserved.delete(epoch)
      settled.delete(epoch)
      positions.delete(epoch)
    },
    feesReserved: () => feesReserved,
  }
}
