import { ApiError } from './errors.ts'

/**
 * How much submission work one client (a remote address) may cause: submissions in flight at once
 * (each holds up to a whole body in memory while its spec is checked), and a token bucket of
 * submissions per second. Beyond either the API answers 429 with `retry-after`, before reading the
 * body (docs/operations.md).
 */
export interface SubmissionLimits {
  /** Submissions of one client whose body is being read or whose spec is being checked. */
  concurrent: number
  /** Submissions per second one client may sustain. */
  perSecond: number
  /** Submissions one client may make at once after being idle (the bucket's size). */
  burst: number
}

export const defaultSubmissionLimits: Readonly<SubmissionLimits> = Object.freeze({ concurrent: 16, perSecond: 100, burst: 200 })

/** Clients whose bucket is kept; beyond it the longest idle are forgotten (a forgotten client starts with a full bucket). */
const MAX_CLIENTS = 10_000

export interface SubmissionLimiter {
  /** Admits one submission of `client` and returns its release, or throws a 429 `ApiError`. */
  admit(client: string): () => void
}

export function createSubmissionLimiter(limits: SubmissionLimits, now: () => number): SubmissionLimiter {
  /** Per client: tokens left as of `at` (ms), and submissions in flight. Map order: least recently seen first. */
  const clients = new Map<string, { tokens: number; at: number; inFlight: number }>()

  const refused = (client: string, reason: string, retryAfterMs: number): ApiError =>
    new ApiError(429, 'API_RATE_LIMITED', `Too many submissions from this client: ${reason}.`, {
      details: { client, retryAfterMs, ...limits },
      hint: `Retry after ${Math.ceil(retryAfterMs / 1000)} s; the SDK does so by itself.`,
    })

  return {
    admit(client) {
      const at = now()
      const seen = clients.get(client)
      const state = seen ?? { tokens: limits.burst, at, inFlight: 0 }
      state.tokens = Math.min(limits.burst, state.tokens + ((at - state.at) * limits.perSecond) / 1000)
      state.at = at
      clients.delete(client)
      clients.set(client, state)
      if (clients.size > MAX_CLIENTS) {
        for (const [key, other] of clients) {
          if (clients.size <= MAX_CLIENTS) break
          if (other.inFlight === 0) clients.delete(key)
        }
      }
      if (state.inFlight >= limits.concurrent) throw refused(client, `${limits.concurrent} are in flight already`, 1_000)
      if (state.tokens < 1) throw refused(client, `more than ${limits.perSecond} per second`, Math.ceil(((1 - state.tokens) * 1000) / limits.perSecond))
      state.tokens -= 1
      state.inFlight++
      let released = false
      return () => {
        if (released) return
        released = true
        state.inFlight--
      }
    },
  }
}
