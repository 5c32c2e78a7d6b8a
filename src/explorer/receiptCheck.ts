import { isValidReceipt, parseReceipt } from '../core/receipt.ts'
import type { Hex } from '../core/types.ts'

export type ReceiptCheck = { valid: true; root: Hex } | { valid: false; reason: string }

/**
 * Checks a receipt in the browser: its Merkle proof must lead from its outcome leaf to the outcomes
 * root the settlement contract stored for its epoch, read from the chain through the node — not to
 * the root the receipt itself names.
 */
export async function checkReceipt(json: unknown, readRoot: (epoch: bigint) => Promise<Hex | null>): Promise<ReceiptCheck> {
  let receipt
  try {
    receipt = parseReceipt(json)
  } catch {
    return { valid: false, reason: 'not a receipt (its fields do not parse)' }
  }
  const root = await readRoot(receipt.epoch)
  if (root === null) return { valid: false, reason: `epoch ${receipt.epoch} has no outcomes root on-chain` }
  if (!isValidReceipt(receipt, root)) return { valid: false, reason: 'its proof does not lead to the on-chain outcomes root' }
  return { valid: true, root }
}
