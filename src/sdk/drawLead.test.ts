import assert from 'node:assert/strict'
import { it } from 'node:test'
import { ANCHOR_LEAD_BLOCKS, MAX_ANCHOR_LEAD_BLOCKS, anchoredDrawBlock, createDrawLead } from './drawLead.ts'

it('sdk draw lead: a draw block past the node’s and the head’s lead, raised by late anchors, lowered only after calm ones', () => {
  // The node's offer stands unless the chain's head, plus the lead, is further (the node lags).
  assert.equal(anchoredDrawBlock(120n, 100n), 120n)
  assert.equal(anchoredDrawBlock(101n, 100n), 100n + ANCHOR_LEAD_BLOCKS)
  assert.equal(anchoredDrawBlock(101n, 100n, 6n), 106n)

  const lead = createDrawLead()
  assert.equal(lead.blocks(), ANCHOR_LEAD_BLOCKS)
  lead.observe(103n, 102n) // in time, no block to spare: unchanged
  assert.equal(lead.blocks(), ANCHOR_LEAD_BLOCKS)
  lead.observe(103n, 104n) // two blocks late: raised by what it missed, and one more
  assert.equal(lead.blocks(), ANCHOR_LEAD_BLOCKS + 2n)
  lead.observe(103n, 200n) // never beyond what a lagging node still takes
  assert.equal(lead.blocks(), MAX_ANCHOR_LEAD_BLOCKS)
  // Lowered by one only after 32 anchors in a row with blocks to spare.
  for (let i = 0; i < 31; i++) lead.observe(110n, 100n)
  assert.equal(lead.blocks(), MAX_ANCHOR_LEAD_BLOCKS)
  lead.observe(110n, 100n)
  assert.equal(lead.blocks(), MAX_ANCHOR_LEAD_BLOCKS - 1n)
  lead.reset()
  assert.equal(lead.blocks(), ANCHOR_LEAD_BLOCKS)
})
