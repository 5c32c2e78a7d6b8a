import { MAX_DRAW_LEAD_BLOCKS } from '../core/params.ts'

/**
 * How many blocks past the chain's head, as the requester reads it when it signs, a spec's draw
 * block lies at least. The anchor must land before the draw block, and it lands a block or two
 * after that head (an approval first, or another transaction in between on a dev chain that mines
 * each one); and a node's view of the chain may lag the chain by a few blocks, so the draw block it
 * offers (`GET /v1/status`) may be too close to anchor before.
 */
export const ANCHOR_LEAD_BLOCKS = 3n
/**
 * The most late anchors raise that lead to: half of what nodes take (a draw block up to
 * `MAX_DRAW_LEAD_BLOCKS` past their own head, which may lag the requester's). A node lagging
 * further refuses the spec with `SPEC_DRAW_TOO_FAR`; it is signed again, at `ANCHOR_LEAD_BLOCKS`,
 * once the node had a moment to catch up.
 */
export const MAX_ANCHOR_LEAD_BLOCKS = MAX_DRAW_LEAD_BLOCKS / 2n

/** The draw block a spec to be anchored names: the node's `offered` one, or `lead` past `head` if that is later. */
export function anchoredDrawBlock(offered: bigint, head: bigint, lead: bigint = ANCHOR_LEAD_BLOCKS): bigint {
  return head + lead > offered ? head + lead : offered
}

/** The lead to sign again with after an anchor landed in `block`, at or past `drawBlock`: raised by how late it was. */
export function raiseAnchorLead(lead: bigint, drawBlock: bigint, block: bigint): bigint {
  const raised = lead + block - drawBlock + 1n
  return raised > MAX_ANCHOR_LEAD_BLOCKS ? MAX_ANCHOR_LEAD_BLOCKS : raised
}


/** In-time anchors, each with blocks to spare, after which the lead is lowered by one block. */
const CALM_ANCHORS = 32

/**
 * A requester's anchor lead, learned from its anchors: how many blocks past the chain's head its
 * specs name their draw blocks (`anchoredDrawBlock`). One per requester (per SDK client, per
 * anchorer), since its anchors share one queue and one wallet: under load a spec waits for the
 * anchor transaction under way before its own, and the blocks that takes are what the lead must
 * cover. An anchor that landed in its draw block or later raises it by what it missed
 * (`raiseAnchorLead`, at most `MAX_ANCHOR_LEAD_BLOCKS`); `CALM_ANCHORS` in a row with two blocks or
 * more to spare lower it by one, down to `ANCHOR_LEAD_BLOCKS`.
 */
export interface DrawLead {
  /** Blocks past the head to name the draw block at. */
  blocks(): bigint
  /** Records that a spec naming `drawBlock` was anchored in `block`. */
  observe(drawBlock: bigint, block: bigint): void
  /** Back to `ANCHOR_LEAD_BLOCKS`: a node found a draw block too far ahead (its view lags). */
  reset(): void
}

export function createDrawLead(): DrawLead {
  let lead = ANCHOR_LEAD_BLOCKS
  let calm = 0
  return {
    blocks: () => lead,
    observe(drawBlock, block) {
      if (block >= drawBlock) {
        lead = raiseAnchorLead(lead, drawBlock, block)
        calm = 0
      } else if (drawBlock - block > 2n && lead > ANCHOR_LEAD_BLOCKS && ++calm >= CALM_ANCHORS) {
        lead--
        calm = 0
      }
    },
    reset() {
      lead = ANCHOR_LEAD_BLOCKS
      calm = 0
    },
  }
}
