import { VeritaskError } from '../core/errors.ts'
import { sealCommits, sealReveals } from '../core/seal.ts'
import type { Sealed } from '../core/seal.ts'
import type { SignatureVerifier } from '../core/signing.ts'
import type { Address, Commit, Hex, Reveal, SignedChallenge, SignedSpec } from '../core/types.ts'
import { topics } from '../ports/network.ts'
import type { GossipMessage, ValidationResult } from '../ports/network.ts'
import type { Logger } from './logger.ts'
import type { MessageReader, ReadMessage } from './messageReader.ts'

/**
 * What the node makes of one gossip item, as data. `hold`: kept until its task's spec or state
 * catches up, and not relayed (nobody can check it yet). `ignore` and `reject` name the code they
 * were counted under (`NodeStats.rejected`); an `ignore` without a code was not counted (a message
 * for a task already decided).
 */
export type GossipOutcome = { kind: 'accept' } | { kind: 'hold' } | { kind: 'ignore'; code?: string } | { kind: 'reject'; code: string }

/** A commit, reveal or challenge whose signature is checked, on its way to the task it names. */
export type TaskMessage =
  | { type: 'commit'; item: Sealed<Commit> }
  | { type: 'reveal'; item: Sealed<Reveal> }
  | { type: 'challenge'; item: SignedChallenge }

/**
 * How messages held for a task whose spec has not arrived are bounded: by time, by signer, by task
 * and in all (docs/operations.md). Only a signer staked in the snapshot can hold any. A peer that
 * keeps sending what a signer may not hold is muted for a while.
 */
export interface HeldLimits {
  /** Held messages are dropped this long after the first one for their task arrived (ms). */
  ttlMs: number
  /** Held messages per signer: one key cannot take the room of the others. */
  perSigner: number
  /** Held messages per task: a task has a few dozen seats at most. */
  perTask: number
  /** Held messages in all. */
  total: number
  /**
   * Items a peer may send within `ttlMs` that were refused for their signer (unstaked, or past its
   * `perSigner` room) before the node mutes it: four rooms' worth by default, far more than an
   * honest executor's commits for tasks whose specs are late.
   */
  muteAfter: number
  /** How long a muted peer's task gossip is dropped unread (ms). */
  muteMs: number
}

export const defaultHeldLimits: Readonly<HeldLimits> = Object.freeze({ ttlMs: 60_000, perSigner: 256, perTask: 64, total: 4_096, muteAfter: 1_024, muteMs: 60_000 })

/** Codes a refusal is charged to the sending peer under: the signer's own lack of room or stake, not the node's. */
const chargedToSender: ReadonlySet<string> = new Set(['HELD_NOT_STAKED', 'HELD_SIGNER_LIMIT'])

/** Most peers whose refusals are tracked at once; the oldest record goes first. */
const MAX_TRACKED_PEERS = 4_096

export interface CreateGossipIntakeParameters {
  read: MessageReader
  verify: SignatureVerifier
  log: Logger
  /** Counts a refused message under its code (`NodeStats.rejected`). */
  countRejection(code: string): void
  /** Opens a task from a gossiped spec; throws (a `SpecRejectedError`) when the node refuses it. */
  acceptSpec(signed: SignedSpec, from: string, digest: Hex): Promise<unknown>
  /** Hands a message to the open task it names and says what it made of it; undefined when no such task is open. */
  deliver(message: TaskMessage): GossipOutcome | undefined
  /** Whether the task was decided on this node. */
  isDecided(taskId: Hex): boolean
  /** Whether the task is open on this node. */
  isOpen(taskId: Hex): boolean
  /** Whether `signer` is staked and unjailed in a snapshot a task can still be open in: only it can hold a seat. */
  mayHoldSeat(signer: Address): boolean
  /** Local time (ms), for expiring held messages. */
  now(): number
  heldLimits?: HeldLimits
}

export interface GossipIntake {
  /** The handler for the task topics (specs, commits, reveals, challenges). */
  onGossip(gossip: GossipMessage): Promise<ValidationResult>
  /** What `onGossip` makes of a message, before it is reported to the transport. */
  judge(gossip: GossipMessage): Promise<GossipOutcome>
  /** Delivers a checked message to its task, or holds it until the task's spec arrives; `from` is the peer it came from, if any. */
  route(message: TaskMessage, from?: string): GossipOutcome
  /** Hands over (and forgets) the messages held for a task whose spec has now arrived, in arrival order. */
  takeOrphans(taskId: Hex): TaskMessage[]
  /** Messages held now, in all. */
  heldCount(): number
  /** Peers muted now for flooding. */
  mutedCount(): number
}

