import type { TaskCertificate } from '../core/certificate.ts'
import type { Sealed } from '../core/seal.ts'
import type { TaskState, TaskTiming } from '../core/task.ts'
import type { Address, Commit, Hex, Reveal, Signed, SignedChallenge, SignedSpec } from '../core/types.ts'

/** What a node keeps of one open task besides its core state: its own progress and messages that came early. */
export interface TaskEntry {
  state: TaskState
  /** The requester's signed spec: the head of the task's certificate. */
  signed: SignedSpec
  /** The hash of the spec's draw block: with the epoch's seed, it ranks the task (`rankTask`). */
  draw: Hex
  /**
   * Whether the epoch's batch may leave the task out: its spec crossed the epoch boundary (or the
   * node resumed it after a restart), so an aggregator may never have seen it.
   */
  mayOmit: boolean
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
  earlyChallenge: SignedChallenge | undefined
  /** Valid reveals that arrived before this node saw the commit phase close. */
  earlyReveals: Sealed<Reveal>[]
  /**
   * Reveals that came once the reveal phase had closed here (a deadline the busy event loop let
   * pass first): kept for the certificate (`withLateReveal`) when the task is decided. One per signer.
   */
  lateReveals: Sealed<Reveal>[]
  /**
   * Commits from ranked backups that hold no seat in this node's view yet: on another node's clock
   * the commit deadline passed a little earlier and the backup stepped in. Tried again whenever
   * the seats change, so both views end up with the same commits.
   */
  earlyCommits: Sealed<Commit>[]
  /** The sealed commits and reveals the task's state accepted, and the challenge it took: the certificate's evidence. */
  evidence: { commits: Map<Address, Sealed<Commit>>; reveals: Map<Address, Sealed<Reveal>>; challenge: SignedChallenge | undefined }
  cancelTimer: (() => void) | undefined
}

export interface CreateTaskEntryParameters {
  state: TaskState
  signed: SignedSpec
  draw: Hex
  mayOmit: boolean
  epoch: bigint
  timing: TaskTiming
  origin: string
}

/** A task just accepted: nothing executed, sent or held yet. */
export function createTaskEntry({ state, signed, draw, mayOmit, epoch, timing, origin }: CreateTaskEntryParameters): TaskEntry {
  return {
    state,
    signed,
    draw,
    mayOmit,
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
    lateReveals: [],
    earlyCommits: [],
    evidence: { commits: new Map(), reveals: new Map(), challenge: undefined },
    cancelTimer: undefined,
  }
}

/**
 * The certificate of a decided task, from what its state accepted: the commits it counted, the
 * reveals it accepted in time, and the challenge it took (core/certificate.ts).
 */
export function certificateOf(entry: TaskEntry): TaskCertificate {
  const { commits, reveals, challenge } = entry.evidence
  const { arbitration } = entry.state
  // Signed messages as gossip carried them may hold their envelope's `type`: keep the signed parts only.
  const signedPart = <T>({ message, signer, signature }: Signed<T>): Signed<T> => ({ message, signer, signature })
  const stage = (arbiters: boolean) => {
    const inStage = (node: Address) => (arbitration?.arbiters.includes(node) ?? false) === arbiters
    return {
      commits: entry.state.commits.filter((c) => inStage(c.executor)).flatMap((c) => commits.get(c.executor) ?? []),
      reveals: entry.state.reveals.filter((r) => inStage(r.executor)).flatMap((r) => reveals.get(r.executor) ?? []),
    }
  }
  return {
    spec: { ...signedPart(entry.signed), ...(entry.signed.anchor === undefined ? {} : { anchor: entry.signed.anchor }) },
    ...stage(false),
    ...(challenge === undefined ? {} : { challenge: { ...signedPart(challenge), draw: challenge.draw } }),
    ...(arbitration === null ? {} : { arbitration: stage(true) }),
  }
}
