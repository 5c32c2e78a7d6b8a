import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Hex } from '../core/types.ts'
import { createRevealResend } from './revealResend.ts'

const task = (n: number): Hex => `0x${n.toString(16).padStart(64, '0')}`

describe('reveal resend', () => {
  it('sends again the reveals that went out during a silence, or just before it, once, and nothing while messages keep coming', () => {
    let now = 0
    const resend = createRevealResend({ now: () => now, silenceMs: 1_000 })
    // A busy network: a reveal goes out and messages keep arriving.
    resend.sent([task(1)])
    for (const at of [100, 900, 1_700]) {
      now = at
      assert.deepEqual(resend.heard(), [])
    }
    // Cut off just after 1,700: the reveal sent at 1,720 is lost in flight, the one at 2,500 goes nowhere.
    now = 1_720
    resend.sent([task(2)])
    now = 2_500
    resend.sent([task(3), task(3)])
    // Back at 3,000: both go again, each once; task 1, sent long before the silence, does not.
    now = 3_000
    assert.deepEqual(resend.heard(), [task(2), task(3)])
    now = 3_010
    assert.deepEqual(resend.heard(), [], 'sent again once')
    // A stalled event loop: a reveal just before a silence in which nothing was sent goes nowhere again.
    now = 3_020
    resend.sent([task(4)])
    now = 3_030
    assert.deepEqual(resend.heard(), [])
    now = 5_000
    assert.deepEqual(resend.heard(), [], 'a stall is not answered with more messages')
  })

  it('keeps at most the most recent reveals', () => {
    let now = 0
    const resend = createRevealResend({ now: () => now, silenceMs: 10 })
    now = 5
    resend.sent(Array.from({ length: 5_000 }, (_, i) => task(i)))
    now = 100
    const unheard = resend.heard()
    assert.equal(unheard.length, 4_096)
    assert.equal(unheard.at(-1), task(4_999))
  })
})
