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

  it('delivers on a given scheduler, after a delay by pair and size, and loses what goes to a peer cut off', async () => {
    const timers: Array<{ delayMs: number; fn: () => void }> = []
    let cutOff = false
    const hub = createMemoryHub({
      schedule: (delayMs, fn) => void timers.push({ delayMs, fn }),
      latencyMs: (from, to, bytes) => (from === 'a' && to === 'b' ? 10 + bytes : 99),
      reachable: (from, to) => !(cutOff && (from === 'c' || to === 'c')),
    })
    const a = hub.connect('a')
    const b = hub.connect('b')
    const c = hub.connect('c')
    const got: string[] = []
    b.subscribe(topics.commits, ({ from }) => (got.push(`b<-${from}`), 'accept'))
    c.subscribe(topics.commits, ({ from }) => (got.push(`c<-${from}`), 'accept'))
    await a.publish(topics.commits, stringToBytes('four'))
    assert.deepEqual(timers.map((t) => t.delayMs), [14, 99], 'nothing delivered until the scheduler runs it; 10 ms + 4 bytes to b')
    for (const t of timers.splice(0)) t.fn()
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(got.sort(), ['b<-a', 'c<-a'])
    cutOff = true
    await a.publish(topics.commits, stringToBytes('five!'))
    assert.equal(timers.length, 1, 'no delivery is even scheduled to a peer cut off')
    for (const t of timers.splice(0)) t.fn()
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(got.sort(), ['b<-a', 'b<-a', 'c<-a'])
    c.provideBlobs(() => stringToBytes('blob'))
    await assert.rejects(b.fetchBlob(`0x${'00'.repeat(32)}`, { maxBytes: 100, peers: ['c'] }), /No peer could provide/)
  })
})
