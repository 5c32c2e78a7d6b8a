import { createMerkleTree, verifyMerkleProof } from '../core/merkleTree.ts'
import type { MerkleTree } from '../core/merkleTree.ts'
import type { Hex } from '../core/types.ts'

/**
 * The Merkle tree of a job's chunk outputs, in OpenZeppelin's standard format (double-hashed
 * `abi.encode` leaves, sorted pairs: `MerkleProof.verify` checks it on-chain). One leaf per chunk,
 * `(index, inputCid, resultHash)`: it depends only on the chunks and their results, so anyone who
 * recomputes the chunks locally arrives at the same root, and a chunk's leaf plus its task
 * receipt proves that chunk's output was verified.
 */
export const chunkOutputLeafEncoding = ['uint256', 'bytes32', 'bytes32'] as const

export type ChunkOutputLeaf = [index: bigint, input: Hex, resultHash: Hex]

export interface ChunkOutput {
  index: number
  /** Content id of the chunk's input bytes. */
  input: Hex
  /** Content id of the verified output. */
  resultHash: Hex
}

export function chunkOutputLeaf({ index, input, resultHash }: ChunkOutput): ChunkOutputLeaf {
  return [BigInt(index), input, resultHash]
}

/** The tree over every chunk's output; throws on an empty list (a job has at least one chunk). */
export function buildChunkOutputTree(outputs: readonly ChunkOutput[]): MerkleTree<ChunkOutputLeaf> {
  if (outputs.length === 0) throw new RangeError('a chunk output tree needs at least one chunk')
  return createMerkleTree(outputs.map(chunkOutputLeaf), chunkOutputLeafEncoding)
}

/** Whether `output` is a leaf of the tree with root `root`, by its proof. */
export function isChunkOutputInRoot(root: Hex, output: ChunkOutput, proof: readonly Hex[]): boolean {
  try {
    return verifyMerkleProof(root, chunkOutputLeafEncoding, chunkOutputLeaf(output), proof)
  } catch {
    return false
  }
}

/**
 * The input of a reduce task: each chunk output as `[u32 little-endian length][bytes]`, in chunk
 * order. Framing keeps outputs apart whatever bytes they hold; a reduce program reads the frames
 * until the input ends (see examples/word-frequencies for one).
 */
export function frameOutputs(outputs: readonly Uint8Array[]): Uint8Array {
  const total = outputs.reduce((sum, o) => sum + 4 + o.length, 0)
  const framed = new Uint8Array(total)
  const view = new DataView(framed.buffer)
  let offset = 0
  for (const output of outputs) {
    view.setUint32(offset, output.length, true)
    framed.set(output, offset + 4)
    offset += 4 + output.length
  }
  return framed
}

/**
 * Groups consecutive outputs so that each group's framed size stays within `maxInputBytes`: the
 * reduce runs once per group, then over the groups' outputs, until one output is left (the
 * reduce must be associative, like merging word counts). Returns index ranges `[start, end)`.
 * Throws when a single framed output alone is over the limit.
 */
export function groupForReduce(sizes: readonly number[], maxInputBytes: number): Array<[number, number]> {
  const groups: Array<[number, number]> = []
  let start = 0
  let bytes = 0
  for (const [i, size] of sizes.entries()) {
    const framed = 4 + size
    if (framed > maxInputBytes) throw new RangeError(`output ${i} (${size} bytes) alone exceeds the reduce input limit of ${maxInputBytes} bytes`)
    if (bytes + framed > maxInputBytes) {
      groups.push([start, i])
      start = i
      bytes = 0
    }
    bytes += framed
  }
  if (start < sizes.length) groups.push([start, sizes.length])
  return groups
}
