import { concat, keccak256 } from 'viem'
import type { Hex, Signed, SignedSpec, TaskAnchor, TaskSpec } from './types.ts'

/**
 * Task anchors: a requester fixes its task ids on-chain before their draw blocks.
 *
 * A task's seats are drawn from the hash of the block its spec names (`TaskSpec.drawBlock`), and a
 * requester that waited for that block could otherwise try nonces until the draw seated a coalition
 * it belongs to. So the requester first records, in one transaction, the root of a Merkle tree of
 * the ids of a batch of tasks (`TaskAnchors.anchor(root, count)`), paying the governed minimum fee
 * for each of the `count` leaves, and a task counts only if its id was anchored in a block before
 * its draw block. Its spec then travels with an anchor proof: the root, the leaf's index and the
 * siblings from the leaf up.
 *
 * The tree is positional, so that a root anchored with `count` leaves proves at most `count` ids:
 * the proof of leaf `index` has exactly `depthOf(count)` siblings, the index's bits say at each
 * level which side the sibling is on, and only indices below `count` are accepted. (A sorted-pair
 * tree would let one root prove any number of ids for the price of one leaf.) A leaf is
 * `keccak256(0x00 ‖ taskId)` and an inner node `keccak256(left ‖ right)`, 33 bytes against 64, so
 * no inner node passes for a leaf. Positions past `count` up to the next power of two hold the zero
 * hash and cannot be proven.
 *
 * Pure: the anchor's block and count come from the chain (`ChainView.anchorOf`).
 */

/** The most leaves one anchor may hold (`TaskAnchors.MAX_COUNT`): a proof has at most 20 siblings. */
export const MAX_ANCHOR_LEAVES = 1 << 20
/** The most siblings an anchor proof has: the depth of a tree of `MAX_ANCHOR_LEAVES` leaves. */
export const MAX_ANCHOR_DEPTH = 20

const ZERO_HASH: Hex = `0x${'0'.repeat(64)}`

/** The leaf of a task id: `keccak256(0x00 ‖ taskId)`. */
export function anchorLeaf(taskId: Hex): Hex {
  return keccak256(concat(['0x00', taskId]))
}

/** The number of siblings in a proof of a tree of `count` leaves: ⌈log₂ count⌉. */
export function depthOf(count: number): number {
  let depth = 0
  while (1 << depth < count) depth++
  return depth
}

/** An anchor root and, for each task id in the order given, its proof. */
export interface AnchoredBatch {
  root: Hex
  count: number
  /** Each id's anchor proof, in the order of the ids given. */
  anchors: TaskAnchor[]
}

/** Builds the anchor tree of `taskIds` (at least one, at most `MAX_ANCHOR_LEAVES`). */
export function buildAnchorTree(taskIds: readonly Hex[]): AnchoredBatch {
  const count = taskIds.length
  if (count === 0 || count > MAX_ANCHOR_LEAVES) throw new RangeError(`an anchor holds 1 to ${MAX_ANCHOR_LEAVES} task ids, not ${count}`)
  const depth = depthOf(count)
  const levels: Hex[][] = [taskIds.map(anchorLeaf)]
  for (let level = 0; level < depth; level++) {
    const below = levels[level]!
    const above: Hex[] = []
    for (let i = 0; i < below.length; i += 2) above.push(keccak256(concat([below[i]!, below[i + 1] ?? ZERO_HASH])))
    levels.push(above)
  }
  const root = levels[depth]![0]!
  const anchors = taskIds.map((_, index) => ({
    root,
    index,
    proof: levels.slice(0, depth).map((nodes, level) => nodes[(index >> level) ^ 1] ?? ZERO_HASH),
  }))
  return { root, count, anchors }
}

/** Whether `anchor` proves `taskId` as leaf `anchor.index` of a root anchored with `count` leaves. */
export function provesTaskId(taskId: Hex, anchor: TaskAnchor, count: number): boolean {
  if (!Number.isSafeInteger(anchor.index) || anchor.index < 0 || anchor.index >= count) return false
  if (anchor.proof.length !== depthOf(count)) return false
  let node = anchorLeaf(taskId)
  anchor.proof.forEach((sibling, level) => {
    node = (anchor.index >> level) & 1 ? keccak256(concat([sibling, node])) : keccak256(concat([node, sibling]))
  })
  return node === anchor.root.toLowerCase()
}

/** What the chain holds of one anchor (`TaskAnchors.anchorOf`). */
export interface AnchorRecord {
  /** The block the anchor was recorded in. */
  block: bigint
  /** How many leaves were anchored (and paid for). */
  count: number
}

export type AnchorRejectionCode =
  /** The spec travels without an anchor proof. */
  | 'ANCHOR_MISSING'
  /** The requester anchored no such root (or not yet, where the draw block is still to come). */
  | 'ANCHOR_UNKNOWN'
  /** The root was anchored in the draw block or after it: the requester could have known the draw. */
  | 'ANCHOR_TOO_LATE'
  /** The proof does not lead from the task id to the root, or names a leaf past the anchored count. */
  | 'ANCHOR_BAD_PROOF'

export interface AnchorRejection {
  kind: 'reject'
  code: AnchorRejectionCode
  message: string
}

export type AnchorCheck = { kind: 'anchored'; record: AnchorRecord } | AnchorRejection

/** The check of a spec that travels without an anchor proof. */
export const MISSING_ANCHOR: AnchorRejection = { kind: 'reject', code: 'ANCHOR_MISSING', message: 'The spec carries no anchor proof.' }

/**
 * Whether a task's id was fixed on-chain before its draw: `record` is what the chain holds of the
 * spec's anchor root for its requester (undefined: nothing). Data, not exceptions: the node drops
 * such a task, a certificate checker refuses it.
 */
export function checkTaskAnchor(taskId: Hex, spec: Pick<TaskSpec, 'drawBlock'>, anchor: TaskAnchor | undefined, record: AnchorRecord | undefined): AnchorCheck {
  if (anchor === undefined) return MISSING_ANCHOR
  if (record === undefined) return { kind: 'reject', code: 'ANCHOR_UNKNOWN', message: `The requester has not anchored root ${anchor.root}.` }
  if (record.block >= spec.drawBlock) {
    return { kind: 'reject', code: 'ANCHOR_TOO_LATE', message: `The root was anchored in block ${record.block}, not before the draw block ${spec.drawBlock}.` }
  }
  if (!provesTaskId(taskId, anchor, record.count)) {
    return { kind: 'reject', code: 'ANCHOR_BAD_PROOF', message: `The anchor proof does not prove the task id as one of the ${record.count} leaves anchored.` }
  }
  return { kind: 'anchored', record }
}

/** `signed` with the anchor proof of a root that holds its id alone (`buildAnchorTree([taskId])`): the root is the id's leaf. */
export function anchorAlone(signed: Signed<TaskSpec>, taskId: Hex): SignedSpec {
  return { ...signed, anchor: buildAnchorTree([taskId]).anchors[0]! }
}
