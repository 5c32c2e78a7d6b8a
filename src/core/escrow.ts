import { SpecRejectedError } from './errors.ts'
import type { Address, Hex } from './types.ts'

/**
 * The spending rule, one for a node's acceptance and a batch's charges (docs/economics.md):
 *
 * - a requester's escrow counts as it stood at the epoch's snapshot block: a deposit made later
 *   counts from the next epoch whose snapshot follows it;
 * - a pending withdrawal is not spendable;
 * - an epoch charges a requester at most that, less what earlier epochs charged it.
 *
 * Escrow pays a withdrawal only once an epoch whose snapshot saw the request has settled, so every
 * charge made while the request was invisible is in the root it is checked against.
 */

/** A requester's escrow as the chain holds it at one block. */
export interface EscrowAccount {
  /** `Escrow.depositOf`: everything ever deposited. */
  deposited: bigint
  /** `Escrow.withdrawnOf`: everything withdrawn. */
  withdrawn: bigint
  /** `Escrow.pendingWithdrawalOf`: the amount of the pending request, 0 when none. */
  pendingWithdrawal: bigint
}

/** What epochs with this snapshot may charge in all, before earlier charges: deposits − withdrawals − pending. */
export function fundedOf({ deposited, withdrawn, pendingWithdrawal }: EscrowAccount): bigint {
  const funded = deposited - withdrawn - pendingWithdrawal
  return funded > 0n ? funded : 0n
}

/** What an epoch may still charge a requester: its funding at the snapshot less earlier epochs' charges. */
export function chargeableOf(funded: bigint, charged: bigint): bigint {
  const left = funded - charged
  return left > 0n ? left : 0n
}

export interface AssertEscrowCoversParameters {
  taskId: Hex
  requester: Address
  fee: bigint
  /**
   * What the requester can still be charged at the epoch's snapshot: `chargeableOf(fundedOf(...), charged)`,
   * as the chain view's `escrowBalance` reports it.
   */
  balance: bigint
  /** Fees of the requester's open tasks this node has already accepted. */
  reserved: bigint
}

/**
 * A node accepts a task only if what the requester can be charged at the epoch's snapshot, less
 * what its open tasks already reserve, covers the fee. Every node applies the same rule to the
 * same snapshot and the same gossip, and the batch charges by the same rule, so a requester cannot
 * over-commit its escrow across nodes for long, nor spend what it asked to withdraw.
 */
export function assertEscrowCovers({ taskId, requester, fee, balance, reserved }: AssertEscrowCoversParameters): void {
  if (balance - reserved < fee) {
    throw new SpecRejectedError('SPEC_INSUFFICIENT_ESCROW', 'The requester’s escrow at the epoch snapshot does not cover the task fee.', {
      details: { taskId, requester, fee, balance, reserved },
      hint:
        'Escrow counts as it stood at the epoch’s snapshot block, less any pending withdrawal: a deposit made since counts from the next epoch. ' +
        'Deposit more and submit in the next epoch, or wait until open tasks settle.',
    })
  }
}
