import type { Hex } from 'viem'
import { EscrowAbi } from '../../chain/generated/contracts.ts'
import { onChain, sendOnChain } from '../createVeritaskClient.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import type { ChainUnreachableError } from '../errors.ts'

export interface RequestWithdrawalParameters {
  /** Fee tokens to withdraw, in base units: at most deposits less withdrawals. */
  amount: bigint
}

export interface RequestWithdrawalReturnType {
  /** The `Escrow.requestWithdrawal` transaction. */
  hash: Hex
  amount: bigint
  /** The block the request was mined in: from the first epoch snapshot at or after it, nodes no longer let the amount be spent. */
  requestedAtBlock: bigint
  /** The first block `withdraw` may pay it in, if an epoch whose snapshot follows the request has settled by then. */
  availableAtBlock: bigint
}

export type RequestWithdrawalErrorType = ChainUnreachableError | RangeError

/**
 * Asks to withdraw `amount` of the requester's escrow, replacing any earlier request. The amount
 * stops being spendable from the next epoch snapshot; `withdraw` pays it, less whatever tasks
 * accepted before that snapshot were charged, once that epoch has settled and the delay has passed.
 *
 * @example
 * ```ts
 * await client.requestWithdrawal({ amount: 10n ** 18n })
 * const { amount } = await client.withdraw({ wait: true })
 * ```
 */
export async function requestWithdrawal(
  client: VeritaskClientBase,
  { amount }: RequestWithdrawalParameters,
): Promise<RequestWithdrawalReturnType> {
  if (amount <= 0n) throw new RangeError(`withdrawal amount must be positive, got ${amount}`)
  const { escrow } = await client.chain()
  const wallet = await client.wallet()
  const hash = await sendOnChain(client, 'request a withdrawal from escrow', () =>
    wallet.writeContract({ address: escrow, abi: EscrowAbi, functionName: 'requestWithdrawal', args: [amount] }),
  )
  const [, requestedAtBlock, availableAtBlock] = await onChain(client.rpcUrl, 'read Escrow.pendingWithdrawalOf', () =>
    client.publicClient.readContract({ address: escrow, abi: EscrowAbi, functionName: 'pendingWithdrawalOf', args: [client.account.address] }),
  )
  return { hash, amount, requestedAtBlock, availableAtBlock }
}
