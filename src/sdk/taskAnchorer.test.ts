import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { makeSpec, requester } from '../../test/helpers/fixtures.ts'
import { devnetDomain, hashTaskSpec } from '../core/eip712.ts'
import { provesTaskId } from '../core/taskAnchor.ts'
import { signTaskSpec } from '../core/taskSpec.ts'
import type { Hex } from '../core/types.ts'
import { createTaskAnchorer } from './taskAnchorer.ts'

const signedSpec = async (nonce: number, drawBlock = 100n) => {
  const signed = await signTaskSpec(requester, makeSpec({ nonce: BigInt(nonce), drawBlock }), devnetDomain)
  return { signed, taskId: hashTaskSpec(signed.message, devnetDomain) }
}

describe('createTaskAnchorer', () => {
  it('anchors the specs signed together in one root, and those asked for meanwhile in the next', async () => {
    const roots: Array<{ root: Hex; count: number }> = []
    let release: (() => void) | undefined
    const anchorer = createTaskAnchorer(async (root, count) => {
      roots.push({ root, count })
      if (roots.length === 1) await new Promise<void>((resolve) => (release = resolve))
      return { block: BigInt(10 + roots.length) }
    })
    const first = await Promise.all([0, 1, 2].map((i) => signedSpec(i)))
    const firstAnchored = first.map(({ signed, taskId }) => anchorer.anchor(signed, taskId))
    // While the first transaction is under way, two more arrive: they wait, then share one root.
    await new Promise((resolve) => setImmediate(resolve))
    const later = await Promise.all([3, 4].map((i) => signedSpec(i)))
    const laterAnchored = later.map(({ signed, taskId }) => anchorer.anchor(signed, taskId))
    assert.deepEqual(roots.map((r) => r.count), [3])
    release!()
    const results = await Promise.all([...firstAnchored, ...laterAnchored])
    assert.deepEqual(roots.map((r) => r.count), [3, 2])
    assert.deepEqual(results.map((r) => r.block), [11n, 11n, 11n, 12n, 12n])
    results.forEach((r, i) => {
      const { taskId } = [...first, ...later][i]!
      const { count } = roots[i < 3 ? 0 : 1]!
      assert.ok(provesTaskId(taskId, r.signed.anchor!, count), `spec ${i} proves its id under its root`)
    })
  })

  it('hands back, unpaid, a spec whose draw block an anchor sent now cannot precede', async () => {
    const counts: number[] = []
    const anchorer = createTaskAnchorer(
      async (_root, count) => {
        counts.push(count)
        return { block: 51n }
      },
      { head: async () => 50n },
    )
    const [late, onTime] = await Promise.all([signedSpec(0, 51n), signedSpec(1, 52n)])
    const [lateResult, onTimeResult] = await Promise.all([anchorer.anchor(late.signed, late.taskId), anchorer.anchor(onTime.signed, onTime.taskId)])
    assert.deepEqual(counts, [1], 'only the spec that can still be anchored in time is paid for')
    assert.equal(lateResult.block, 51n, 'late: its block is its draw block')
    assert.equal(lateResult.signed.anchor, undefined)
    assert.ok(onTimeResult.block < onTime.signed.message.drawBlock)
  })

  it('fails every spec of a batch whose anchor transaction fails, and anchors the next batch', async () => {
    let calls = 0
    const anchorer = createTaskAnchorer(async () => {
      if (++calls === 1) throw new Error('reverted')
      return { block: 1n }
    })
    const a = await signedSpec(0)
    await assert.rejects(anchorer.anchor(a.signed, a.taskId), /reverted/)
    const b = await signedSpec(1)
    assert.equal((await anchorer.anchor(b.signed, b.taskId)).block, 1n)
  })
})
