import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createSimClock } from './simClock.ts'

describe('createSimClock', () => {
  it('fires timers in time order, equal times in the order they were set, and never a cancelled one', async () => {
    const clock = createSimClock()
    const fired: string[] = []
    clock.setTimer(30, () => fired.push(`c@${clock.now()}`))
    clock.setTimer(10, () => fired.push(`a@${clock.now()}`))
    clock.setTimer(10, () => fired.push(`b@${clock.now()}`))
    const cancel = clock.setTimer(20, () => fired.push('cancelled'))
    cancel()
    assert.equal(clock.pending(), 3)
    assert.equal(await clock.run({ done: () => false, untilMs: 1_000 }), 'idle')
    assert.deepEqual(fired, ['a@10', 'b@10', 'c@30'])
    assert.equal(clock.pending(), 0)
  })

  it('lets the asynchronous work a timer starts finish before time moves on', async () => {
    const clock = createSimClock()
    const seen: string[] = []
    clock.setTimer(5, () => {
      void (async () => {
        await Promise.resolve()
        await new Promise((resolve) => setImmediate(resolve))
        seen.push(`work done at ${clock.now()}`)
        clock.setTimer(5, () => seen.push(`follow-up at ${clock.now()}`))
      })()
    })
    clock.setTimer(6, () => seen.push(`next timer at ${clock.now()}`))
    await clock.run({ done: () => false, untilMs: 100 })
    assert.deepEqual(seen, ['work done at 5', 'next timer at 6', 'follow-up at 10'])
  })

  it('stops when done, or at the time limit with later timers kept', async () => {
    const clock = createSimClock()
    let count = 0
    for (let t = 1; t <= 10; t++) clock.setTimer(t * 100, () => count++)
    assert.equal(await clock.run({ done: () => count >= 3, untilMs: 10_000 }), 'done')
    assert.equal(count, 3)
    assert.equal(await clock.run({ done: () => false, untilMs: 550 }), 'time')
    assert.deepEqual([count, clock.now(), clock.pending()], [5, 550, 5])
  })

  it('counts time in whole milliseconds, as Date.now does', async () => {
    const clock = createSimClock()
    clock.setTimer(2.6, () => {})
    await clock.run({ done: () => false, untilMs: 100 })
    assert.equal(clock.now(), 3)
  })
})
