import { getAddress } from 'viem'
import { z } from 'zod'
import { outcomeLeafEncoding, outcomeLeafOf } from './epochBatch.ts'
import type { OutcomeLeaf } from './epochBatch.ts'
import { outcomeCode } from './eip712.ts'
import { verifyMerkleProof } from './merkleTree.ts'
import type { MerkleTree } from './merkleTree.ts'
import type { Address, Hex, Verdict } from './types.ts'

/**
 * Proof that a task's outcome was settled: its outcome leaf, the Merkle proof to the epoch's
 * outcomes root, and where that root lives on-chain. Anyone can check it off-chain against the
 * root, or on-chain with `Settlement.verifyReceipt(epoch, ...leaf, proof)`.
 */
export interface Receipt {
  taskId: Hex
  epoch: bigint
  outcome: Verdict['outcome']
  resultHash: Hex
  executors: Address[]
  proof: Hex[]
  outcomesRoot: Hex
  chainId: number
  settlement: Address
}

export function buildReceipt(parameters: {
  verdict: Verdict
  epoch: bigint
  tree: MerkleTree<OutcomeLeaf>
  chainId: number
  settlement: Address
}): Receipt {
  const { verdict, epoch, tree, chainId, settlement } = parameters
  return {
    taskId: verdict.taskId,
    epoch,
    outcome: verdict.outcome,
    resultHash: verdict.resultHash,
    executors: verdict.executors,
    proof: tree.getProof(outcomeLeafOf(verdict)),
    outcomesRoot: tree.root,
    chainId,
    settlement,
  }
}

/** The leaf a receipt claims, in `verifyReceipt`'s argument order. */
export function receiptLeaf(receipt: Receipt): OutcomeLeaf {
  return [receipt.taskId, receipt.resultHash, outcomeCode[receipt.outcome], receipt.executors]
}

/** Checks a receipt's proof against the outcomes root it names (off-chain). */
export function isValidReceipt(receipt: Receipt, root: Hex = receipt.outcomesRoot): boolean {
  try {
    return verifyMerkleProof(root, outcomeLeafEncoding, receiptLeaf(receipt), receipt.proof)
  } catch {
    return false
  }
}

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/).transform((s) => s.toLowerCase() as Hex)
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/)
  .transform((s) => getAddress(s))

const receiptSchema = z.strictObject({
  taskId: hex32,
  epoch: z.string().regex(/^\d{1,20}$/).transform(BigInt),
  outcome: z.enum(['verified', 'failed', 'unresolved']),
  resultHash: hex32,
  executors: z.array(address).max(64),
  proof: z.array(hex32).max(64),
  outcomesRoot: hex32,
  chainId: z.number().int().positive(),
  settlement: address,
})

/** JSON with bigints as decimal strings. */
export function receiptToJson(receipt: Receipt): Record<string, unknown> {
  return { ...receipt, epoch: receipt.epoch.toString() }
}

/** Parses a receipt from JSON; throws a `ZodError` describing the first problem. */
export function parseReceipt(json: unknown): Receipt {
  return receiptSchema.parse(json)
}
