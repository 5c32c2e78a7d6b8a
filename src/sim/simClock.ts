import type { Clock } from '../node/clock.ts'

/**
 * Simulated time for the simulator: the nodes' clock port, the memory hub's deliveries and the
 * cost-model runtime all schedule on it, and `run` moves time from one timer to the next. Between
 * two timers the process's own asynchronous work (promise chains, `setImmediate`) runs to the end
 * first, so a node's handling of a message takes no simulated time: what it costs is measured in
 * real CPU instead (docs/simulator.md).
 */
export interface SimClock extends Clock {
  /**
   * Fires timers in time order until `done()` holds, no timer is left, or simulated time reaches
   * `untilMs`; resolves with why it stopped.
   */
  run(options: { done: () => boolean; untilMs: number }): Promise<'done' | 'idle' | 'time'>
  /** Timers waiting. */
  pending(): number
}

interface Timer {
  at: number
  seq: number
  fn: () => void
  cancelled: boolean
}

/** How many turns of the event loop run between timers: enough for a message's handling to finish. */
const SETTLE_TURNS = 4

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export function createSimClock(start = 0): SimClock {
  let now = start
  let seq = 0
  // A binary min-heap on (at, seq): equal times fire in the order they were set.
  const heap: Timer[] = []
  const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.seq < b.seq)
  const push = (timer: Timer) => {
    heap.push(timer)
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1
      if (!before(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }
  const pop = (): Timer | undefined => {
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last
      for (let i = 0; ; ) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r
        if (m === i) break
        ;[heap[i], heap[m]] = [heap[m]!, heap[i]!]
        i = m
      }
    }
    return top
  }
  let live = 0

  return {
    now: () => now,
    setTimer(delayMs, fn) {
      // Whole milliseconds, as `Date.now()`: nodes turn times into integers (deadlines are bigint ms).
      const timer: Timer = { at: now + Math.max(0, Math.round(delayMs)), seq: seq++, fn, cancelled: false }
      push(timer)
      live++
      return () => {
        if (!timer.cancelled) live--
        timer.cancelled = true
      }
    },
    pending: () => live,
    async run({ done, untilMs }) {
      for (;;) {
        for (let i = 0; i < SETTLE_TURNS; i++) await turn()
        if (done()) return 'done'
        let next = pop()
        while (next?.cancelled) next = pop()
        if (next === undefined) return 'idle'
        if (next.at > untilMs) {
          push(next)
          now = untilMs
          return 'time'
        }
        now = next.at
        // Everything due at this instant fires before the process settles again.
        const due = [next]
        while (heap[0] !== undefined && heap[0].at === now) due.push(pop()!)
        for (const timer of due) {
          if (timer.cancelled) continue
          live--
          timer.cancelled = true
          timer.fn()
        }
      }
    },
  }
}
