/** Time for the node layer: core never reads a clock, the node passes `now()` in. */
export interface Clock {
  now(): number
  /** Calls `fn` after `delayMs`; returns a function that cancels it. */
  setTimer(delayMs: number, fn: () => void): () => void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fn) {
    // Not unref'd: a node waiting on a deadline is busy, and `stop()` cancels its timers.
    const timer = setTimeout(fn, Math.max(0, delayMs))
    return () => clearTimeout(timer)
  },
}

export interface ManualClock extends Clock {
  /** Moves time forward, firing due timers in time order. */
  advance(ms: number): void
}

/** A clock that moves only when told to: for deterministic tests of deadlines. */
export function createManualClock(start = 0): ManualClock {
  let now = start
  let nextId = 0
  const timers = new Map<number, { at: number; fn: () => void }>()
  return {
    now: () => now,
    setTimer(delayMs, fn) {
      const id = nextId++
      timers.set(id, { at: now + Math.max(0, delayMs), fn })
      return () => timers.delete(id)
    },
    advance(ms) {
      const end = now + ms
      for (;;) {
        let due: [number, { at: number; fn: () => void }] | undefined
        for (const entry of timers) if (entry[1].at <= end && (due === undefined || entry[1].at < due[1].at)) due = entry
        if (due === undefined) break
        timers.delete(due[0])
        now = Math.max(now, due[1].at)
        due[1].fn()
      }
      now = end
    },
  }
}
