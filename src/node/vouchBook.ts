import type { BatchObjection, CertifiedTask } from '../core/batchCheck.ts'
import { hashBatchVouch } from '../core/eip712.ts'
import type { EpochProposal } from '../core/epochProposal.ts'
import type { ProtocolMessage } from '../core/messages.ts'
import { signDigest } from '../core/signing.ts'
import type { Signer } from '../core/signing.ts'
import type { Address, BatchVouch, Hex, ProtocolDomain, Signed } from '../core/types.ts'
import { encodeVouchedTasks, isVouchedFor, seatedRoot } from '../core/vouch.ts'
import type { VeritaskNode } from './createNode.ts'

/** The most backup-seated tasks one vouch names (its bitmap's 1,536 bytes, `BatchVouch`). */
export const MAX_VOUCHED_TASKS = 12_288

/** A checked proposal a member holds back until the tasks it never saw are vouched for. */
export interface HeldBack {
  epoch: bigint
  round: number
  digest: Hex
  cid: Hex
  proposal: EpochProposal
  /** Every task of the proposal, checked: the batch the member signs is built from them. */
  tasks: CertifiedTask[]
  /** The proposal's backup-seated tasks, which vouches index (`backupSeated`). */
  seated: Hex[]
  /** The backup-seated tasks whose specs this member never saw (`unknown-task`). */
  unknown: Hex[]
}

export interface CreateVouchBookParameters {
  account: Signer
  /** The tasks this member decided itself: it vouches only for those, whose commits it watched. */
  node: Pick<VeritaskNode, 'decidedTasks'>
  domain: ProtocolDomain
  /** Sends a message on the batch topic. */
  publish(message: ProtocolMessage): Promise<void>
  /** The committee's weight by member for `epoch`. */
  weightsOf(epoch: bigint): Promise<ReadonlyMap<Address, bigint>>
}

export interface VouchBook {
  /** As member: vouches for a proposal's backup-seated tasks that it decided itself and to which it objects to nothing. */
  vouch(parameters: { epoch: bigint; round: number; digest: Hex; seated: readonly Hex[]; objections: readonly BatchObjection[] }): Promise<HeldBack | undefined>
  /** A member's vouch (its signature checked). Returns the proposal it completes, if one was held back for it. */
  take(signed: Signed<BatchVouch>): Promise<HeldBack | undefined>
  /** Holds a proposal back; returns it at once if the vouches it needs are already here. */
  holdBack(proposal: HeldBack): Promise<HeldBack | undefined>
  forget(epoch: bigint): void
}

/**
 * Vouches (`BatchVouch`, core/vouch.ts): a member that never saw a backup-seated task's spec signs a
 * proposal once members holding more than a third of the committee weight vouch for the task.
 * A held-back proposal is returned once, when it is complete, for the settler to sign.
 */
export function createVouchBook({ account, node, domain, publish, weightsOf }: CreateVouchBookParameters): VouchBook {
  /** Members' vouches by epoch, digest and member. */
  const vouches = new Map<bigint, Map<Hex, Map<Address, { seated: Hex; tasks: Hex }>>>()
  const heldBack = new Map<Hex, HeldBack>()

  /** The held-back proposal of `digest` if its unknown tasks are now vouched for (taken off the list). */
  async function completed(epoch: bigint, digest: Hex): Promise<HeldBack | undefined> {
    const held = heldBack.get(digest)
    if (held === undefined) return undefined
    const weights = await weightsOf(epoch)
    if (!isVouchedFor({ seated: held.seated, unknown: held.unknown, vouches: vouches.get(epoch)?.get(digest) ?? new Map(), weights })) return undefined
    if (heldBack.get(digest) !== held) return undefined
    heldBack.delete(digest)
    return held
  }

  async function take({ message: { epoch, digest, seated, tasks }, signer }: Signed<BatchVouch>): Promise<HeldBack | undefined> {
    const byDigest = vouches.get(epoch) ?? new Map<Hex, Map<Address, { seated: Hex; tasks: Hex }>>()
    byDigest.set(digest, (byDigest.get(digest) ?? new Map<Address, { seated: Hex; tasks: Hex }>()).set(signer, { seated, tasks }))
    vouches.set(epoch, byDigest)
    return completed(epoch, digest)
  }

  return {
    async vouch({ epoch, round, digest, seated, objections }) {
      const objected = new Set(objections.map((o) => o.taskId))
      const decided = new Set(node.decidedTasks(epoch).map((t) => t.verdict.taskId))
      const vouched = new Set(seated.filter((taskId) => !objected.has(taskId) && decided.has(taskId)))
      if (vouched.size === 0 || seated.length > MAX_VOUCHED_TASKS) return undefined
      const message: BatchVouch = { epoch, round, digest, seated: seatedRoot(seated), tasks: encodeVouchedTasks(seated, vouched) }
      const signed = await signDigest(account, message, hashBatchVouch(message, domain))
      await publish({ type: 'vouch', ...signed })
      return take(signed)
    },
    take,
    async holdBack(proposal) {
      heldBack.set(proposal.digest, proposal)
      return completed(proposal.epoch, proposal.digest)
    },
    forget(epoch) {
      vouches.delete(epoch)
      for (const [digest, held] of heldBack) if (held.epoch === epoch) heldBack.delete(digest)
    },
  }
}