/** The code a refusal is counted under: a `VeritaskError`'s own code, `UNEXPECTED` for anything else. */
export function rejectionCode(error: unknown): string {
  return error instanceof VeritaskError ? error.code : 'UNEXPECTED'
}

/**
 * What the transport is told. A held message is not relayed: until its spec arrives nobody can
 * tell a commit from noise, and relaying it would carry a flood network-wide. Peers that have the
 * spec relay it.
 */
export function validationResultOf(outcome: GossipOutcome): ValidationResult {
  return outcome.kind === 'hold' ? 'ignore' : outcome.kind
}

/** What a batch's items, each judged on its own, make of the whole message: relayed if any item is accepted. */
function batchOutcome(outcomes: readonly GossipOutcome[]): GossipOutcome {
  const rejected = outcomes.find((o) => o.kind === 'reject')
  if (rejected !== undefined) return rejected
  if (outcomes.some((o) => o.kind === 'accept')) return { kind: 'accept' }
  return outcomes.some((o) => o.kind === 'hold') ? { kind: 'hold' } : { kind: 'ignore' }
}

const signerOf = (message: TaskMessage): Address => message.item.signer

/**
 * Decodes and checks gossip on the task topics and turns each message into an outcome: specs open
 * tasks, signed commits, reveals and challenges go to their task, and those for a task whose spec
 * has not arrived yet are held, bounded by `heldLimits`.
 */
