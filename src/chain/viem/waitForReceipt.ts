import type { Hex, PublicClient, TransactionReceipt } from 'viem'
import { VeritaskError } from '../../core/errors.ts'

export interface WaitForReceiptOptions {
  /** Give up after this long, in ms (default 60 s). */
  timeoutMs?: number
  /** Time between polls, in ms (default 20). */
  intervalMs?: number
}

/**
 * Polls `eth_getTransactionReceipt` until the transaction is mined. viem's block-watching wait can
 * miss a receipt on an automining dev chain — the block that holds the transaction appears before
 * the receipt can be read, and no later block may ever come — and then waits forever. This asks
 * for the receipt itself, and fails with a clear error instead of hanging.
 */
export async function waitForReceipt(
  publicClient: PublicClient,
  hash: Hex,
  { timeoutMs = 60_000, intervalMs = 20 }: WaitForReceiptOptions = {},
): Promise<TransactionReceipt> {
  const started = Date.now()
  for (;;) {
    const receipt = await publicClient.getTransactionReceipt({ hash }).catch(() => null)
    if (receipt !== null) return receipt
    if (Date.now() - started > timeoutMs) {
      throw new VeritaskError('CHAIN_TX_TIMEOUT', `Transaction ${hash} was not mined within ${timeoutMs} ms.`, {
        details: { hash },
        hint: 'Is the chain producing blocks? A dev chain without automining needs blocks mined.',
      })
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
