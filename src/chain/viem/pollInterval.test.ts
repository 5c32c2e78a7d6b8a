import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createPollInterval } from './pollInterval.ts'

describe('createPollInterval', () => {
  it('polls at the floor until it has seen blocks come, then at half the block interval', () => {
    const poll = createPollInterval({ minMs: 50, maxMs: 2_000 })
    assert.equal(poll.next(10n, 0), 50)
    assert.equal(poll.next(11n, 50), 50, 'one new head: no interval yet')
    assert.equal(poll.blockMs(), undefined)
    assert.equal(poll.next(12n, 1_050), 500)
    assert.equal(poll.blockMs(), 1_000)
    assert.equal(poll.next(14n, 3_050), 500, 'two blocks in 2 s: still 1 s a block')
  })

  it('backs off on an idle chain up to the cap, and comes back as soon as a block comes', () => {
    const poll = createPollInterval({ minMs: 100, maxMs: 1_000 })
    poll.next(1n, 0)
    const delays = Array.from({ length: 8 }, (_, i) => poll.next(1n, (i + 1) * 100))
    assert.deepEqual(delays, [150, 225, 337.5, 506.25, 759.375, 1_000, 1_000, 1_000])
    assert.equal(poll.next(2n, 5_000), 100)
  })

  it('keeps every delay within its bounds, and follows a faster chain through a moving average', () => {
    const poll = createPollInterval({ minMs: 100, maxMs: 1_000 })
    poll.next(0n, 0)
    poll.next(1n, 10_000)
    assert.equal(poll.next(2n, 20_000), 1_000, 'a 10 s chain is polled at the cap')
    let at = 20_000
    let delay = 0
    for (let block = 3n; block < 30n; block++) delay = poll.next(block, (at += 200))
    assert.ok(poll.blockMs()! < 210, `the average follows 200 ms blocks (${poll.blockMs()})`)
    assert.equal(delay, poll.blockMs()! / 2, 'half the block interval')
  })

  it('takes a lower head (a reset chain) as a new head without measuring from it', () => {
    const poll = createPollInterval({ minMs: 10, maxMs: 1_000 })
    poll.next(5n, 0)
    poll.next(6n, 100)
    poll.next(7n, 200)
    assert.equal(poll.blockMs(), 100)
    assert.equal(poll.next(1n, 300), 50)
    assert.equal(poll.blockMs(), 100)
  })
})
