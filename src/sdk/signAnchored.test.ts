import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { privateKeyToAccount } from 'viem/accounts'
import { devnetDomain, hashTaskSpec } from '../core/eip712.ts'
import { anchorAlone } from '../core/taskAnchor.ts'
import { signTaskSpec } from '../core/taskSpec.ts'
import type { Hex, Signed, TaskSpec } from '../core/types.ts'
import { ANCHOR_LEAD_BLOCKS, createDrawLead } from './drawLead.ts'
import { LATE_ANCHOR_RETRIES, signAnchored } from './signAnchored.ts'

const requester = privateKeyToAccount(`0x${'11'.repeat(32)}`)
const spec = (drawBlock: bigint): TaskSpec => ({
  requester: requester.address,
  nonce: 1n,
  runtime: 'wasm',
  program: `0x${'aa'.repeat(32)}`,
  input: `0x${'bb'.repeat(32)}`,
  limits: { fuel: 1_000n, memoryPages: 1, outputBytes: 64 },
  policy: { kind: 'replicate', k: 3, quorum: 2 },
  fee: 1n,
  epoch: 0n,
  drawBlock,
  deadline: 1_000_000n,
})

/** A chain at `head` whose anchors land `delay` blocks later; it records every id it anchored. */
function chainAnchorer(head: { block: bigint }, delays: bigint[]) {
  const anchored: Hex[] = []
  return {
    anchored,
    anchor: async (signed: Signed<TaskSpec>, taskId: Hex) => {
      anchored.push(taskId)
      head.block += delays.shift() ?? 1n
      return { signed: anchorAlone(signed, taskId), block: head.block }
    },
  }
}

describe('signAnchored', () => {
  it('returns the first spec anchored before its draw block, with its proof', async () => {
    const head = { block: 100n }
    const anchorer = chainAnchorer(head, [1n])
    const lead = createDrawLead()
    const { signed, taskId, block, inTime } = await signAnchored({
      sign: (blocks) => signTaskSpec(requester, spec(head.block + blocks), devnetDomain),
      anchorer,
      lead,
      domain: devnetDomain,
    })
    assert.equal(inTime, true)
    assert.equal(block, 101n)
    assert.equal(signed.message.drawBlock, 100n + ANCHOR_LEAD_BLOCKS)
    assert.equal(taskId, hashTaskSpec(signed.message, devnetDomain))
    assert.deepEqual(anchorer.anchored, [taskId])
    assert.equal(signed.anchor?.root !== undefined, true)
  })

  it('signs again for a later draw block after a late anchor, raising the lead, and gives up after the retries', async () => {
    const head = { block: 100n }
    // The first anchor lands 5 blocks on (past a 3-block lead), the second in time.
    const anchorer = chainAnchorer(head, [5n, 1n])
    const lead = createDrawLead()
    const draws: bigint[] = []
    const result = await signAnchored({
      sign: (blocks) => {
        draws.push(head.block + blocks)
        return signTaskSpec(requester, spec(head.block + blocks), devnetDomain)
      },
      anchorer,
      lead,
      domain: devnetDomain,
    })
    assert.equal(result.inTime, true)
    assert.deepEqual(draws, [103n, 105n + lead.blocks()], 'the second spec names a later draw block, at the raised lead')
    assert.ok(lead.blocks() > ANCHOR_LEAD_BLOCKS, 'a late anchor raises the lead')
    assert.equal(anchorer.anchored.length, 2, 'both ids were anchored (and paid for)')

    const always = chainAnchorer({ block: 0n }, Array(10).fill(50n))
    const late = await signAnchored({ sign: (blocks) => signTaskSpec(requester, spec(blocks), devnetDomain), anchorer: always, lead: createDrawLead(), domain: devnetDomain })
    assert.equal(late.inTime, false)
    assert.equal(always.anchored.length, LATE_ANCHOR_RETRIES + 1)
  })
})