export function createGossipIntake({
  read,
  verify,
  log,
  countRejection,
  acceptSpec,
  deliver,
  isDecided,
  isOpen,
  mayHoldSeat,
  now,
  heldLimits = defaultHeldLimits,
}: CreateGossipIntakeParameters): GossipIntake {
  /** Held messages by task, in the order each task's first one arrived (so the oldest expire first). */
  const held = new Map<Hex, { since: number; items: TaskMessage[] }>()
  const heldBySigner = new Map<Address, number>()
  let heldCount = 0

  const release = (items: readonly TaskMessage[]): void => {
    for (const item of items) {
      const signer = signerOf(item)
      const left = (heldBySigner.get(signer) ?? 1) - 1
      if (left > 0) heldBySigner.set(signer, left)
      else heldBySigner.delete(signer)
    }
    heldCount -= items.length
  }

  const expire = (at: number): void => {
    for (const [taskId, task] of held) {
      if (task.since + heldLimits.ttlMs > at) break
      held.delete(taskId)
      release(task.items)
    }
  }

  /** Per peer: items refused for their signer since `since`, and until when the peer is muted. */
  const senders = new Map<string, { since: number; refused: number; mutedUntil: number }>()

  /** Charges `items` refusals to the peer `from`; past `muteAfter` within `ttlMs` it is muted for `muteMs`. */
  const charge = (from: string | undefined, items: number): void => {
    if (from === undefined) return
    const at = now()
    let record = senders.get(from)
    if (record === undefined || record.since + heldLimits.ttlMs <= at) {
      senders.delete(from)
      if (senders.size >= MAX_TRACKED_PEERS) senders.delete(senders.keys().next().value!)
      record = { since: at, refused: 0, mutedUntil: record?.mutedUntil ?? 0 }
      senders.set(from, record)
    }
    record.refused += items
    if (record.refused >= heldLimits.muteAfter && record.mutedUntil <= at) {
      record.mutedUntil = at + heldLimits.muteMs
      log.info('muted a peer flooding messages its signers may not hold', { from, refused: record.refused, ms: heldLimits.muteMs })
    }
  }

  const isMuted = (from: string): boolean => (senders.get(from)?.mutedUntil ?? 0) > now()

  const refuse = (kind: 'ignore' | 'reject', code: string, from?: string): GossipOutcome => {
    countRejection(code)
    if (chargedToSender.has(code)) charge(from, 1)
    return { kind, code }
  }

  /** The one place a thrown refusal becomes an outcome: `reject` for the codes `isRejected` names, `ignore` for the rest. */
  const refusedBy = (error: unknown, isRejected: (code: string) => boolean): GossipOutcome => {
    const code = rejectionCode(error)
    return refuse(isRejected(code) ? 'reject' : 'ignore', code)
  }

  /** Why `signer` cannot hold one more message now, or undefined if it can. */
  const holdRefusal = (signer: Address): string | undefined => {
    if (!mayHoldSeat(signer)) return 'HELD_NOT_STAKED'
    if (heldCount >= heldLimits.total) return 'HELD_FULL'
    if ((heldBySigner.get(signer) ?? 0) >= heldLimits.perSigner) return 'HELD_SIGNER_LIMIT'
    return undefined
  }

  /** Holds a checked message until its task's spec arrives, within `heldLimits`; beyond them it is ignored and counted. */
  function hold(message: TaskMessage, from: string | undefined): GossipOutcome {
    const at = now()
    expire(at)
    const signer = signerOf(message)
    const refusal = holdRefusal(signer)
    if (refusal !== undefined) return refuse('ignore', refusal, from)
    const taskId = message.item.message.taskId
    const task = held.get(taskId) ?? { since: at, items: [] }
    if (task.items.length >= heldLimits.perTask) return refuse('ignore', 'HELD_TASK_LIMIT')
    task.items.push(message)
    held.set(taskId, task)
    heldBySigner.set(signer, (heldBySigner.get(signer) ?? 0) + 1)
    heldCount++
    return { kind: 'hold' }
  }

  function route(message: TaskMessage, from?: string): GossipOutcome {
    const outcome = deliver(message)
    if (outcome !== undefined) return outcome
    // A challenge is held even for a task decided here (commits and reveals are not).
    if (message.type === 'challenge') return hold(message, from)
    if (isDecided(message.item.message.taskId)) return { kind: 'ignore' }
    return hold(message, from)
  }

  async function judge({ topic, data, from }: GossipMessage): Promise<GossipOutcome> {
    // A muted peer's task messages are dropped unread; specs still go through (they open tasks).
    if (topic !== topics.specs && isMuted(from)) return refuse('ignore', 'PEER_MUTED')
    let result: ReadMessage
    try {
      result = read(data)
    } catch (error) {
      const outcome = refusedBy(error, () => true)
      log.debug('malformed message', { from, error })
      return outcome
    }
    const { message } = result
    switch (message.type) {
      case 'spec':
        try {
          await acceptSpec(message, from, result.digest)
          return { kind: 'accept' }
        } catch (error) {
          return refusedBy(error, (code) => code === 'SPEC_BAD_SIGNATURE')
        }
      case 'commits': {
        // Commits for tasks not open here could only be held: if the named staked signer may hold
        // no more, they are refused unhashed and unverified (a flood costs its decoding only). This
        // is safe for honest signers: only verified messages fill a signer's room. A key that is
        // not staked is still checked, so that a forged message counts against its relay.
        const commits = message.message.commits
        expire(now())
        const refusal = holdRefusal(message.signer)
        if ((refusal === 'HELD_SIGNER_LIMIT' || refusal === 'HELD_FULL') && !commits.some((commit) => isOpen(commit.taskId))) {
          const refused = commits.filter((commit) => !isDecided(commit.taskId)).length
          for (let i = 0; i < refused; i++) countRejection(refusal)
          if (chargedToSender.has(refusal)) charge(from, refused)
          return { kind: 'ignore', code: refusal }
        }
        if (!(await verify(result.digest, message.signature, message.signer))) return refuse('reject', 'COMMIT_BAD_SIGNATURE')
        return batchOutcome(sealCommits(message, result.itemHashes).map((item) => route({ type: 'commit', item }, from)))
      }
      case 'reveals': {
        if (!(await verify(result.digest, message.signature, message.signer))) return refuse('reject', 'REVEAL_BAD_SIGNATURE')
        return batchOutcome(sealReveals(message, result.itemHashes).map((item) => route({ type: 'reveal', item }, from)))
      }
      case 'challenge':
        if (!(await verify(result.digest, message.signature, message.signer))) return refuse('reject', 'CHALLENGE_BAD_SIGNATURE')
        return route({ type: 'challenge', item: message }, from)
      case 'proposal':
      case 'evidence':
      case 'vouch':
      case 'batch-signature':
        // Settlement messages belong on the batch topic, which the epoch settler handles.
        return refuse('reject', 'MESSAGE_WRONG_TOPIC')
    }
  }

  return {
    onGossip: async (gossip) => validationResultOf(await judge(gossip)),
    judge,
    route,
    takeOrphans(taskId) {
      const task = held.get(taskId)
      if (task === undefined) return []
      held.delete(taskId)
      release(task.items)
      return task.items
    },
    heldCount: () => heldCount,
    mutedCount: () => [...senders.values()].filter((record) => record.mutedUntil > now()).length,
  }
}
