import { ApiError } from './errors.ts'
import { MAX_SUBMISSION_CLIENTS as MAX_CLIENTS, defaultSubmissionLimits } from './limits.ts'
import type { SubmissionLimits } from './limits.ts'

export { defaultSubmissionLimits }
export type { SubmissionLimits }

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
