import type { AnchorRecord } from '../../core/taskAnchor.ts'
import type { Address, Hex } from '../../core/types.ts'
import type { AnchorView, BlockView } from '../../ports/node.ts'

/**
 * Anchors for a network without a chain, the companion of `createInstantBlocks`: every root counts
 * as anchored in block 0 with one leaf, so a spec passes with the single-leaf anchor of its own id
 * (`buildAnchorTree([taskId])`). Anyone can anchor anything, so a requester could grind its seats:
 * single-process networks and tests that are not about anchors use it; `createAnchorRegistry` and a
 * real chain record what was anchored, when.
 */
export function createInstantAnchors(): AnchorView {
  return { anchorOf: async () => ({ block: 0n, count: 1 }) }
}

export interface AnchorRegistry extends AnchorView {
  /** Records `requester`'s anchor of `root` with `count` leaves in the newest block; an anchor is write-once. */
  anchor(requester: Address, root: Hex, count: number): AnchorRecord
}

/** Anchors recorded in memory, each in the head block of `blocks` when it was made (`TaskAnchors.anchor`). */
export function createAnchorRegistry(blocks: Pick<BlockView, 'head'>): AnchorRegistry {
  const anchors = new Map<string, AnchorRecord>()
  const keyOf = (requester: Address, root: Hex) => `${requester.toLowerCase()}:${root.toLowerCase()}`
  return {
    anchorOf: async (requester, root) => anchors.get(keyOf(requester, root)),
    anchor(requester, root, count) {
      const key = keyOf(requester, root)
      const existing = anchors.get(key)
      if (existing !== undefined) throw new Error(`root ${root} is already anchored by ${requester} (block ${existing.block})`)
      const record = { block: blocks.head(), count }
      anchors.set(key, record)
      return record
    },
  }
}
