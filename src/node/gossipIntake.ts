import { VeritaskError } from '../core/errors.ts'
import type { SignatureVerifier } from '../core/signing.ts'
import type { Attested, Challenge, Commit, Hex, Reveal, Signed, TaskSpec } from '../core/types.ts'
import type { GossipMessage, ValidationResult } from '../ports/network.ts'
import type { Logger } from './logger.ts'
import type { MessageReader, ReadMessage } from './messageReader.ts'

/**
 * What the node makes of one gossip item, as data. `hold`: kept until its task's spec or state
 * catches up, and relayed like `accept`. `ignore` and `reject` name the code they were counted
 * under (`NodeStats.rejected`); an `ignore` without a code was not counted (a message for a task
 * already decided, or no room to hold it).
 */
export type GossipOutcome = { kind: 'accept' } | { kind: 'hold' } | { kind: 'ignore'; code?: string } | { kind: 'reject'; code: string }

/** A commit, reveal or challenge whose signature is checked, on its way to the task it names. */
export type TaskMessage =
  | { type: 'commit'; item: Attested<Commit> }
  | { type: 'reveal'; item: Attested<Reveal> }
  | { type: 'challenge'; item: Signed<Challenge> }

export interface CreateGossipIntakeParameters {
  read: MessageReader
  verify: SignatureVerifier
  log: Logger
  /** Counts a refused message under its code (`NodeStats.rejected`). */
  countRejection(code: string): void
  /** Opens a task from a gossiped spec; throws (a `SpecRejectedError`) when the node refuses it. */
  acceptSpec(signed: Signed<TaskSpec>, from: string, digest: Hex): Promise<unknown>
  /** Hands a message to the open task it names and says what it made of it; undefined when no such task is open. */
  deliver(message: TaskMessage): GossipOutcome | undefined
  /** Whether the task was decided on this node. */
  isDecided(taskId: Hex): boolean
  /** A reveal for a task that is no longer open: kept as evidence if the task awaits settlement. */
  observeLate(signed: Attested<Reveal>): void
}

export interface GossipIntake {
  /** The handler for the task topics (specs, commits, reveals, challenges). */
  onGossip(gossip: GossipMessage): Promise<ValidationResult>
  /** What `onGossip` makes of a message, before it is reported to the transport. */
  judge(gossip: GossipMessage): Promise<GossipOutcome>
  /** Delivers a checked message to its task, or holds it until the task's spec arrives. */
  route(message: TaskMessage): GossipOutcome
  /** Hands over (and forgets) the messages held for a task whose spec has now arrived, in arrival order. */
  takeOrphans(taskId: Hex): TaskMessage[]
}

/** Messages for tasks this node has not seen yet (gossip may reorder), kept briefly and bounded. */
const MAX_ORPHANS = 4_096

/** The code a refusal is counted under: a `VeritaskError`'s own code, `UNEXPECTED` for anything else. */
export function rejectionCode(error: unknown): string {
  return error instanceof VeritaskError ? error.code : 'UNEXPECTED'
}

/** What the transport is told: a held message is relayed. */
export function validationResultOf(outcome: GossipOutcome): ValidationResult {
  return outcome.kind === 'hold' ? 'accept' : outcome.kind
}

/** What a batch's items, each judged on its own, make of the whole message. */
function batchOutcome(outcomes: readonly GossipOutcome[]): GossipOutcome {
  const rejected = outcomes.find((o) => o.kind === 'reject')
  if (rejected !== undefined) return rejected
  return outcomes.some((o) => o.kind === 'accept' || o.kind === 'hold') ? { kind: 'accept' } : { kind: 'ignore' }
}

/**
 * Decodes and checks gossip on the task topics and turns each message into an outcome: specs open
 * tasks, signed commits, reveals and challenges go to their task, and those for a task whose spec
 * has not arrived yet are held (bounded).
 */
export function createGossipIntake({ read, verify, log, countRejection, acceptSpec, deliver, isDecided, observeLate }: CreateGossipIntakeParameters): GossipIntake {
  const orphans = new Map<Hex, TaskMessage[]>()
  let orphanCount = 0

  const refuse = (kind: 'ignore' | 'reject', code: string): GossipOutcome => {
    countRejection(code)
    return { kind, code }
  }

  /** The one place a thrown refusal becomes an outcome: `reject` for the codes `isRejected` names, `ignore` for the rest. */
  const refusedBy = (error: unknown, isRejected: (code: string) => boolean): GossipOutcome => {
    const code = rejectionCode(error)
    return refuse(isRejected(code) ? 'reject' : 'ignore', code)
  }

  function holdOrphan(message: TaskMessage): GossipOutcome {
    if (orphanCount >= MAX_ORPHANS) return { kind: 'ignore' }
    const taskId = message.item.message.taskId
    const list = orphans.get(taskId) ?? []
    list.push(message)
    orphans.set(taskId, list)
    orphanCount++
    return { kind: 'hold' }
  }

  function route(message: TaskMessage): GossipOutcome {
    const outcome = deliver(message)
    if (outcome !== undefined) return outcome
    // A challenge is held even for a task decided here (commits and reveals are not).
    if (message.type === 'challenge') return holdOrphan(message)
    if (message.type === 'reveal') observeLate(message.item)
    if (isDecided(message.item.message.taskId)) return { kind: 'ignore' }
    return holdOrphan(message)
  }

  async function judge({ data, from }: GossipMessage): Promise<GossipOutcome> {
    let result: ReadMessage
    try {
      result = read(data)
    } catch (error) {
      const outcome = refusedBy(error, () => true)
      log.debug('malformed message', { from, error })
      return outcome
    }
    const { message, digest } = result
    switch (message.type) {
      case 'spec':
        try {
          await acceptSpec(message, from, digest)
          return { kind: 'accept' }
        } catch (error) {
          return refusedBy(error, (code) => code === 'SPEC_BAD_SIGNATURE')
        }
      case 'commits': {
        if (!(await verify(digest, message.signature, message.signer))) return refuse('reject', 'COMMIT_BAD_SIGNATURE')
        const signer = message.signer
        return batchOutcome(message.message.commits.map((commit) => route({ type: 'commit', item: { message: commit, signer } })))
      }
      case 'reveals': {
        if (!(await verify(digest, message.signature, message.signer))) return refuse('reject', 'REVEAL_BAD_SIGNATURE')
        const signer = message.signer
        return batchOutcome(message.message.reveals.map((reveal) => route({ type: 'reveal', item: { message: reveal, signer } })))
      }
      case 'challenge':
        if (!(await verify(digest, message.signature, message.signer))) return refuse('reject', 'CHALLENGE_BAD_SIGNATURE')
        return route({ type: 'challenge', item: message })
      case 'proposal':
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
      const waiting = orphans.get(taskId)
      if (waiting === undefined) return []
      orphans.delete(taskId)
      orphanCount -= waiting.length
      return waiting
    },
  }
}
