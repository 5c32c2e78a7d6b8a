import { SpecRejectedError } from './errors.ts'
import type { Address, Hex } from './types.ts'

export interface AssertEscrowCoversParameters {
  taskId: Hex
  requester: Address
  fee: bigint
  /** The requester's escrow balance on the chain at the epoch snapshot. */
  balance: bigint
  /** Fees of the requester's open tasks this node has already accepted. */
  reserved: bigint
}

/**
 * A node accepts a task only if the requester's escrow, less what its open tasks already reserve,
 * covers the fee. Every node applies the same rule to the same chain balance and the same gossip,
 * so a requester cannot over-commit its escrow across nodes for long.
 */
export function assertEscrowCovers({ taskId, requester, fee, balance, reserved }: AssertEscrowCoversParameters): void {
  if (balance - reserved < fee) {
    throw new SpecRejectedError('SPEC_INSUFFICIENT_ESCROW', 'The requester’s escrow does not cover the task fee.', {
      details: { taskId, requester, fee, balance, reserved },
      hint: 'Deposit more into escrow, or wait until open tasks settle.',
    })
  }
}
