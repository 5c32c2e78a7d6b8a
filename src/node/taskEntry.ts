import type { ObservedReveal } from '../core/epochBatch.ts'
import type { TaskState, TaskTiming } from '../core/task.ts'
import type { Attested, Challenge, Commit, Reveal, Signed } from '../core/types.ts'

/** What a node keeps of one open task besides its core state: its own progress and messages that came early. */
export interface TaskEntry {
  state: TaskState
  /** The task's epoch (from its spec), whose batch settles it. */
  epoch: bigint
  /** Deadlines from the parameters of the task's epoch. */
  timing: TaskTiming
  /** The peer that relayed the spec: the first to ask for blobs. */
  origin: string
  executing: boolean
  /** Output bytes held back until the reveal: a result is served only once it is revealed. */
  pendingOutput: Uint8Array | undefined
  revealSent: boolean
  challengeSent: boolean
  /** Result bytes for a tolerance comparison are being fetched (phase `compare`). */
  comparing: boolean
  /** A valid challenge that arrived before this node saw the executor's commit. */
  earlyChallenge: Signed<Challenge> | undefined
  /** Valid reveals that arrived before this node saw the commit phase close. */
  earlyReveals: Attested<Reveal>[]
  /**
   * Commits from ranked backups that hold no seat in this node's view yet: on another node's clock
   * the commit deadline passed a little earlier and the backup stepped in. Tried again whenever
   * the seats change, so both views end up with the same commits.
   */
  earlyCommits: Attested<Commit>[]
  /** Every validly signed reveal seen for the task: evidence when checking a settlement batch. */
  observed: ObservedReveal[]
  cancelTimer: (() => void) | undefined
}

export interface CreateTaskEntryParameters {
  state: TaskState
  epoch: bigint
  timing: TaskTiming
  origin: string
}

/** A task just accepted: nothing executed, sent or held yet. */
export function createTaskEntry({ state, epoch, timing, origin }: CreateTaskEntryParameters): TaskEntry {
  return {
    state,
    epoch,
    timing,
    origin,
    executing: false,
    pendingOutput: undefined,
    revealSent: false,
    challengeSent: false,
    comparing: false,
    earlyChallenge: undefined,
    earlyReveals: [],
    earlyCommits: [],
    observed: [],
    cancelTimer: undefined,
  }
}
