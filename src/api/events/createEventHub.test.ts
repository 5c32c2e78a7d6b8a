import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Address, Hex } from '../../core/types.ts'
import { createEventHub } from './createEventHub.ts'
import type { HubEvent } from './createEventHub.ts'

const task = (i: number) => `0x${i.toString(16).padStart(64, '0')}` as Hex
const alice = '0x00000000000000000000000000000000000000a1' as Address
const bob = '0x00000000000000000000000000000000000000b0' as Address
const executor = '0x00000000000000000000000000000000000000e1' as Address

describe('event hub', () => {
  it('numbers events, serializes bigints as strings and hands them to matching listeners', () => {
    const hub = createEventHub({ now: () => 42 })
    const seen: HubEvent[] = []
    hub.subscribe({ types: ['task.accepted', 'epoch.settled'] }, (e) => seen.push(e))
    hub.emit({ type: 'task.accepted', taskId: task(1), requester: alice, epoch: 3n, seats: [executor] })
    hub.emit({ type: 'task.committed', taskId: task(1), executor })
    hub.emit({ type: 'epoch.settled', epoch: 3n, digest: task(9), tasks: 1, gasUsed: 190_000n })
    assert.deepEqual(seen.map((e) => e.id), [1, 3])
    assert.deepEqual(JSON.parse(seen[0]!.data), { id: 1, at: 42, type: 'task.accepted', taskId: task(1), requester: alice, epoch: '3', seats: [executor] })
    assert.equal((seen[1]!.event as { gasUsed: string }).gasUsed, '190000')
    assert.equal(hub.lastId(), 3)
  })

  it('filters by task and by requester, commits and reveals included', () => {
    const hub = createEventHub()
    const ofAlice: number[] = []
    const ofTask2: number[] = []
    hub.subscribe({ requester: alice.toUpperCase().replace('0X', '0x') }, (e) => ofAlice.push(e.id))
    hub.subscribe({ task: task(2) }, (e) => ofTask2.push(e.id))
    hub.emit({ type: 'task.accepted', taskId: task(1), requester: alice, epoch: 0n, seats: [] })
    hub.emit({ type: 'task.accepted', taskId: task(2), requester: bob, epoch: 0n, seats: [] })
    hub.emit({ type: 'task.committed', taskId: task(1), executor })
    hub.emit({ type: 'task.committed', taskId: task(2), executor })
    hub.emit({ type: 'epoch.proposed', epoch: 0n, digest: task(9), aggregator: executor, tasks: 2 })
    assert.deepEqual(ofAlice, [1, 3])
    assert.deepEqual(ofTask2, [2, 4])
  })

  it('replays what came after Last-Event-ID, and says when the buffer no longer holds it', () => {
    const hub = createEventHub({ bufferSize: 4 })
    for (let i = 1; i <= 6; i++) hub.emit({ type: 'task.committed', taskId: task(i), executor })
    const resumed = hub.subscribe({}, () => {}, 4)
    assert.deepEqual(resumed.replay.map((e) => e.id), [5, 6])
    assert.equal(resumed.gap, false)
    const late = hub.subscribe({}, () => {}, 1)
    assert.equal(late.gap, true)
    assert.deepEqual(late.replay.map((e) => e.id), [3, 4, 5, 6])
    // An id this process never handed out: the node restarted since.
    const future = hub.subscribe({}, () => {}, 99)
    assert.equal(future.gap, true)
    assert.equal(hub.subscribe({}, () => {}).replay.length, 0)
  })

  it('stops calling a listener once unsubscribed', () => {
    const hub = createEventHub()
    let calls = 0
    const sub = hub.subscribe({}, () => calls++)
    hub.emit({ type: 'node.jailed', epoch: 1n, node: executor, untilBlock: 100n })
    sub.unsubscribe()
    hub.emit({ type: 'node.slashed', epoch: 1n, node: executor, amount: 5n })
    assert.equal(calls, 1)
  })
})
