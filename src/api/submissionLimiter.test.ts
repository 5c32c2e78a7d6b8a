import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ApiError } from './errors.ts'
import { createSubmissionLimiter } from './submissionLimiter.ts'

const rateLimited = (error: unknown) => error instanceof ApiError && error.status === 429 && error.code === 'API_RATE_LIMITED'

describe('submission limiter: per client, in flight and per second', () => {
  it('lets a client burst, then refills at its rate; other clients are unaffected', () => {
    let now = 0
    const limiter = createSubmissionLimiter({ concurrent: 100, perSecond: 10, burst: 3 }, () => now)
    for (let i = 0; i < 3; i++) limiter.admit('a')()
    assert.throws(() => limiter.admit('a'), (error: unknown) => rateLimited(error) && (error as ApiError).details.retryAfterMs === 100)
    limiter.admit('b')()
    now += 100
    limiter.admit('a')()
    assert.throws(() => limiter.admit('a'), rateLimited)
    // Idle time refills at most to the burst.
    now += 60_000
    for (let i = 0; i < 3; i++) limiter.admit('a')()
    assert.throws(() => limiter.admit('a'), rateLimited)
  })

  it('bounds submissions in flight; a release frees the place once, however often it is called', () => {
    const limiter = createSubmissionLimiter({ concurrent: 2, perSecond: 1_000, burst: 1_000 }, () => 0)
    const first = limiter.admit('a')
    limiter.admit('a')
    assert.throws(() => limiter.admit('a'), (error: unknown) => rateLimited(error) && /in flight/.test((error as ApiError).message))
    first()
    first()
    limiter.admit('a')
    assert.throws(() => limiter.admit('a'), rateLimited)
  })
})
