import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { stringToBytes } from 'viem'
import { topics } from '../../ports/network.ts'
import { describeNetworkCompliance } from '../../../test/helpers/networkCompliance.ts'
import { createMemoryHub } from './createMemoryHub.ts'

describeNetworkCompliance('memory', {
  async create(count) {
    const hub = createMemoryHub()
    const peers = Array.from({ length: count }, (_, i) => hub.connect(`peer-${i}`))
    return { peers, close: async () => void (await Promise.all(peers.map((p) => p.close()))) }
  },
})

describe('memory hub', () => {
  it('loses deliveries at the configured rate, reproducibly for a seed', async () => {
    const run = async (seed: number) => {
      const hub = createMemoryHub({ dropRate: 0.3, seed })
      const a = hub.connect('a')
      const b = hub.connect('b')
      let received = 0
      b.subscribe(topics.commits, () => (received++, 'accept'))
      for (let i = 0; i < 1_000; i++) await a.publish(topics.commits, stringToBytes(`m${i}`))
      // Deliveries are on later turns of the event loop; flush them.
      await new Promise((resolve) => setImmediate(resolve))
      return received
    }
    const first = await run(42)
    assert.ok(Math.abs(first - 700) < 60, `${first} of 1000 delivered at 30% loss`)
    assert.equal(await run(42), first)
  })

  it('counts rejections against the sending peer', async () => {
    const hub = createMemoryHub()
    const a = hub.connect('a')
    const b = hub.connect('b')
    let seen = 0
    b.subscribe(topics.specs, () => (seen++, 'reject'))
    await a.publish(topics.specs, stringToBytes('junk'))
    await a.publish(topics.specs, stringToBytes('junk'))
    while (seen < 2 || hub.rejectionsBy('a') < 2) await new Promise((resolve) => setImmediate(resolve))
    assert.equal(hub.rejectionsBy('a'), 2)
    assert.equal(hub.rejectionsBy('b'), 0)
  })
})
