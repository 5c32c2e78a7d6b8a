export interface CreatePollIntervalParameters {
  /** The shortest delay between two polls, in ms. */
  minMs: number
  /** The longest delay between two polls, in ms: how late a block on an idle chain may be seen. */
  maxMs: number
}

export interface PollInterval {
  /** Records the head block a poll saw at `at` (ms) and returns the delay before the next poll, in ms. */
  next(head: bigint, at: number): number
  /** The chain's block interval as observed so far, in ms; undefined before two new heads were seen. */
  blockMs(): number | undefined
}

/** How much an idle poll (no new block) lengthens the delay before the next one. */
const IDLE_BACKOFF = 1.5

/**
 * When to poll a chain next: at half its observed block interval while blocks come (so each block is
 * seen within half an interval of its arrival), backing off by half again after every poll that
 * found no new block, down to `maxMs` on an idle chain (an automining anvil makes blocks only for
 * transactions); always within [`minMs`, `maxMs`]. The interval is a moving average of the time
 * between new heads, per block. Pure: the caller passes the time.
 */
export function createPollInterval({ minMs, maxMs }: CreatePollIntervalParameters): PollInterval {
  const clamp = (ms: number): number => Math.min(maxMs, Math.max(minMs, ms))
  let head: bigint | undefined
  /** When the newest head was first seen; undefined until a head followed the first one seen. */
  let changedAt: number | undefined
  let estimate: number | undefined
  let delay = minMs
  return {
    next(seen, at) {
      if (head === undefined || seen !== head) {
        if (head !== undefined && changedAt !== undefined && seen > head) {
          const sample = (at - changedAt) / Number(seen - head)
          estimate = estimate === undefined ? sample : (3 * estimate + sample) / 4
        }
        if (head !== undefined) changedAt = at
        head = seen
        delay = clamp(estimate === undefined ? minMs : estimate / 2)
      } else {
        delay = clamp(delay * IDLE_BACKOFF)
      }
      return delay
    },
    blockMs: () => estimate,
  }
}
