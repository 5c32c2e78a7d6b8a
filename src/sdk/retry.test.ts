import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { backoffDelay, defaultRetryPolicy, isRetryableStatus } from './retry.ts'

describe('sdk retry policy', () => {
  it('doubles the delay per failure up to the cap, with jitter in the upper half', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1_000 }
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, 1)), [100, 200, 400, 800, 1_000])
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, 0)), [50, 100, 200, 400, 500])
    for (let n = 1; n < 20; n++) assert.ok(backoffDelay(n, defaultRetryPolicy, 0.99) <= defaultRetryPolicy.maxDelayMs)
  })

  it('retries server failures and throttling, never a request the node refused', () => {
    assert.deepEqual([500, 502, 503, 429].map(isRetryableStatus), [true, true, true, true])
    assert.deepEqual([400, 402, 404, 409, 413, 422].map(isRetryableStatus), [false, false, false, false, false, false])
  })
})
