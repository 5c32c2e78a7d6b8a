import { bytesToHex } from 'viem'
import { withLateReveal } from '../core/certificate.ts'
import { computeCommitment } from '../core/commit.ts'
import { contentId, failureResultHash } from '../core/contentId.ts'
import { devnetDomain } from '../core/eip712.ts'
import { signChallenge } from '../core/challenge.ts'
import type { VrfKey, VrfVerifier } from '../core/challenge.ts'
import { ExecutionAbortedError, SpecRejectedError } from '../core/errors.ts'
import { assertEscrowCovers } from '../core/escrow.ts'
import { encodeMessage } from '../core/messages.ts'
import type { ProtocolMessage } from '../core/messages.ts'
import { DRAW_LEAD_BLOCKS, DRAW_LEAD_MS, MAX_DRAW_LEAD_BLOCKS, defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import type { Sealed } from '../core/seal.ts'
import {
  advanceTask,
  applyCommit,
  applyOutputs,
  arbitrationSeats,
  assertSeatable,
  challengedCommitment,
  isAwaitingChallenge,
  isAwaitingCommit,
  isAwaitingReveal,
  judgeChallenge,
  judgeCommit,
  judgeReveal,
  mayRevealEarly,
  missingOutputs,
  nextTaskDeadline,
  openArbitration,
  openTask,
  rankTask,
  taskTiming,
} from '../core/task.ts'
import type { TaskMessageOutcome, TaskState, TaskTiming } from '../core/task.ts'
import { isSignedBy } from '../core/signing.ts'
import type { SignatureVerifier, Signer } from '../core/signing.ts'
import { checkTaskAnchor, MISSING_ANCHOR } from '../core/taskAnchor.ts'
import type { AnchorRejection } from '../core/taskAnchor.ts'
import { checkDrawBlock, checkTaskSpec, requiredCapability } from '../core/taskSpec.ts'
import type { Commit, Hex, ProtocolDomain, Reveal, SignedChallenge, SignedSpec, TaskAnchor, TaskSpec, Verdict } from '../core/types.ts'
import type { Runtime } from '../ports/runtime.ts'
import { topics } from '../ports/network.ts'
import type { GossipHandler, Network } from '../ports/network.ts'
import type { BlobStore, ChainView, EpochView, NodeStore } from '../ports/node.ts'
import { createMemoryBlobStore, createMemoryNodeStore } from '../store/memory/createMemoryStores.ts'
import { systemClock } from './clock.ts'
import type { Clock } from './clock.ts'
import { silentLogger } from './logger.ts'
import { createEpochBook } from './epochBook.ts'
import { silentEvents } from './events.ts'
import type { NodeEventSink } from './events.ts'
import { createGossipIntake, defaultHeldLimits, rejectionCode } from './gossipIntake.ts'
import type { GossipOutcome, HeldLimits, TaskMessage } from './gossipIntake.ts'
import { createMessageReader } from './messageReader.ts'
import { createOutbox } from './outbox.ts'
import { createRevealResend } from './revealResend.ts'
import { checkTaskBlobs } from './checkTaskBlobs.ts'
import { certificateOf, createTaskEntry } from './taskEntry.ts'
import type { TaskEntry } from './taskEntry.ts'
import type { NodeStats, VerdictListener, VeritaskNode } from './veritaskNode.ts'
import type { MessageReader } from './messageReader.ts'
import type { Logger } from './logger.ts'

export type { NodeStats, TaskStatus, VerdictListener, VeritaskNode } from './veritaskNode.ts'

export interface CreateNodeParameters {
  /** The node's staked account. Its key signs commits and reveals and is never logged. */
  account: Signer
  /**
   * The VRF key of the same account key (`createVrfKey`): as a sampled task's verifier the node
   * draws the audit with it. Without it the node never challenges, and the next node audits.
   */
  vrf?: VrfKey
  network: Network
  chain: ChainView
  /** Runtimes by name (`wasm`, …); the node executes only tasks for these. */
  runtimes: Readonly<Record<string, Runtime>>
  blobs?: BlobStore
  store?: NodeStore
  clock?: Clock
  params?: ProtocolParams
  domain?: ProtocolDomain
  logger?: Logger
  /** Source of commit salts; cryptographic randomness by default. */
  randomBytes?: (length: number) => Uint8Array
  /** Signature check for gossip; viem's pure-JS recovery by default. */
  verify?: SignatureVerifier
  /** Audit draw check (VRF proofs); the pure-JS `verifyVrf` by default. */
  verifyVrf?: VrfVerifier
  /** Decodes gossip; `createMessageReader` by default (nodes in one process can share one). */
  read?: MessageReader
  /**
   * How long own commits and reveals wait to be signed together (ms, real time). 0 sends what
   * the current turn of the event loop produced. Default 2: well under any gossip hop.
   */
  batchWindowMs?: number
  /**
   * How long after a new epoch opens specs for the previous one are still accepted (ms): nodes
   * see the boundary at slightly different times, and a spec crossing it must not split them.
   */
  epochGraceMs?: number
  /** Bounds on gossip held for tasks whose spec has not arrived (docs/operations.md). */
  heldLimits?: HeldLimits
  /** Where the node reports its task lifecycle (the API's event stream); nowhere by default. */
  events?: NodeEventSink
  /**
   * How far past its head the node tells requesters to name the draw block (`nextDrawBlock`,
   * `GET /v1/status`), in ms of the chain's observed block time (`DRAW_LEAD_BLOCKS` to
   * `MAX_DRAW_LEAD_BLOCKS` blocks): time to sign and submit the spec before the block is mined.
   * Default `DRAW_LEAD_MS` (500).
   */
  drawLeadMs?: number
  /**
   * How long an admitted spec waits for its draw block at most, before its deadline (ms). A spec
   * relayed by gossip may name any block, even one no chain will reach in years: it must not hold
   * its fee and its epoch's settlement that long. Default: 30 s, or twice `MAX_DRAW_LEAD_BLOCKS`
   * blocks at the chain's observed block time if that is longer.
   */
  maxDrawWaitMs?: number
}

/** A spec admitted here whose seats are not drawn yet: what opening it needs. */
interface Admission {
  signed: SignedSpec
  view: EpochView
  params: ProtocolParams
  origin: string
  mayOmit: boolean
  /**
   * The anchor proofs copies of the spec came with, the first copy's first, checked in this order
   * at the draw: the proof is not signed, so anyone can relay a copy with a bogus one first.
   */
  anchors: TaskAnchor[]
  /** A proof the chain already showed to hold (anchored before the draw block): the task opens with it. */
  proven?: TaskAnchor
  /** Chain reads spent on copies that came with every slot taken (`MAX_DISPLACEMENT_READS`). */
  displacementReads: number
}

/** Anchor proofs a task waiting for its draw keeps at most (`Admission.anchors`). */
const MAX_ANCHOR_CANDIDATES = 4
/**
 * Copies, with every proof slot of a waiting task taken, whose anchor the node reads to see whether
 * it holds already (and so displaces the unproven ones): a relay's flood of bogus copies costs a
 * node at most this many chain reads per task.
 */
const MAX_DISPLACEMENT_READS = 16

/** The refusal of a spec whose id was not anchored before its draw block (core/taskAnchor.ts). */
function notAnchored(taskId: Hex, spec: TaskSpec, check: AnchorRejection): SpecRejectedError {
  return new SpecRejectedError('SPEC_NOT_ANCHORED', check.message, {
    details: { taskId, reason: check.code, drawBlock: spec.drawBlock },
    hint: 'Anchor the task ids on-chain (TaskAnchors.anchor) in a block before the draw block, and send each spec with its anchor proof; the SDK does both.',
  })
}

/** The shortest a spec waits for its draw block (`CreateNodeParameters.maxDrawWaitMs`). */
const MIN_DRAW_WAIT_MS = 30_000

interface AcceptSpecOptions {
  resuming?: boolean
  /** Submitted to this node by its requester (the API), not relayed: its draw block is checked. */
  submitted?: boolean
  digest?: Hex
  beforeOpen?: () => void
}

/**
 * Composes a node: validates gossip, tracks each task's state through the pure core, executes
 * tasks it is assigned, commits and reveals, and reports verdicts.
 */
export function createNode({
  account,
  vrf,
  network,
  chain,
  runtimes,
  blobs = createMemoryBlobStore(),
  store = createMemoryNodeStore(),
  clock = systemClock,
  params = defaultParams,
  domain = devnetDomain,
  logger = silentLogger,
  randomBytes = (length) => crypto.getRandomValues(new Uint8Array(length)),
  verify = isSignedBy,
  verifyVrf,
  read = createMessageReader({ domain, maxBytes: params.maxMessageBytes }),
  batchWindowMs = 2,
  epochGraceMs = 2_000,
  heldLimits = defaultHeldLimits,
  events = silentEvents,
  drawLeadMs = DRAW_LEAD_MS,
  maxDrawWaitMs,
}: CreateNodeParameters): VeritaskNode {
  const address = account.address
  const log = logger.child({ node: address })
  const epochs = createEpochBook({ chain, clock, epochGraceMs })

  const tasks = new Map<Hex, TaskEntry>()
  /** Specs admitted here and waiting for their draw block (`TaskSpec.drawBlock`). */
  const drawing = new Map<Hex, Admission>()
  const listeners = new Set<VerdictListener>()
  let running = false
  /** Counters this module keeps; `stats()` fills in the ones the outbox and the epoch book keep, in this order. */
  const stats: NodeStats = {
    specsAccepted: 0,
    openTasks: 0,
    executions: 0,
    commitsSent: 0,
    revealsSent: 0,
    abstentions: 0,
    comparisons: 0,
    comparisonFetchFailures: 0,
    verdicts: { verified: 0, failed: 0, unresolved: 0 },
    lateReveals: 0,
    rejected: {},
    feesReserved: 0n,
    heldMessages: 0,
    mutedPeers: 0,
  }

  function countRejection(code: string): void {
    stats.rejected[code] = (stats.rejected[code] ?? 0) + 1
  }

  async function publish(message: ProtocolMessage): Promise<void> {
    const topic = {
      spec: topics.specs,
      commits: topics.commits,
      reveals: topics.reveals,
      challenge: topics.challenges,
      proposal: topics.batches,
      evidence: topics.batches,
      vouch: topics.batches,
      'batch-signature': topics.batches,
    }[message.type]
    await network.publish(topic, encodeMessage(message))
  }

  // ── task lifecycle ───────────────────────────────────────────────────────────────────────────

  /** Records a new state and does what it asks of this node: execute, reveal, or settle. */
  function update(taskId: Hex, entry: TaskEntry, state: TaskState): void {
    entry.state = state
    if (state.phase === 'decided') return finish(taskId, entry)
    if (state.phase === 'dispute') return arbitrate(taskId, entry)
    if (state.phase === 'challenge' && entry.earlyChallenge !== undefined) {
      const early = entry.earlyChallenge
      entry.earlyChallenge = undefined
      // Taken: its update did the rest. Refused (views split, or a stray): this node goes on as if
      // it never came, and its deadlines and own challenge still follow.
      if (onChallenge(taskId, entry, early).kind === 'accept') return
    }
    if (state.phase === 'commit' && entry.earlyCommits.length > 0) {
      const early = entry.earlyCommits
      entry.earlyCommits = []
      for (const commit of early) {
        tryCommit(taskId, entry, commit)
        if (tasks.get(taskId) !== entry || entry.state.phase !== 'commit') return
      }
    }
    if (state.phase === 'reveal' && entry.earlyReveals.length > 0) {
      const early = entry.earlyReveals
      entry.earlyReveals = []
      for (const reveal of early) if (!tryReveal(taskId, entry, reveal)) return
    }
    if (isAwaitingCommit(entry.state, address) && !entry.executing) void execute(taskId, entry)
    // A node whose own commit went out reveals it even where it did not count here (its deadline
    // passed between signing and sending): nodes that took the commit in time count a withholder otherwise.
    if ((isAwaitingReveal(entry.state, address) || entry.state.phase === 'reveal') && !entry.revealSent) void reveal(taskId, entry)
    if (isAwaitingChallenge(entry.state, address) && !entry.challengeSent) void challenge(taskId, entry)
    if (entry.state.phase === 'compare' && !entry.comparing) void compare(taskId, entry)
    schedule(taskId, entry)
  }

  /**
   * The seats' reveals disagree: rank the task's arbitration places (only now, since only a
   * disputed task needs them) and seat its arbiters. They execute and commit like any executor.
   * A dispute can come long after its epoch opened (backups' windows, a late audit), when this
   * node keeps that snapshot no longer: it is read back from the chain, as a settler does.
   */
  function arbitrate(taskId: Hex, entry: TaskEntry): void {
    const view = chain.snapshot(entry.epoch)
    if (view !== undefined) return seatArbiters(taskId, entry, view)
    schedule(taskId, entry)
    void (chain.loadSnapshot?.(entry.epoch) ?? Promise.resolve(undefined))
      .catch((error: unknown) => log.debug('epoch snapshot not read', { epoch: entry.epoch, error }))
      .then((loaded) => {
        if (tasks.get(taskId) !== entry || entry.state.phase !== 'dispute') return
        if (loaded !== undefined) return seatArbiters(taskId, entry, loaded)
        // Without the epoch's snapshot no arbiter can be ranked: the task ends unresolved at its deadline.
        log.warn('dispute not arbitrated: the epoch snapshot is not known here', { taskId, epoch: entry.epoch })
      })
  }

  function seatArbiters(taskId: Hex, entry: TaskEntry, view: EpochView): void {
    const { arbiters } = view.params ?? params
    const seats = arbitrationSeats({ view, taskId, spec: entry.state.spec, draw: entry.draw, count: arbiters })
    const state = openArbitration(entry.state, seats, clock.now(), entry.timing)
    log.debug('task disputed', { taskId, arbiters: state.arbitration?.arbiters.length ?? 0 })
    update(taskId, entry, state)
  }

  function schedule(taskId: Hex, entry: TaskEntry): void {
    entry.cancelTimer?.()
    const at = nextTaskDeadline(entry.state)
    if (at === null || !running) return
    entry.cancelTimer = clock.setTimer(at - clock.now(), () => {
      // Messages that arrived while the event loop was busy are handled before the deadline is
      // applied: a deadline must not overtake a commit that was already waiting to be read.
      setImmediate(() => {
        const current = tasks.get(taskId)
        if (current === undefined || current !== entry) return
        current.cancelTimer = undefined
        update(taskId, current, advanceTask(current.state, clock.now(), current.timing))
      })
    })
  }

  function finish(taskId: Hex, entry: TaskEntry): void {
    entry.cancelTimer?.()
    tasks.delete(taskId)
    // Likewise at the decision: a commit this node sent is opened, late if need be (`withLateReveal`).
    if (!entry.revealSent) reveal(taskId, entry)
    const verdict = entry.state.verdict as Verdict
    const spec = entry.state.spec
    // Reveals that came after the phase closed here are still evidence (`withLateReveal`).
    let certificate = certificateOf(entry)
    for (const reveal of entry.lateReveals) {
      const revised = withLateReveal(certificate, reveal)
      if (revised === undefined) continue
      certificate = revised
      stats.lateReveals++
    }
    // An unresolved task is not charged: the book releases its reservation.
    epochs.recordDecided(entry.epoch, { certificate, verdict, mayOmit: entry.mayOmit })
    if (entry.pendingOutput !== undefined && verdict.resultHash === contentId(entry.pendingOutput)) {
      blobs.put(entry.pendingOutput)
    } else if (entry.state.outputs.has(verdict.resultHash)) {
      // Fetched for a tolerance comparison: the canonical result is already here.
      blobs.put(entry.state.outputs.get(verdict.resultHash)!)
    } else if (verdict.outcome === 'verified' && entry.origin === network.peerId && !blobs.has(verdict.resultHash)) {
      // The gateway serves the results of the tasks it was given, whoever computed them.
      network
        .fetchBlob(verdict.resultHash, { peers: [], sources: verdict.executors, maxBytes: spec.limits.outputBytes })
        .then((bytes) => blobs.put(bytes))
        .catch((error: unknown) => log.debug('result not fetched', { taskId, error }))
    }
    store.putVerdict(verdict)
    stats.verdicts[verdict.outcome]++
    log.debug('task decided', { taskId, outcome: verdict.outcome, executors: verdict.executors.length })
    events.emit({ type: 'task.decided', taskId, requester: spec.requester, verdict })
    for (const listener of listeners) listener(verdict, entry.state)
  }

  async function loadBlob(cid: Hex, origin: string, maxBytes: number): Promise<Uint8Array> {
    const local = blobs.get(cid)
    if (local !== undefined) return local
    const bytes = await network.fetchBlob(cid, { peers: origin === '' ? [] : [origin], maxBytes })
    blobs.put(bytes)
    return bytes
  }

  async function execute(taskId: Hex, entry: TaskEntry): Promise<void> {
    entry.executing = true
    const spec = entry.state.spec
    try {
      // A restarted node re-sends what it signed instead of signing a different commit.
      const previous = store.getOwnCommit(taskId)
      if (previous !== undefined) return enqueue('commits', previous)

      const runtime = runtimes[spec.runtime]
      if (runtime === undefined) throw new ExecutionAbortedError('EXEC_ABORTED', `No ${spec.runtime} runtime on this node.`)
      const [program, input] = await Promise.all([
        loadBlob(spec.program, entry.origin, params.maxProgramBytes),
        loadBlob(spec.input, entry.origin, params.maxInputBytes),
      ])
      stats.executions++
      const result = await runtime.execute({ programId: spec.program, program, input, limits: spec.limits, taskId })
      const current = tasks.get(taskId)
      if (current === undefined || !isAwaitingCommit(current.state, address)) {
        log.debug('execution finished after losing the seat', { taskId })
        return
      }
      const resultHash = result.status === 'ok' ? contentId(result.output) : failureResultHash(result.reason)
      const salt = bytesToHex(randomBytes(32))
      const commitment = computeCommitment({ taskId, status: result.status, resultHash, salt, executor: address })
      if (result.status === 'ok') current.pendingOutput = result.output
      enqueue('commits', { taskId, status: result.status, resultHash, salt, commitment })
    } catch (error) {
      stats.abstentions++
      log.warn('execution abandoned; not committing', { taskId, error })
    }
  }

  // ── own commits and reveals go out through the outbox ───────────────────────────────────────

  const outbox = createOutbox({
    account,
    domain,
    store,
    publish,
    log,
    batchWindowMs,
    isRunning: () => running,
    isAwaitingCommit(taskId) {
      const entry = tasks.get(taskId)
      return entry !== undefined && isAwaitingCommit(entry.state, address)
    },
    onCommitsSent(commits) {
      for (const commit of commits) {
        const taskId = commit.message.taskId
        const entry = tasks.get(taskId)
        if (entry === undefined) continue
        try {
          const state = applyCommit(entry.state, commit, clock.now(), entry.timing)
          entry.evidence.commits.set(address, commit)
          events.emit({ type: 'task.committed', taskId, executor: address })
          update(taskId, entry, state)
        } catch (error) {
          log.debug('own commit not applicable', { taskId, error })
        }
      }
    },
    onRevealsSigned(reveals) {
      for (const reveal of reveals) {
        const entry = tasks.get(reveal.message.taskId)
        // A result is served from the moment it is revealed.
        if (entry?.pendingOutput !== undefined) blobs.put(entry.pendingOutput)
      }
    },
    onRevealsSent(reveals) {
      resend.sent(reveals.map((r) => r.message.taskId))
      for (const reveal of reveals) {
        const taskId = reveal.message.taskId
        const entry = tasks.get(taskId)
        // A reveal sent after the decision goes into this node's certificate as into its peers'.
        if (entry !== undefined) tryReveal(taskId, entry, reveal)
        else lateReveal(taskId, reveal)
      }
    },
  })
  const enqueue = outbox.enqueue
  /** Own reveals that went out while this node heard nothing: sent again once it hears the network (`createRevealResend`). */
  const resend = createRevealResend({ now: () => clock.now(), silenceMs: params.revealWindowMs / 2 })
  const onGossip: GossipHandler = (gossip) => {
    for (const taskId of resend.heard()) {
      const own = store.getOwnCommit(taskId)
      if (own !== undefined) enqueue('reveals', { taskId, status: own.status, resultHash: own.resultHash, salt: own.salt })
    }
    return intake.onGossip(gossip)
  }

  function reveal(taskId: Hex, entry: TaskEntry): void {
    const own = store.getOwnCommit(taskId)
    if (own === undefined) return
    entry.revealSent = true
    enqueue('reveals', { taskId, status: own.status, resultHash: own.resultHash, salt: own.salt })
  }

  /** As a task's designated verifier: sign a challenge of the best-ranked commitment, with its audit draw, and send it. */
  async function challenge(taskId: Hex, entry: TaskEntry): Promise<void> {
    const commitment = challengedCommitment(entry.state.ranking, entry.state.commits)
    if (commitment === undefined) return
    entry.challengeSent = true
    if (vrf === undefined) {
      // Without its VRF key a node cannot draw the audit: it stays silent, and the next node audits.
      log.warn('no VRF key: cannot challenge as a task’s verifier', { taskId })
      return
    }
    // The signature (RFC 6979) and the VRF proof are deterministic: after a restart the same challenge comes out.
    const signed = await signChallenge(account, vrf, { taskId, commitment }, domain)
    await publish({ type: 'challenge', ...signed })
    const current = tasks.get(taskId)
    if (current !== undefined) onChallenge(taskId, current, signed)
  }

  /**
   * A tolerance comparison with differing results: fetch each distinct revealed result by content
   * id (its executors serve it since their reveal), then hand the bytes to the core, which
   * clusters them. A result nobody serves agrees only with reveals of the same hash.
   */
  async function compare(taskId: Hex, entry: TaskEntry): Promise<void> {
    entry.comparing = true
    stats.comparisons++
    const maxBytes = entry.state.spec.limits.outputBytes
    const fetched = await Promise.all(
      missingOutputs(entry.state).map(async (cid) => {
        const local = blobs.get(cid)
        if (local !== undefined) return local
        // Its executors serve it since their reveal: ask them first.
        const sources = entry.state.reveals.filter((r) => r.reveal.resultHash === cid).map((r) => r.executor)
        try {
          return await network.fetchBlob(cid, { peers: [], sources, maxBytes })
        } catch (error) {
          stats.comparisonFetchFailures++
          log.debug('result for comparison not fetched', { taskId, cid, error })
          return undefined
        }
      }),
    )
    if (tasks.get(taskId) !== entry) return
    // A later compare phase (a sampled task's arbitration) fetches its own results again.
    entry.comparing = false
    const outputs = fetched.filter((bytes): bytes is Uint8Array => bytes !== undefined)
    update(taskId, entry, applyOutputs(entry.state, outputs, clock.now(), entry.timing, true))
  }

  /**
   * Judges a commit, reveal or challenge against the task and applies what the core accepts; a
   * refusal is counted under its code. An unexpected error (a failing store or listener, a bug)
   * is counted as `UNEXPECTED` and the message ignored.
   */
  function judged(
    taskId: Hex,
    entry: TaskEntry,
    judge: (state: TaskState, now: number, timing: TaskTiming) => TaskMessageOutcome,
    onAccept: () => void,
  ): TaskMessageOutcome {
    try {
      const outcome = judge(entry.state, clock.now(), entry.timing)
      if (outcome.kind === 'accept') {
        // Evidence first: the new state may decide the task, and its certificate needs this message.
        onAccept()
        update(taskId, entry, outcome.state)
      }
      else if (outcome.kind !== 'hold') countRejection(outcome.code)
      return outcome
    } catch (error) {
      const code = rejectionCode(error)
      countRejection(code)
      return { kind: 'ignore', code }
    }
  }

  function onChallenge(taskId: Hex, entry: TaskEntry, signed: SignedChallenge): TaskMessageOutcome {
    const outcome = judged(taskId, entry, (state, now, timing) => judgeChallenge(state, signed, now, timing, verifyVrf), () => {
      entry.evidence.challenge = signed
    })
    if (outcome.kind === 'hold') entry.earlyChallenge = signed
    return outcome
  }

  function tryCommit(taskId: Hex, entry: TaskEntry, signed: Sealed<Commit>): TaskMessageOutcome {
    const outcome = judged(taskId, entry, (state, now, timing) => judgeCommit(state, signed, now, timing), () => {
      entry.evidence.commits.set(signed.signer, signed)
      events.emit({ type: 'task.committed', taskId, executor: signed.signer })
    })
    // Kept until the seats here change; one per backup, so the list stays small.
    if (outcome.kind === 'hold' && !entry.earlyCommits.some((c) => c.signer === signed.signer)) entry.earlyCommits.push(signed)
    return outcome
  }

  /** Applies a reveal; returns false if the task was decided by it. */
  function tryReveal(taskId: Hex, entry: TaskEntry, signed: Sealed<Reveal>): boolean {
    const outcome = judged(taskId, entry, (state, now, timing) => judgeReveal(state, signed, now, timing), () => {
      entry.evidence.reveals.set(signed.signer, signed)
      events.emit({ type: 'task.revealed', taskId, executor: signed.signer, status: signed.message.status, resultHash: signed.message.resultHash })
    })
    // One per signer: whatever a signer sends beyond its first held reveal waits for nothing new.
    if (outcome.kind === 'hold' && !entry.earlyReveals.some((r) => r.signer === signed.signer)) entry.earlyReveals.push(signed)
    // An arbiter may miss another arbiter's commit for good: its own sent commit is opened once
    // more than a third of the arbiters revealed (`mayRevealEarly`), not after its peers decided.
    if (outcome.kind === 'hold' && !entry.revealSent && entry.evidence.commits.has(address) && mayRevealEarly(entry.state, entry.earlyReveals.map((r) => r.signer))) {
      reveal(taskId, entry)
    }
    if (outcome.kind === 'ignore' && outcome.code === 'REVEAL_PHASE_CLOSED' && !entry.lateReveals.some((r) => r.signer === signed.signer)) entry.lateReveals.push(signed)
    return outcome.kind !== 'accept' || outcome.state.phase !== 'decided'
  }

  /**
   * A reveal for a task this node already decided: kept as evidence in the task's certificate when
   * it opens a counted commit and agrees with its stage (`withLateReveal`), and relayed, so that a
   * deadline this node's busy event loop let pass does not split it from the committee. Undefined
   * when it adds nothing (the intake ignores it).
   */
  function lateReveal(taskId: Hex, signed: Sealed<Reveal>): GossipOutcome | undefined {
    const epoch = store.getSpec(taskId)?.message.epoch
    if (epoch === undefined) return undefined
    const taken = epochs.reviseDecided(epoch, taskId, (task) => {
      const certificate = withLateReveal(task.certificate, signed)
      return certificate === undefined ? undefined : { ...task, certificate }
    })
    if (!taken) return undefined
    stats.lateReveals++
    log.debug('late reveal kept as evidence', { taskId, executor: signed.signer })
    return { kind: 'accept' }
  }

  /** Hands a checked message to its open task; undefined when the task is not open here. */
  function deliver(message: TaskMessage): GossipOutcome | undefined {
    const taskId = message.item.message.taskId
    const entry = tasks.get(taskId)
    if (entry === undefined) return message.type === 'reveal' ? lateReveal(taskId, message.item) : undefined
    switch (message.type) {
      case 'commit':
        return tryCommit(taskId, entry, message.item)
      case 'challenge':
        return onChallenge(taskId, entry, message.item)
      case 'reveal':
        tryReveal(taskId, entry, message.item)
        // Relayed whatever it opens: other nodes may still be in the task's reveal phase.
        return { kind: 'accept' }
    }
  }

  // ── specs: admission, then the task opens ────────────────────────────────────────────────────

  /**
   * Admits a signed spec: every check, then its fee is reserved and it is stored and relayed. Its
   * seats are drawn once its draw block comes (`openTask`), if its id was anchored on-chain before
   * that block (core/taskAnchor.ts). The anchor is read as the spec arrives: where the chain already
   * shows it, or the draw block has come, it is checked then and a spec failing it leaves nothing
   * behind; otherwise it is checked at the draw, and a task failing it is dropped and its fee
   * released. A spec is taken whatever its draw block (a submitted one at most
   * `MAX_DRAW_LEAD_BLOCKS` ahead, `checkDrawBlock`): the anchor, not the moment a spec reaches a
   * node, keeps the requester from choosing its seats, and nodes that see a spec before and after
   * its block must not split over the task (docs/protocol.md §2). `digest`: the spec's hash when the
   * gossip reader computed it; `beforeOpen`: runs once every check has passed (a submission stores
   * its uploaded blobs there, so a refused spec leaves nothing behind).
   */
  async function acceptSpec(signed: SignedSpec, origin: string, { resuming = false, submitted = false, digest, beforeOpen }: AcceptSpecOptions = {}): Promise<Hex> {
    const spec = signed.message
    // The newest block as the spec arrives, before anything waits: the draw may lie at most so far beyond it.
    const head = chain.head()
    // Only the very next epoch is worth waiting for; anything further ahead is refused at once.
    if (spec.epoch === chain.epoch() + 1n && chain.awaitEpoch !== undefined) await chain.awaitEpoch(spec.epoch, epochGraceMs)
    const view = epochs.epochOf(spec, resuming)
    const epochParams = view.params ?? params
    const taskId = await checkTaskSpec({ signed, domain, params: epochParams, now: clock.now(), verify, ...(digest === undefined ? {} : { taskId: digest }) })
    if (submitted) checkDrawBlock(spec, head, taskId)
    assertSeatable(taskId, spec, view.eligibleNodes(requiredCapability(spec)).length)
    const anchor = signed.anchor
    if (anchor === undefined) throw notAnchored(taskId, spec, MISSING_ANCHOR)
    const assertAdmissible = () => {
      if (tasks.has(taskId) || store.getVerdict(taskId) !== undefined) {
        throw new SpecRejectedError('SPEC_DUPLICATE', 'This task is already known.', { details: { taskId } })
      }
      // Escrow at the snapshot of the spec's own epoch, which its batch charges by: a spec of the
      // previous epoch (in grace) must not spend a deposit only the newer snapshot holds.
      assertEscrowCovers({
        taskId,
        requester: spec.requester,
        fee: spec.fee,
        balance: chain.escrowBalance(spec.requester, spec.epoch),
        reserved: epochs.reservedBy(spec.requester),
      })
    }
    // A copy of a task waiting for its draw: its proof is one more to try at the draw.
    if (drawing.has(taskId)) return addAnchorCandidate(taskId, drawing.get(taskId)!, anchor)
    // Before the chain is read: a copy of a known task, or a spec nobody pays for, costs no read.
    assertAdmissible()
    const anchored = await chain.anchorOf(spec.requester, anchor.root)
    const draw = chain.blockHash(spec.drawBlock)
    // Once the draw block is here every anchor made before it shows: a missing one fails now too.
    if (anchored !== undefined || draw !== undefined) {
      const check = checkTaskAnchor(taskId, spec, anchor, anchored)
      if (check.kind === 'reject') throw notAnchored(taskId, spec, check)
    }
    // Again: another copy may have been admitted, or the escrow reserved, while the anchor was read.
    if (drawing.has(taskId)) return addAnchorCandidate(taskId, drawing.get(taskId)!, anchor)
    assertAdmissible()
    beforeOpen?.()
    epochs.reserve(spec.epoch, spec.requester, spec.fee)
    stats.specsAccepted++
    // A spec of the previous epoch crossed the boundary; a resumed one was seen by a node that missed part of its epoch.
    const admission: Admission = {
      signed,
      view,
      params: epochParams,
      origin,
      mayOmit: resuming || spec.epoch !== chain.epoch(),
      anchors: [anchor],
      // Checked above where the chain already showed the anchor.
      ...(anchored === undefined ? {} : { proven: anchor }),
      displacementReads: 0,
    }
    if (draw !== undefined) {
      openAdmitted(taskId, admission, draw)
      return taskId
    }
    // Not stored until it opens: a task dropped at its draw was never known here (a member that
    // never ran it cannot vouch for what its certificate leaves out, core/batchCheck.ts).
    drawing.set(taskId, admission)
    void awaitDraw(taskId, admission)
    return taskId
  }

  /**
   * Keeps the anchor proof of another copy of a task waiting for its draw (at most
   * `MAX_ANCHOR_CANDIDATES`): whichever proves the id at the draw opens the task. With every slot
   * taken, a copy whose anchor the chain already shows to hold (a fact, however early it is read:
   * anchors are write-once) becomes the task's proof: a relay that filled the slots with bogus
   * copies first cannot keep the genuine one out. A copy whose proof is already kept, one past the
   * cap that does not hold yet, and any once a proof holds, are duplicates.
   */
  async function addAnchorCandidate(taskId: Hex, admission: Admission, anchor: TaskAnchor): Promise<Hex> {
    const duplicate = () => new SpecRejectedError('SPEC_DUPLICATE', 'This task is already known.', { details: { taskId } })
    const same = (a: TaskAnchor) => a.root === anchor.root && a.index === anchor.index && a.proof.join() === anchor.proof.join()
    if (admission.proven !== undefined || admission.anchors.some(same)) throw duplicate()
    if (admission.anchors.length < MAX_ANCHOR_CANDIDATES) {
      admission.anchors.push(anchor)
      return taskId
    }
    if (admission.displacementReads >= MAX_DISPLACEMENT_READS) throw duplicate()
    admission.displacementReads++
    const spec = admission.signed.message
    const check = checkTaskAnchor(taskId, spec, anchor, await chain.anchorOf(spec.requester, anchor.root))
    if (check.kind !== 'anchored' || drawing.get(taskId) !== admission || admission.proven !== undefined) throw duplicate()
    admission.proven = anchor
    return taskId
  }

  /**
   * Waits for an admitted task's draw block, checks its anchor proofs if that was not done at
   * admission (each copy's, in the order they came, read once the block is here), and opens it with
   * the first that proves its id; drops it (its fee released) if the block does not come in time or
   * no proof holds.
   */
  async function awaitDraw(taskId: Hex, admission: Admission): Promise<void> {
    const spec = admission.signed.message
    const drop = (reason: string, details: Record<string, unknown> = {}) => {
      epochs.reserve(spec.epoch, spec.requester, -spec.fee)
      log.warn(`task dropped: ${reason}`, { taskId, drawBlock: spec.drawBlock, ...details })
    }
    try {
      const drawWaitMs = maxDrawWaitMs ?? Math.max(MIN_DRAW_WAIT_MS, 2 * Number(MAX_DRAW_LEAD_BLOCKS) * (chain.blockMs?.() ?? 0))
      const hash = await chain.awaitBlock(spec.drawBlock, Math.max(0, Math.min(Number(spec.deadline) - clock.now(), drawWaitMs)))
      if (drawing.get(taskId) !== admission || !running) return
      if (hash === undefined) {
        drawing.delete(taskId)
        return drop('its draw block did not come in time')
      }
      const provenSpec = () => (admission.proven === undefined ? undefined : { ...admission.signed, anchor: admission.proven })
      let proven = provenSpec()
      const reasons: string[] = []
      // Candidates may still arrive (or one be proven) while earlier ones are read: each is tried.
      for (let i = 0; proven === undefined && i < admission.anchors.length; i++) {
        const anchor = admission.anchors[i]!
        const check = checkTaskAnchor(taskId, spec, anchor, await chain.anchorOf(spec.requester, anchor.root))
        if (drawing.get(taskId) !== admission || !running) return
        proven = check.kind === 'anchored' ? { ...admission.signed, anchor } : provenSpec()
        if (check.kind === 'reject') reasons.push(check.code)
      }
      drawing.delete(taskId)
      if (proven === undefined) {
        countRejection('SPEC_NOT_ANCHORED')
        return drop('its id was not anchored before its draw block', { reasons })
      }
      openAdmitted(taskId, { ...admission, signed: proven }, hash)
    } catch (error) {
      if (drawing.get(taskId) !== admission) return log.error('task not opened after its draw', { taskId, error })
      // The chain could not be read: nobody here can tell whether the task stands.
      drawing.delete(taskId)
      drop('its draw or anchor could not be read', { error })
    }
  }

  /** Draws an admitted task's seats from its draw block's hash and opens it. */
  function openAdmitted(taskId: Hex, { signed, view, params: epochParams, origin, mayOmit }: Admission, draw: Hex): void {
    const spec = signed.message
    store.putSpec(taskId, signed)
    const ranking = rankTask({ view, taskId, spec, draw, backups: epochParams.backups })
    const timing = taskTiming(epochParams)
    const state = openTask({ taskId, spec, ranking, timing, now: clock.now() })
    const epoch = spec.epoch
    const entry = createTaskEntry({ state, signed, draw, mayOmit: mayOmit || epoch !== chain.epoch(), epoch, timing, origin })
    tasks.set(taskId, entry)
    log.debug('task accepted', { taskId, seats: state.seats })
    events.emit({ type: 'task.accepted', taskId, requester: spec.requester, epoch, seats: state.seats })
    update(taskId, entry, state)
    // A held challenge goes to this entry; commits and reveals are routed again (the task may be decided by now).
    for (const orphan of intake.takeOrphans(taskId)) {
      if (orphan.type === 'challenge') onChallenge(taskId, entry, orphan.item)
      else intake.route(orphan)
    }
  }

  const intake = createGossipIntake({
    read,
    verify,
    log,
    countRejection,
    acceptSpec: (signed, from, digest) => acceptSpec(signed, from, { digest }),
    deliver,
    isDecided: (taskId) => store.getVerdict(taskId) !== undefined,
    isOpen: (taskId) => tasks.has(taskId),
    // A task may be of the current epoch or the previous one (in grace).
    mayHoldSeat: (signer) => [chain.epoch(), chain.epoch() - 1n].some((epoch) => chain.snapshot(epoch)?.isEligible(signer) === true),
    now: () => clock.now(),
    heldLimits,
  })

  return {
    address,
    peerId: network.peerId,
    currentEpoch: () => chain.epoch(),
    nextDrawBlock() {
      // Blocks mined in a burst (on demand, or a chain catching up) can make the observed block
      // time tiny: the lead stays within what every node takes (`MAX_DRAW_LEAD_BLOCKS`).
      const blockMs = chain.blockMs?.()
      const lead = blockMs === undefined || blockMs <= 0 ? DRAW_LEAD_BLOCKS : BigInt(Math.ceil(drawLeadMs / blockMs))
      return chain.head() + (lead < DRAW_LEAD_BLOCKS ? DRAW_LEAD_BLOCKS : lead > MAX_DRAW_LEAD_BLOCKS ? MAX_DRAW_LEAD_BLOCKS : lead)
    },
    start() {
      if (running) return
      running = true
      network.subscribe(topics.specs, onGossip)
      network.subscribe(topics.commits, onGossip)
      network.subscribe(topics.reveals, onGossip)
      network.subscribe(topics.challenges, onGossip)
      network.provideBlobs((cid) => blobs.get(cid))
    },
    async resume() {
      let resumed = 0
      for (const { taskId, signed } of store.openTasks()) {
        if (tasks.has(taskId) || drawing.has(taskId)) continue
        try {
          // The peer that relayed the spec is unknown after a restart: blobs are asked of anyone.
          await acceptSpec(signed, '', { resuming: true })
          resumed++
        } catch (error) {
          log.info('stored task not resumed', { taskId, error })
        }
      }
      return resumed
    },
    async stop() {
      running = false
      for (const entry of tasks.values()) entry.cancelTimer?.()
      await network.close()
    },
    async submitTask(signed, taskBlobs) {
      const storeBlobs = checkTaskBlobs({ spec: signed.message, uploaded: taskBlobs, blobs, params })
      const taskId = await acceptSpec(signed, network.peerId, { submitted: true, beforeOpen: storeBlobs })
      await publish({ type: 'spec', ...signed })
      return taskId
    },
    getTask(taskId) {
      const entry = tasks.get(taskId)
      if (entry !== undefined) {
        const { phase, spec, seats, commits, verdict } = entry.state
        return { taskId, phase, spec, seats, committed: commits.map((c) => c.executor), verdict }
      }
      const admitted = drawing.get(taskId)
      if (admitted !== undefined) return { taskId, phase: 'draw', spec: admitted.signed.message, seats: [], committed: [], verdict: null }
      const signed = store.getSpec(taskId)
      const verdict = store.getVerdict(taskId)
      if (signed === undefined || verdict === undefined) return undefined
      return { taskId, phase: 'decided', spec: signed.message, seats: verdict.executors, committed: [...verdict.executors, ...verdict.dissenters], verdict }
    },
    getBlob: (cid) => blobs.get(cid),
    onVerdict(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    decidedTasks: (epoch) => epochs.decidedTasks(epoch),
    closeEpoch: (epoch) => epochs.closeEpoch(epoch),
    pendingTasks(epoch) {
      let count = 0
      for (const admitted of drawing.values()) if (admitted.signed.message.epoch === epoch) count++
      for (const entry of tasks.values()) if (entry.epoch === epoch) count++
      return count
    },
    forgetEpoch(epoch) {
      // Its reservations go with it: a task still waiting for its draw there is dropped too, or it
      // would release a fee no longer reserved, or open in an epoch already settled.
      for (const [taskId, admitted] of drawing) if (admitted.signed.message.epoch === epoch) drawing.delete(taskId)
      epochs.forgetEpoch(epoch)
    },
    stats: () => ({
      ...stats,
      commitsSent: outbox.sent().commits,
      revealsSent: outbox.sent().reveals,
      openTasks: tasks.size,
      verdicts: { ...stats.verdicts },
      rejected: { ...stats.rejected },
      feesReserved: epochs.feesReserved(),
      heldMessages: intake.heldCount(),
      mutedPeers: intake.mutedCount(),
    }),
  }
}
