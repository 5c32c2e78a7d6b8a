/**
 * The retry policy of the SDK, as pure functions: how long to wait before attempt n, and which
 * failures are worth another attempt. The clock and the sleeping live in the caller.
 */
export interface RetryPolicy {
  /** Attempts per request and URL, the first included (default 4). */
  attempts: number
  /** Delay before the second attempt, in ms (default 100); it doubles each time. */
  baseDelayMs: number
  /** Longest delay between attempts, in ms (default 2,000). */
  maxDelayMs: number
}

export const defaultRetryPolicy: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 2_000 }

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half is `random` ∈ [0, 1)
 * times the other half, so many clients retrying at once spread out but never retry at once.
 * `attempt` counts failures so far (1 after the first failure).
 */
export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random = 0.5): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(exponential / 2 + (exponential / 2) * random)
}

/**
 * Whether an HTTP status is worth another attempt: 5xx (the node failed or cannot take the task
 * now, `SPEC_NOT_ENOUGH_NODES` is 503) and 429. Everything else in 4xx says the request itself is
 * wrong, and asking again gives the same answer.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500
}
