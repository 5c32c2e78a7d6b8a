import { getAddress } from 'viem'
import { verifyReceiptOnChain } from '../../chain/viem/createSettlementClient.ts'
import { isValidReceipt } from '../../core/receipt.ts'
import type { Receipt } from '../../core/receipt.ts'
import type { Hex } from '../../core/types.ts'
import { onChain } from '../createVeritaskClient.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import type { ChainUnreachableError } from '../errors.ts'

export interface VerifyReceiptParameters {
  receipt: Receipt
  /** The task id the receipt must be for; any receipt's own id when left out. */
  taskId?: Hex
  /** The result hash the receipt must prove (e.g. of bytes you hold); any when left out. */
  resultHash?: Hex
}

export interface VerifyReceiptReturnType {
  /** The proof leads from the leaf to the receipt's outcomes root. */
  offChain: boolean
  /** `Settlement.verifyReceipt` at this client's settlement contract accepts the leaf and proof for the epoch. */
  onChain: boolean
  /** The receipt names this client's chain and settlement contract, and the task and result asked for. */
  matches: boolean
  /** All three. */
  valid: boolean
}

export type VerifyReceiptErrorType = ChainUnreachableError

/**
 * Checks a receipt against the chain: that its outcome leaf `(taskId, resultHash, outcome,
 * executors)` is in the outcomes root the settlement contract stored for its epoch. A receipt
 * with any field changed — result, executors, outcome, epoch, proof — is not valid. The on-chain
 * check uses the client's own settlement contract, never the one the receipt names.
 *
 * @example
 * ```ts
 * const { valid } = await client.verifyReceipt({ receipt, resultHash: keccak256(output) })
 * ```
 */
export async function verifyReceipt(
  client: VeritaskClientBase,
  { receipt, taskId, resultHash }: VerifyReceiptParameters,
): Promise<VerifyReceiptReturnType> {
  const { chainId, settlement } = await client.chain()
  const matches =
    receipt.chainId === chainId &&
    getAddress(receipt.settlement) === settlement &&
    (taskId === undefined || taskId.toLowerCase() === receipt.taskId.toLowerCase()) &&
    (resultHash === undefined || resultHash.toLowerCase() === receipt.resultHash.toLowerCase())
  const offChain = isValidReceipt(receipt)
  const onChainValid = await onChain(client.rpcUrl, 'call Settlement.verifyReceipt', () =>
    verifyReceiptOnChain(client.publicClient, { ...receipt, settlement }),
  )
  return { offChain, onChain: onChainValid, matches, valid: offChain && onChainValid && matches }
}
