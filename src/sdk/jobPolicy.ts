import type { Outcome } from '../core/types.ts'

/** How one attempt at a chunk's task ended: its verdict, no verdict in time, or refused by the node. */
export type AttemptOutcome = Outcome | 'timeout' | 'rejected'

/** Where a chunk stands. `pending` has not run yet; the other four are final. */
export type ChunkStatus = 'pending' | 'verified' | 'failed' | 'unresolved' | 'rejected'

/**
 * What to do after an attempt. `verified` and `failed` are final: a program that fails does so
 * identically on every node, so running it again changes nothing (and costs a fee). A task
 * without a quorum (`unresolved`, refunded) or without a verdict in time is tried again as a new
 * task (new nonce) up to `maxAttempts`, then reported as `unresolved`. A node's refusal is final.
 */
export function nextChunkStep(outcome: AttemptOutcome, attempts: number, maxAttempts: number): Exclude<ChunkStatus, 'pending'> | 'retry' {
  switch (outcome) {
    case 'verified':
    case 'failed':
    case 'rejected':
      return outcome
    case 'unresolved':
    case 'timeout':
      return attempts < maxAttempts ? 'retry' : 'unresolved'
  }
}

/**
 * Refusals that say nothing about the job's terms: the node's view of the chain lags the client's
 * (`SPEC_DRAW_TOO_FAR`), the epoch turned on the way (`SPEC_WRONG_EPOCH`), or the node is busy
 * (`API_RATE_LIMITED`). `submitTask` already signs again for a while; past that, a job submits the
 * chunk again after a pause instead of stopping.
 */
export const TRANSIENT_REFUSALS: ReadonlySet<string> = new Set(['SPEC_DRAW_TOO_FAR', 'SPEC_WRONG_EPOCH', 'API_RATE_LIMITED'])

/** How often one chunk's submission is refused for a transient reason before the job stops on it. */
export const MAX_TRANSIENT_REFUSALS = 5
