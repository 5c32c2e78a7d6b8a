import { bytesToHex } from 'viem'
import { computeCommitment, signCommitBatch } from '../core/commit.ts'
import { contentId, failureResultHash } from '../core/contentId.ts'
import { devnetDomain } from '../core/eip712.ts'
import { signChallenge } from '../core/challenge.ts'
import { ChallengeRejectedError, CommitRejectedError, ExecutionAbortedError, MessageRejectedError, RevealRejectedError, SpecRejectedError, VeritaskError } from '../core/errors.ts'
import { assertEscrowCovers } from '../core/escrow.ts'
import type { ObservedReveal, SettledTask } from '../core/epochBatch.ts'
import { MAX_BATCH_ITEMS, encodeMessage } from '../core/messages.ts'
import type { ProtocolMessage } from '../core/messages.ts'
import { defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import { signRevealBatch } from '../core/reveal.ts'
import { rankCandidates } from '../core/sortition.ts'
import {
  ARBITERS,
  advanceTask,
  applyChallenge,
  applyCommit,
  applyReveal,
  isAwaitingChallenge,
  isAwaitingCommit,
  isAwaitingReveal,
  nextTaskDeadline,
  openTask,
  taskTiming,
} from '../core/task.ts'
import type { TaskState, TaskTiming } from '../core/task.ts'
import { applyOutputs, missingOutputs } from '../core/task.ts'
import { isSignedBy } from '../core/signing.ts'
import type { SignatureVerifier, Signer } from '../core/signing.ts'
import { checkTaskSpec, requiredCapability } from '../core/taskSpec.ts'
import type { Address, Attested, Challenge, Commit, Hex, ProtocolDomain, Reveal, Signed, TaskSpec, Verdict } from '../core/types.ts'
import type { Runtime } from '../ports/runtime.ts'
import { topics } from '../ports/network.ts'
import type { GossipMessage, Network, ValidationResult } from '../ports/network.ts'
import type { BlobStore, ChainView, EpochView, NodeStore, OwnCommit } from '../ports/node.ts'
import { createMemoryBlobStore, createMemoryNodeStore } from '../store/memory/createMemoryStores.ts'
import { systemClock } from './clock.ts'
import type { Clock } from './clock.ts'
import { silentLogger } from './logger.ts'
import { createMessageReader } from './messageReader.ts'
import type { MessageReader } from './messageReader.ts'
import type { Logger } from './logger.ts'

export interface CreateNodeParameters {
  /** The node's staked account. Its key signs commits and reveals and is never logged. */
  account: Signer
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
}

export interface NodeStats {
  specsAccepted: number
  /** Accepted tasks not decided yet. */
  openTasks: number
  executions: number
  commitsSent: number
  revealsSent: number
  abstentions: number
  /** Tasks whose differing results this node compared under a tolerance (the compare phase). */
  comparisons: number
  /** Results a comparison needed that no peer served. */
  comparisonFetchFailures: number
  verdicts: Record<Verdict['outcome'], number>
  /** Rejected messages by error code. */
  rejected: Record<string, number>
  /** Fees reserved from requesters' escrow by tasks this node accepted. */
  feesReserved: bigint
}

export interface TaskStatus {
  taskId: Hex
  phase: TaskState['phase']
  spec: TaskSpec
  seats: readonly Address[]
  /** Executors whose commit this node has accepted. */
  committed: readonly Address[]
  verdict: Verdict | null
}

export type VerdictListener = (verdict: Verdict, state: TaskState) => void

export interface VeritaskNode {
  readonly address: Address
  readonly peerId: string
  /** The chain's current epoch as this node sees it: new task specs name it. */
  currentEpoch(): bigint
  start(): void
  /**
   * Re-opens the tasks the store holds without a verdict, after a restart. A task this node had
   * committed to gets the very same signed commit again, never a new one. Expired tasks are left
   * alone. Resolves with the number of tasks resumed.
   */
  resume(): Promise<number>
  stop(): Promise<void>
  /**
   * Accepts a requester's signed spec and its blobs (program, input), stores the blobs, gossips the
   * spec and opens the task. Resolves with the task id; rejects with a `SpecRejectedError`.
   */
  submitTask(signed: Signed<TaskSpec>, blobs: readonly Uint8Array[]): Promise<Hex>
  getTask(taskId: Hex): TaskStatus | undefined
  getBlob(cid: Hex): Uint8Array | undefined
  onVerdict(listener: VerdictListener): () => void
  /** Tasks accepted in `epoch` and decided so far: what this node expects that epoch's batch to settle. */
  decidedTasks(epoch: bigint): readonly SettledTask[]
  /** Refuses new specs for `epoch` from now on: its batch is being built. */
  closeEpoch(epoch: bigint): void
  /** Tasks of `epoch` this node accepted and has not decided yet. */
  pendingTasks(epoch: bigint): number

  /** Drops what the node kept for `epoch` once its batch is settled on-chain (the chain now holds the charges). */
  forgetEpoch(epoch: bigint): void
  stats(): NodeStats
}

interface TaskEntry {
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

/** Messages for tasks this node has not seen yet (gossip may reorder), kept briefly and bounded. */
const MAX_ORPHANS = 4_096

/** A checked commit, reveal or challenge for a task whose spec has not arrived yet. */
type Orphan =
  | { type: 'commit'; item: Attested<Commit> }
  | { type: 'reveal'; item: Attested<Reveal> }
  | { type: 'challenge'; item: Signed<Challenge> }

/** What a batch's items, each judged on its own, make of the whole message. */
function batchResult(results: readonly ValidationResult[]): ValidationResult {
  if (results.includes('reject')) return 'reject'
  return results.includes('accept') ? 'accept' : 'ignore'
}

function chunked<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}

/**
 * Composes a node: validates gossip, tracks each task's state through the pure core, executes
 * tasks it is assigned, commits and reveals, and reports verdicts.
 */
export function createNode({
  account,
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
  read = createMessageReader({ domain, maxBytes: params.maxMessageBytes }),
  batchWindowMs = 2,
  epochGraceMs = 2_000,
}: CreateNodeParameters): VeritaskNode {
  const address = account.address
  const log = logger.child({ node: address })
  /** Epochs whose batch is being built or settled: specs for them are refused. */
  const closedEpochs = new Set<bigint>()
  /** The newest epoch seen, and when this node first saw it (local time). */
  let newest = { epoch: -1n, seenAt: 0 }

  const tasks = new Map<Hex, TaskEntry>()
  const orphans = new Map<Hex, Orphan[]>()
  let orphanCount = 0
  /** Fees reserved per requester, by epoch: released when that epoch is settled or a task is unresolved. */
  const reserved = new Map<bigint, Map<Address, bigint>>()
  const reservedBy = (requester: Address): bigint => {
    let sum = 0n
    for (const byRequester of reserved.values()) sum += byRequester.get(requester) ?? 0n
    return sum
  }
  const reserve = (epoch: bigint, requester: Address, amount: bigint): void => {
    const byRequester = reserved.get(epoch) ?? new Map<Address, bigint>()
    byRequester.set(requester, (byRequester.get(requester) ?? 0n) + amount)
    reserved.set(epoch, byRequester)
    stats.feesReserved += amount
  }
  const settled = new Map<bigint, SettledTask[]>()
  /** Settled records by task id, so reveals that arrive after the decision are still recorded. */
  const settledById = new Map<Hex, { epoch: bigint; reveals: ObservedReveal[] }>()
  const observe = (signed: Attested<Reveal>, into: ObservedReveal[]): void => {
    if (into.some((r) => r.executor === signed.signer)) return
    into.push({ executor: signed.signer, status: signed.message.status, resultHash: signed.message.resultHash })
  }
  const listeners = new Set<VerdictListener>()
  let running = false
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
    rejected: {},
    feesReserved: 0n,
  }

  function countRejection(error: unknown): void {
    const code = error instanceof VeritaskError ? error.code : 'UNEXPECTED'
    stats.rejected[code] = (stats.rejected[code] ?? 0) + 1
  }

  async function publish(message: ProtocolMessage): Promise<void> {
    const topic = {
      spec: topics.specs,
      commits: topics.commits,
      reveals: topics.reveals,
      challenge: topics.challenges,
      proposal: topics.batches,
      'batch-signature': topics.batches,
    }[message.type]
    await network.publish(topic, encodeMessage(message))
  }

  // ── task lifecycle ───────────────────────────────────────────────────────────────────────────

  /** Records a new state and does what it asks of this node: execute, reveal, or settle. */
  function update(taskId: Hex, entry: TaskEntry, state: TaskState): void {
    entry.state = state
    if (state.phase === 'decided') return finish(taskId, entry)
    if (state.phase === 'challenge' && entry.earlyChallenge !== undefined) {
      const early = entry.earlyChallenge
      entry.earlyChallenge = undefined
      return void onChallenge(taskId, entry, early)
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
    if (isAwaitingReveal(entry.state, address) && !entry.revealSent) void reveal(taskId, entry)
    if (isAwaitingChallenge(entry.state, address) && !entry.challengeSent) void challenge(taskId, entry)
    if (entry.state.phase === 'compare' && !entry.comparing) void compare(taskId, entry)
    schedule(taskId, entry)
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
    const verdict = entry.state.verdict as Verdict
    const spec = entry.state.spec
    // An unresolved task is not charged: release its reservation.
    if (verdict.outcome === 'unresolved') reserve(entry.epoch, spec.requester, -spec.fee)
    const list = settled.get(entry.epoch) ?? []
    const quorum = entry.state.quorum
    list.push({
      verdict,
      requester: spec.requester,
      fee: spec.fee,
      quorum,
      missed: [...entry.state.missedCommit, ...entry.state.missedReveal],
      reveals: entry.observed,
    })
    settledById.set(taskId, { epoch: entry.epoch, reveals: entry.observed })
    settled.set(entry.epoch, list)
    if (entry.pendingOutput !== undefined && verdict.resultHash === contentId(entry.pendingOutput)) {
      blobs.put(entry.pendingOutput)
    } else if (entry.state.outputs.has(verdict.resultHash)) {
      // Fetched for a tolerance comparison: the canonical result is already here.
      blobs.put(entry.state.outputs.get(verdict.resultHash)!)
    } else if (verdict.outcome === 'verified' && entry.origin === network.peerId && !blobs.has(verdict.resultHash)) {
      // The gateway serves the results of the tasks it was given, whoever computed them.
      network
        .fetchBlob(verdict.resultHash, { peers: [], maxBytes: spec.limits.outputBytes })
        .then((bytes) => blobs.put(bytes))
        .catch((error: unknown) => log.debug('result not fetched', { taskId, error }))
    }
    store.putVerdict(verdict)
    stats.verdicts[verdict.outcome]++
    log.debug('task decided', { taskId, outcome: verdict.outcome, executors: verdict.executors.length })
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
      const result = await runtime.execute({ programId: spec.program, program, input, limits: spec.limits })
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

  // ── outbox: own commits and reveals, sealed in batches ──────────────────────────────────────

  /**
   * Own commits and reveals wait here for `batchWindowMs`, then go out under one signature per
   * batch: under load one signature (and one message for every peer to decode and check) serves
   * many tasks. On an idle node a batch holds one item and costs the window in latency.
   */
  const outbox = { commits: [] as OwnCommit[], reveals: [] as Reveal[], flushing: false }

  function enqueue<K extends 'commits' | 'reveals'>(kind: K, item: K extends 'commits' ? OwnCommit : Reveal): void {
    ;(outbox[kind] as Array<OwnCommit | Reveal>).push(item)
    if (outbox.flushing) return
    outbox.flushing = true
    // Real time, not the node's clock: batching is about CPU, and protocol deadlines must not wait on it.
    if (batchWindowMs > 0) setTimeout(() => void flush(), batchWindowMs)
    else setImmediate(() => void flush())
  }

  async function flush(): Promise<void> {
    // One batch failing (a store or network error) does not hold back the others.
    const attempt = async (send: () => Promise<void>) => send().catch((error: unknown) => log.warn('own commits or reveals not sent', { error }))
    while (running && (outbox.commits.length > 0 || outbox.reveals.length > 0)) {
      const commits = outbox.commits.splice(0)
      const reveals = outbox.reveals.splice(0)
      for (const chunk of chunked(commits, MAX_BATCH_ITEMS)) await attempt(() => sendCommits(chunk))
      for (const chunk of chunked(reveals, MAX_BATCH_ITEMS)) await attempt(() => sendReveals(chunk))
    }
    outbox.flushing = false
  }

  async function sendCommits(queued: readonly OwnCommit[]): Promise<void> {
    // A seat lost while the batch waited is not claimed.
    const own = queued.filter((c) => {
      const entry = tasks.get(c.taskId)
      return entry !== undefined && isAwaitingCommit(entry.state, address)
    })
    if (own.length === 0) return
    // Persist before sending, once for the whole batch: after a crash the node re-sends these
    // commitments, never different ones.
    store.putOwnCommits(own)
    const commits: Commit[] = own.map(({ taskId, commitment }) => ({ taskId, commitment }))
    const signed = await signCommitBatch(account, commits, domain)
    stats.commitsSent += commits.length
    await publish({ type: 'commits', ...signed })
    for (const commit of commits) {
      const entry = tasks.get(commit.taskId)
      if (entry === undefined) continue
      try {
        update(commit.taskId, entry, applyCommit(entry.state, { message: commit, signer: address }, clock.now(), entry.timing))
      } catch (error) {
        log.debug('own commit not applicable', { taskId: commit.taskId, error })
      }
    }
  }

  async function sendReveals(reveals: readonly Reveal[]): Promise<void> {
    const signed = await signRevealBatch(account, reveals, domain)
    for (const reveal of reveals) {
      const entry = tasks.get(reveal.taskId)
      // A result is served from the moment it is revealed.
      if (entry?.pendingOutput !== undefined) blobs.put(entry.pendingOutput)
      if (entry !== undefined) observe({ message: reveal, signer: address }, entry.observed)
    }
    stats.revealsSent += reveals.length
    await publish({ type: 'reveals', ...signed })
    for (const reveal of reveals) {
      const entry = tasks.get(reveal.taskId)
      if (entry !== undefined) tryReveal(reveal.taskId, entry, { message: reveal, signer: address })
    }
  }

  function reveal(taskId: Hex, entry: TaskEntry): void {
    const own = store.getOwnCommit(taskId)
    if (own === undefined) return
    entry.revealSent = true
    enqueue('reveals', { taskId, status: own.status, resultHash: own.resultHash, salt: own.salt })
  }

  /** As a sampled task's verifier: sign a challenge of the executor's commitment and send it. */
  async function challenge(taskId: Hex, entry: TaskEntry): Promise<void> {
    const commitment = entry.state.commits[0]?.commitment
    if (commitment === undefined) return
    entry.challengeSent = true
    // ECDSA here is deterministic (RFC 6979): after a restart the same challenge comes out.
    const signed = await signChallenge(account, { taskId, commitment }, domain)
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
        try {
          return await network.fetchBlob(cid, { peers: [], maxBytes })
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

  function onChallenge(taskId: Hex, entry: TaskEntry, signed: Signed<Challenge>): ValidationResult {
    try {
      update(taskId, entry, applyChallenge(entry.state, signed, clock.now(), entry.timing))
      return 'accept'
    } catch (error) {
      if (error instanceof ChallengeRejectedError && error.code === 'CHALLENGE_UNEXPECTED' && entry.state.phase === 'commit') {
        entry.earlyChallenge = signed
        return 'accept'
      }
      countRejection(error)
      return error instanceof ChallengeRejectedError && error.code === 'CHALLENGE_NOT_VERIFIER' ? 'reject' : 'ignore'
    }
  }

  function tryCommit(taskId: Hex, entry: TaskEntry, signed: Attested<Commit>): ValidationResult {
    try {
      update(taskId, entry, applyCommit(entry.state, signed, clock.now(), entry.timing))
      return 'accept'
    } catch (error) {
      const notSeated = error instanceof CommitRejectedError && error.code === 'COMMIT_NOT_ASSIGNED'
      // A ranked backup may already hold a seat on a node whose deadline came sooner: keep its
      // commit until the seats here change (one per backup, so the list stays small).
      if (notSeated && entry.state.ranking.includes(signed.signer) && entry.state.phase === 'commit') {
        if (!entry.earlyCommits.some((c) => c.signer === signed.signer)) entry.earlyCommits.push(signed)
        return 'accept'
      }
      countRejection(error)
      // A duplicate or a late commit can be honest network behaviour; a commit from a node
      // that is not even ranked for the task cannot.
      return notSeated ? 'reject' : 'ignore'
    }
  }

  /** Applies a reveal; returns false if the task was decided by it. */
  function tryReveal(taskId: Hex, entry: TaskEntry, signed: Attested<Reveal>): boolean {
    try {
      const state = applyReveal(entry.state, signed, clock.now(), entry.timing)
      update(taskId, entry, state)
      return state.phase !== 'decided'
    } catch (error) {
      if (error instanceof RevealRejectedError && error.code === 'REVEAL_BEFORE_COMMIT_CLOSE') {
        entry.earlyReveals.push(signed)
        return true
      }
      countRejection(error)
      return true
    }
  }

  // ── gossip handlers ──────────────────────────────────────────────────────────────────────────

  /**
   * The snapshot a spec's epoch is ranked and checked with. New specs must name the current
   * epoch, or the previous one within `epochGraceMs` of the boundary and before its batch is
   * built (a spec gossiped across the boundary); `resume` accepts any epoch still known.
   */
  function epochOf(spec: TaskSpec, resuming: boolean): EpochView {
    const current = chain.epoch()
    if (current !== newest.epoch) newest = { epoch: current, seenAt: clock.now() }
    const view = chain.snapshot(spec.epoch)
    const inGrace = spec.epoch + 1n === current && clock.now() - newest.seenAt < epochGraceMs
    const open = !closedEpochs.has(spec.epoch) && (spec.epoch === current || inGrace)
    if (view === undefined || !(open || resuming)) {
      throw new SpecRejectedError('SPEC_WRONG_EPOCH', `The spec names epoch ${spec.epoch}, which this node does not accept now.`, {
        details: { epoch: spec.epoch, current },
        hint: `Name the current epoch (${current}), as GET /v1/status reports it.`,
      })
    }
    return view
  }

  /** Opens a task from a signed spec; `digest` is its hash when the gossip reader computed it. */
  async function acceptSpec(signed: Signed<TaskSpec>, origin: string, resuming = false, digest?: Hex): Promise<Hex> {
    const spec = signed.message
    // Only the very next epoch is worth waiting for; anything further ahead is refused at once.
    if (spec.epoch === chain.epoch() + 1n && chain.awaitEpoch !== undefined) await chain.awaitEpoch(spec.epoch, epochGraceMs)
    const now = clock.now()
    const view = epochOf(spec, resuming)
    const epochParams = view.params ?? params
    const taskId = await checkTaskSpec({ signed, domain, params: epochParams, now, verify, ...(digest === undefined ? {} : { taskId: digest }) })
    if (tasks.has(taskId) || store.getVerdict(taskId) !== undefined) {
      throw new SpecRejectedError('SPEC_DUPLICATE', 'This task is already known.', { details: { taskId } })
    }
    const coverage = () => ({
      taskId,
      requester: spec.requester,
      fee: spec.fee,
      balance: chain.escrowBalance(spec.requester),
      reserved: reservedBy(spec.requester),
    })
    try {
      assertEscrowCovers(coverage())
    } catch (error) {
      // A deposit this node has not seen yet: read the chain once more before refusing.
      if (chain.refreshEscrow === undefined) throw error
      await chain.refreshEscrow(spec.requester)
      assertEscrowCovers(coverage())
    }
    if (tasks.has(taskId)) throw new SpecRejectedError('SPEC_DUPLICATE', 'This task is already known.', { details: { taskId } })
    const policy = spec.policy
    // Sampled tasks rank an executor, a verifier and arbiters, then backups.
    const seats = policy.kind === 'replicate' ? policy.k : 2 + ARBITERS
    const ranking = rankCandidates({
      seed: view.seed,
      taskId,
      candidates: view.eligibleNodes(requiredCapability(spec)),
      count: seats + epochParams.backups,
    })
    const timing = taskTiming(epochParams)
    const state = openTask({ taskId, spec, ranking, timing, now })
    const epoch = spec.epoch
    reserve(epoch, spec.requester, spec.fee)
    stats.specsAccepted++
    const entry: TaskEntry = {
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
    tasks.set(taskId, entry)
    store.putSpec(taskId, signed)
    log.debug('task accepted', { taskId, seats: state.seats })
    update(taskId, entry, state)
    const waiting = orphans.get(taskId)
    if (waiting !== undefined) {
      orphans.delete(taskId)
      orphanCount -= waiting.length
      for (const orphan of waiting) {
        if (orphan.type === 'challenge') onChallenge(taskId, entry, orphan.item)
        else onSigned(orphan.item)
      }
    }
    return taskId
  }

  /** Keeps a message for a task whose spec has not arrived yet (bounded). */
  function holdOrphan(orphan: Orphan): ValidationResult {
    if (orphanCount >= MAX_ORPHANS) return 'ignore'
    const taskId = orphan.item.message.taskId
    const list = orphans.get(taskId) ?? []
    list.push(orphan)
    orphans.set(taskId, list)
    orphanCount++
    return 'accept'
  }

  function onSigned(signed: Attested<Commit> | Attested<Reveal>): ValidationResult {
    const taskId = signed.message.taskId
    const entry = tasks.get(taskId)
    const isReveal = !('commitment' in signed.message)
    if (entry === undefined) {
      const record = settledById.get(taskId)
      if (record !== undefined && isReveal) observe(signed as Attested<Reveal>, record.reveals)
      if (store.getVerdict(taskId) !== undefined) return 'ignore'
      return isReveal ? holdOrphan({ type: 'reveal', item: signed as Attested<Reveal> }) : holdOrphan({ type: 'commit', item: signed as Attested<Commit> })
    }
    if ('commitment' in signed.message) return tryCommit(taskId, entry, signed as Attested<Commit>)
    observe(signed as Attested<Reveal>, entry.observed)
    tryReveal(taskId, entry, signed as Attested<Reveal>)
    return 'accept'
  }

  async function onGossip({ data, from }: GossipMessage): Promise<ValidationResult> {
    let message: ProtocolMessage
    let digest: Hex
    try {
      ;({ message, digest } = read(data))
    } catch (error) {
      countRejection(error)
      log.debug('malformed message', { from, error })
      return 'reject'
    }
    switch (message.type) {
      case 'spec':
        try {
          await acceptSpec(message, from, false, digest)
          return 'accept'
        } catch (error) {
          countRejection(error)
          return error instanceof SpecRejectedError && error.code === 'SPEC_BAD_SIGNATURE' ? 'reject' : 'ignore'
        }
      case 'commits': {
        if (!(await verify(digest, message.signature, message.signer))) {
          countRejection(new CommitRejectedError('COMMIT_BAD_SIGNATURE', 'bad commit batch signature'))
          return 'reject'
        }
        const signer = message.signer
        return batchResult(message.message.commits.map((commit) => onSigned({ message: commit, signer })))
      }
      case 'reveals': {
        if (!(await verify(digest, message.signature, message.signer))) {
          countRejection(new RevealRejectedError('REVEAL_BAD_SIGNATURE', 'bad reveal batch signature'))
          return 'reject'
        }
        const signer = message.signer
        return batchResult(message.message.reveals.map((reveal) => onSigned({ message: reveal, signer })))
      }
      case 'challenge': {
        if (!(await verify(digest, message.signature, message.signer))) {
          countRejection(new ChallengeRejectedError('CHALLENGE_BAD_SIGNATURE', 'bad challenge signature'))
          return 'reject'
        }
        const entry = tasks.get(message.message.taskId)
        if (entry !== undefined) return onChallenge(message.message.taskId, entry, message)
        return holdOrphan({ type: 'challenge', item: message })
      }
      case 'proposal':
      case 'batch-signature':
        // Settlement messages belong on the batch topic, which the epoch settler handles.
        countRejection(new MessageRejectedError('MESSAGE_WRONG_TOPIC', 'settlement message on a task topic'))
        return 'reject'
    }
  }

  return {
    address,
    peerId: network.peerId,
    currentEpoch: () => chain.epoch(),
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
        if (tasks.has(taskId)) continue
        try {
          // The peer that relayed the spec is unknown after a restart: blobs are asked of anyone.
          await acceptSpec(signed, '', true)
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
      const spec = signed.message
      const byId = new Map(taskBlobs.map((bytes) => [contentId(bytes), bytes]))
      const needed = [
        { cid: spec.program, maxBytes: params.maxProgramBytes },
        { cid: spec.input, maxBytes: params.maxInputBytes },
      ]
      for (const { cid, maxBytes } of needed) {
        const bytes = byId.get(cid.toLowerCase() as Hex) ?? blobs.get(cid)
        if (bytes === undefined) {
          throw new SpecRejectedError('SPEC_MISSING_BLOB', `The spec names blob ${cid}, which was not uploaded.`, {
            details: { cid },
            hint: 'Pass the program and input bytes along with the spec.',
          })
        }
        if (bytes.byteLength > maxBytes) {
          throw new SpecRejectedError('SPEC_LIMITS_EXCEEDED', `Blob ${cid} is larger than the ${maxBytes}-byte limit.`, {
            details: { cid, size: bytes.byteLength, maxBytes },
          })
        }
      }
      // Stored before the task opens: an executor on this node reads them at once.
      for (const { cid } of needed) {
        const bytes = byId.get(cid.toLowerCase() as Hex)
        if (bytes !== undefined) blobs.put(bytes)
      }
      const taskId = await acceptSpec(signed, network.peerId)
      await publish({ type: 'spec', ...signed })
      return taskId
    },
    getTask(taskId) {
      const entry = tasks.get(taskId)
      if (entry !== undefined) {
        const { phase, spec, seats, commits, verdict } = entry.state
        return { taskId, phase, spec, seats, committed: commits.map((c) => c.executor), verdict }
      }
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
    decidedTasks: (epoch) => settled.get(epoch) ?? [],
    closeEpoch(epoch) {
      closedEpochs.add(epoch)
    },
    pendingTasks(epoch) {
      let count = 0
      for (const entry of tasks.values()) if (entry.epoch === epoch) count++
      return count
    },
    forgetEpoch(epoch) {
      closedEpochs.add(epoch)
      for (const old of closedEpochs) if (old + 2n < epoch) closedEpochs.delete(old)
      for (const amount of reserved.get(epoch)?.values() ?? []) stats.feesReserved -= amount
      reserved.delete(epoch)
      for (const task of settled.get(epoch) ?? []) settledById.delete(task.verdict.taskId)
      settled.delete(epoch)
    },
    stats: () => ({ ...stats, openTasks: tasks.size, verdicts: { ...stats.verdicts }, rejected: { ...stats.rejected } }),
  }
}
