import { auditDrawOf, isAudited } from './challenge.ts'
import type { VrfVerifier } from './challenge.ts'
import { resultsToCompare } from './comparison.ts'
import { contentId } from './contentId.ts'
import { ChallengeRejectedError, CommitRejectedError, RevealRejectedError, SpecRejectedError } from './errors.ts'
import type { ChallengeRejectionCode, CommitRejectionCode, RevealRejectionCode } from './errors.ts'
import { computeCommitment } from './commit.ts'
import type { ProtocolParams } from './params.ts'
import { drawSeats, rankCandidates } from './sortition.ts'
import type { Candidate } from './sortition.ts'
import { requiredCapability } from './taskSpec.ts'
import { concat, keccak256, zeroHash } from 'viem'
import type { Address, Attested, Commit, Hex, Reveal, SignedChallenge, TaskSpec, Verdict } from './types.ts'
import { decideVerdict, isDisputed } from './verdict.ts'

/**
 * `dispute`: the seats' reveals disagree and the task waits for its arbiters to be seated
 * (`openArbitration`, with the arbitration's seats drawn from the task's snapshot, `arbitrationSeats`).
 */
export type TaskPhase = 'commit' | 'challenge' | 'reveal' | 'compare' | 'dispute' | 'decided'

/**
 * Where a task's audit stands: a `sample` task (one executor) and a `replicate` task with an audit
 * rate (`auditPpm`, for unanimous seats) both go through it. Once the commit phase closes, the
 * designated verifier (`challengerOf`: the first ranked node after the seats that did not commit)
 * signs a challenge whose VRF draw decides whether the task is audited; if so, the verifier
 * re-executes as one more seat before anyone reveals, and its reveal is needed for a verdict. An
 * audit that disagrees with the seats is a dispute, which goes to arbitration like any other
 * (`TaskState.arbitration`). A verifier that stays silent cannot spare the seats: the next ranked
 * node audits instead.
 */
export interface AuditState {
  ratePpm: number
  stage: 'execute' | 'audit'
  /** The node whose challenge is awaited, then the auditor. */
  verifier: Address | null
  challengeDeadline: number | null
  /** Whether the challenge called for an audit; null until it arrived. */
  audited: boolean | null
  /** Whether the audit was called by the verifier's challenge (not forced by its silence): then its reveal is needed. */
  drawn: boolean
}

/** The rate (ppm) at which a task's results are audited: a sampled task's rate, a replicated task's `auditPpm`. */
export function auditRateOf(policy: TaskSpec['policy']): number {
  return policy.kind === 'sample' ? policy.ratePpm : (policy.auditPpm ?? 0)
}

/** How many executors a policy seats before any audit: k, or the one executor of a sampled task. */
export function executorsOf(policy: TaskSpec['policy']): number {
  return policy.kind === 'replicate' ? policy.k : 1
}

/**
 * A task's designated verifier: the first node of the ranking, at or after the place right after
 * the `executors` first seats, that is not among `committers` (a backup that stepped in and
 * committed is not; one that missed its seat may be). Every node and every certificate checker
 * computes it from the ranking and the counted commits alone.
 */
export function challengerOf(ranking: readonly Address[], executors: number, committers: ReadonlySet<Address>): number {
  let index = executors
  while (index < ranking.length && committers.has(ranking[index]!)) index++
  return index
}

/**
 * The commitment a challenge names: the best-ranked committer's. One per task, so a verifier has
 * exactly one draw to make and nobody can pick among several.
 */
export function challengedCommitment(ranking: readonly Address[], commits: readonly { executor: Address; commitment: Hex }[]): Hex | undefined {
  const rank = (a: Address) => ranking.indexOf(a)
  return [...commits].sort((a, b) => rank(a.executor) - rank(b.executor))[0]?.commitment
}

/**
 * A dispute's arbitration: the committers whose reveals disagreed, frozen, and `ProtocolParams.arbiters`
 * seats drawn by stake with replacement from the task's capable nodes (`arbitrationSeats`). The
 * **arbiters**, the seat holders that did not commit, run the task, commit blind among themselves
 * and reveal; a disputed committer holding seats votes its reveal with them. A strict majority of
 * the seats rules, and every reveal outside it, of a committer or an arbiter, dissents. Votes are
 * seats only: a coalition's share of them follows its stake however it splits that stake over
 * nodes, and no place in the dispute (committer or arbiter) is worth a vote of its own, so a
 * coalition below a third of the stake cannot win an arbitration, however many of the disputed
 * seats it held.
 */
export interface Arbitration {
  readonly disputed: readonly Address[]
  /** The seat holders that did not commit, each once, in the order of their first seat. */
  readonly arbiters: readonly Address[]
  /** The seats each node holds: its votes (none for a disputed committer that holds none). */
  readonly votes: ReadonlyMap<Address, number>
  /** Votes the ruling needs: a strict majority of the seats. */
  readonly quorum: number
}

/**
 * The voters of an arbitration: every seat holder with one vote per seat. The holders that are not
 * among the disputed committers are the arbiters, in the order of their first seat.
 */
export function arbitrationVotes(disputed: readonly Address[], seats: readonly Address[]): Pick<Arbitration, 'arbiters' | 'votes' | 'quorum'> {
  const committed = new Set(disputed)
  const votes = new Map<Address, number>()
  for (const node of seats) votes.set(node, (votes.get(node) ?? 0) + 1)
  return { arbiters: [...votes.keys()].filter((node) => !committed.has(node)), votes, quorum: arbitrationQuorum(seats.length) }
}

export interface RankTaskParameters {
  /** The epoch's seed and its eligible nodes by runtime (an `EpochView`). */
  view: { seed: Hex; eligibleNodes(runtime: string): readonly Candidate[] }
  taskId: Hex
  spec: TaskSpec
  /** The hash of the spec's draw block (`TaskSpec.drawBlock`). */
  draw: Hex
  /** Backups ranked after the seats. */
  backups: number
}

/**
 * A task's ranking in its epoch's snapshot: its seats (k executors; a sampled task's executor and
 * verifier), then `backups` more, best first. Rankings are prefixes of one order, so nodes with
 * different lengths agree on every place both rank.
 */
export function rankTask({ view, taskId, spec, draw, backups }: RankTaskParameters): Address[] {
  return rankCandidates({ seed: taskSeed(view.seed, draw), taskId, candidates: view.eligibleNodes(requiredCapability(spec)), count: seatsOf(spec.policy) + backups })
}

export interface ArbitrationSeatsParameters extends Omit<RankTaskParameters, 'backups'> {
  /** Seats to draw (`ProtocolParams.arbiters`). */
  count: number
}

/**
 * A dispute's arbitration seats: `count` draws by stake, with replacement, among the task's capable
 * nodes (`drawSeats`), made only once the task is disputed. A node appears once per seat it holds.
 * Every node and every certificate checker draws the same from the epoch's snapshot and the task's
 * draw block, whoever committed.
 */
export function arbitrationSeats({ view, taskId, spec, draw, count }: ArbitrationSeatsParameters): Address[] {
  return drawSeats({ seed: taskSeed(view.seed, draw), taskId, candidates: view.eligibleNodes(requiredCapability(spec)), count })
}

/**
 * The seed that ranks a task: its epoch's seed with the hash of its draw block. Neither the
 * requester (the block comes after it signs) nor any node (the epoch's seed is fixed before) can
 * choose it; what a block producer can still bias is in docs/protocol.md.
 */
export function taskSeed(epochSeed: Hex, drawHash: Hex): Hex {
  return keccak256(concat([epochSeed, drawHash]))
}

/** The places a task's first stage can fill: its executors, and its verifier when it is audited at all. */
export function seatsOf(policy: TaskSpec['policy']): number {
  return executorsOf(policy) + (auditRateOf(policy) > 0 ? 1 : 0)
}

/** Votes an arbitration of `seats` seats needs to rule: a strict majority. */
export function arbitrationQuorum(seats: number): number {
  return Math.floor(seats / 2) + 1
}

export interface CommitRecord {
  executor: Address
  commitment: Hex
}

export interface RevealRecord {
  executor: Address
  reveal: Reveal
}

/**
 * The life of one task as every node tracks it. Immutable: each transition returns a new state.
 *
 * `seats` are the k places that must commit. They start with the k best-ranked candidates; when the
 * commit deadline passes, each seat without a commit goes to the next backup in rank order and a
 * new commit window opens. The commit phase closes once every seat has committed (or, when backups
 * run out, with at least `quorum` commits); then reveals are accepted until all committers revealed
 * or the reveal deadline passes, and the verdict is decided.
 */
export interface TaskState {
  readonly taskId: Hex
  readonly spec: TaskSpec
  readonly k: number
  readonly quorum: number
  /** Executors then backups, best first: the sortition result for this task. */
  readonly ranking: readonly Address[]
  readonly phase: TaskPhase
  readonly seats: readonly Address[]
  /** Index in `ranking` of the next backup to step in. */
  readonly nextBackup: number
  readonly commits: readonly CommitRecord[]
  readonly reveals: readonly RevealRecord[]
  /** Seat holders that let the commit deadline pass. */
  readonly missedCommit: readonly Address[]
  /** Committers that let the reveal deadline pass. */
  readonly missedReveal: readonly Address[]
  readonly commitDeadline: number
  readonly revealDeadline: number | null
  readonly verdict: Verdict | null
  /**
   * Result bytes by content id, fetched after the reveals when the spec compares with a tolerance
   * and the revealed results differ (phase `compare`): the comparison needs them.
   */
  readonly outputs: ReadonlyMap<Hex, Uint8Array>
  /** When the `compare` phase gives up waiting for result bytes; null outside it. */
  readonly compareDeadline: number | null
  /** The audit's progress; null for a replicated task without an audit rate. */
  readonly audit: AuditState | null
  /** The arbitration of a dispute; null unless the seats' reveals disagreed. */
  readonly arbitration: Arbitration | null
}

export interface TaskTiming {
  commitWindowMs: number
  revealWindowMs: number
}

export interface OpenTaskParameters {
  taskId: Hex
  spec: TaskSpec
  /** Ranked candidates (sortition order); the first k are executors, the rest backups. */
  ranking: readonly Address[]
  timing: TaskTiming
  now: number
}

/**
 * Throws `SPEC_NOT_ENOUGH_NODES` unless `eligible` nodes can seat the spec: k of them, or for a
 * sampled task an executor and a verifier. Known before the draw: the draw orders the eligible
 * nodes, it does not change how many there are.
 */
export function assertSeatable(taskId: Hex, spec: TaskSpec, eligible: number): void {
  const needed = spec.policy.kind === 'sample' ? 2 : spec.policy.k
  if (eligible < needed) {
    throw new SpecRejectedError('SPEC_NOT_ENOUGH_NODES', `The task needs ${needed} nodes but only ${eligible} are eligible.`, {
      details: { taskId, needed, eligible },
      hint: 'Lower k, or wait until more capable nodes have joined.',
    })
  }
}

export function openTask({ taskId, spec, ranking, timing, now }: OpenTaskParameters): TaskState {
  const { k, quorum } = spec.policy.kind === 'replicate' ? spec.policy : { k: 1, quorum: 1 }
  const ratePpm = auditRateOf(spec.policy)
  assertSeatable(taskId, spec, ranking.length)
  return {
    taskId,
    spec,
    k,
    quorum,
    ranking,
    phase: 'commit',
    seats: ranking.slice(0, k),
    nextBackup: k,
    commits: [],
    reveals: [],
    missedCommit: [],
    missedReveal: [],
    commitDeadline: now + timing.commitWindowMs,
    revealDeadline: null,
    verdict: null,
    outputs: new Map(),
    compareDeadline: null,
    audit: ratePpm > 0 ? { ratePpm, stage: 'execute', verifier: null, challengeDeadline: null, audited: null, drawn: false } : null,
    arbitration: null,
  }
}

/** Timing taken from the protocol parameters. */
export function taskTiming(params: ProtocolParams): TaskTiming {
  return { commitWindowMs: params.commitWindowMs, revealWindowMs: params.revealWindowMs }
}

function hasCommitted(state: TaskState, executor: Address): boolean {
  return state.commits.some((c) => c.executor === executor)
}

function hasRevealed(state: TaskState, executor: Address): boolean {
  return state.reveals.some((r) => r.executor === executor)
}

/**
 * Decides the task, or first opens the `compare` phase when a tolerance comparison needs result
 * bytes nobody has handed in yet, or the `dispute` phase when the seats' reveals disagree. `final`
 * decides with what is there (the spec deadline): a dispute that can no longer be arbitrated ends
 * unresolved, with nobody penalised for it.
 */
function decide(state: TaskState, now: number, timing: TaskTiming, final = false): TaskState {
  if (!final && state.phase !== 'compare' && missingOutputs(state).length > 0) {
    return { ...state, phase: 'compare', compareDeadline: now + timing.revealWindowMs }
  }
  const rank = (a: Address) => state.ranking.indexOf(a)
  const reveals = [...state.reveals].sort((a, b) => rank(a.executor) - rank(b.executor))
  const comparison = state.spec.comparison === undefined ? {} : { comparison: state.spec.comparison }
  const missedReveal = state.commits.map((c) => c.executor).filter((e) => !hasRevealed(state, e))
  const { arbitration } = state
  if (arbitration === null && isDisputed({ reveals, outputs: state.outputs, ...comparison })) {
    if (!final && BigInt(now) < state.spec.deadline) return { ...state, phase: 'dispute', compareDeadline: null }
    const verdict: Verdict = { taskId: state.taskId, outcome: 'unresolved', resultHash: zeroHash, executors: [], dissenters: [] }
    return { ...state, phase: 'decided', verdict, missedReveal }
  }
  // In an arbitration, the disputed seats' reveals in rank order, then the arbiters' in theirs (the
  // certificate lists them the same way).
  const ordered =
    arbitration === null
      ? reveals
      : [...reveals.filter((r) => arbitration.disputed.includes(r.executor)), ...arbitration.arbiters.flatMap((a) => reveals.filter((r) => r.executor === a))]
  const { audit } = state
  if (arbitration === null && audit?.drawn === true && !hasRevealed(state, audit.verifier!)) {
    // The audit the draw called for never reported: the seats' agreement alone proves nothing.
    const verdict: Verdict = { taskId: state.taskId, outcome: 'unresolved', resultHash: zeroHash, executors: [], dissenters: [] }
    return { ...state, phase: 'decided', verdict, missedReveal }
  }
  const votes = arbitration === null ? {} : { weightOf: (node: Address) => votesOf(state, [node]) }
  const verdict = decideVerdict({ taskId: state.taskId, quorum: state.quorum, reveals: ordered, outputs: state.outputs, ...comparison, ...votes })
  return { ...state, phase: 'decided', verdict, missedReveal }
}

/** The votes `nodes` hold toward the task's quorum: one each, or in an arbitration their votes (`arbitrationVotes`). */
function votesOf(state: TaskState, nodes: readonly Address[]): number {
  const { arbitration } = state
  return arbitration === null ? nodes.length : nodes.reduce((sum, node) => sum + (arbitration.votes.get(node) ?? 0), 0)
}

/**
 * Whether an arbiter whose commit went out may open it while its arbitration's commit phase is
 * still open here: once it holds reveals (`heldRevealers`, held because they came early) from
 * arbiters holding more than a third of the arbiters' seats. Waiting on for a commit this node may
 * never get (one that came before it knew the arbiters was refused) would bring its reveal after its peers decided: a
 * withholder in their certificates, slashed though honest. The threshold weighs that against a
 * coalition that reveals early to make honest arbiters open theirs: it needs more than a third of
 * the dispute's seats to do it, and what it gains is that its own arbiters that have not
 * committed can copy the revealed result instead of executing, a free ride on the arbitration's
 * fee, never another verdict (a strict majority of all the votes rules).
 */
export function mayRevealEarly(state: TaskState, heldRevealers: readonly Address[]): boolean {
  const { arbitration } = state
  if (arbitration === null || state.phase !== 'commit') return false
  const seats = (nodes: readonly Address[]) => votesOf(state, nodes.filter((node) => arbitration.arbiters.includes(node)))
  return 3 * seats([...new Set(heldRevealers)]) > seats(arbitration.arbiters)
}

/**
 * Seats a disputed task's arbiters (phase `dispute`) from `arbiterSeats`, the arbitration's seats
 * (`arbitrationSeats`): the holders that did not commit run the task, commit blind, then reveal; no
 * backups stand in for them. A strict majority of all the votes (`arbitrationVotes`) rules; without
 * it the task ends unresolved.
 */
export function openArbitration(state: TaskState, arbiterSeats: readonly Address[], now: number, timing: TaskTiming): TaskState {
  if (state.phase !== 'dispute') return state
  const rank = (a: Address) => state.ranking.indexOf(a)
  const disputed = state.commits.map((c) => c.executor).sort((a, b) => rank(a) - rank(b))
  const { arbiters, votes, quorum } = arbitrationVotes(disputed, arbiterSeats)
  const seats = [...disputed, ...arbiters]
  return {
    ...state,
    arbitration: { disputed, arbiters, votes, quorum },
    seats,
    k: seats.length,
    quorum,
    nextBackup: state.ranking.length,
    phase: 'commit',
    commitDeadline: now + timing.commitWindowMs,
    revealDeadline: null,
    compareDeadline: null,
  }
}

/** Result hashes whose bytes the `compare` phase still waits for (none for `exact`). */
export function missingOutputs(state: TaskState): Hex[] {
  const revealed = state.reveals.map((r) => ({ executor: r.executor, ...r.reveal }))
  return resultsToCompare(state.spec.comparison, revealed).filter((hash) => !state.outputs.has(hash))
}

/**
 * Hands in result bytes for the `compare` phase (fetched by content id; bytes that are not one of
 * the awaited results are ignored). Decides once nothing is missing, or at once with `final`,
 * when the node has got all it could: results it could not fetch agree only with equal hashes.
 */
export function applyOutputs(state: TaskState, outputs: readonly Uint8Array[], now: number, timing: TaskTiming, final = false): TaskState {
  const s = advanceTask(state, now, timing)
  if (s.phase !== 'compare') return s
  const missing = new Set(missingOutputs(s))
  const merged = new Map(s.outputs)
  for (const bytes of outputs) {
    const id = contentId(bytes)
    if (missing.has(id)) merged.set(id, bytes)
  }
  const next: TaskState = { ...s, outputs: merged }
  return final || missingOutputs(next).length === 0 ? decide(next, now, timing) : next
}

function closeCommitPhase(state: TaskState, closedAt: number, timing: TaskTiming): TaskState {
  // An audited task's commits wait for the verifier's challenge before anything is revealed.
  if (state.audit?.stage === 'execute' && state.audit.audited === null) {
    const committers = new Set(state.commits.map((c) => c.executor))
    const index = challengerOf(state.ranking, executorsOf(state.spec.policy), committers)
    // A network with no node left to verify cannot audit (every ranked node sits in the task).
    if (index >= state.ranking.length) {
      return { ...state, audit: { ...state.audit, audited: false }, phase: 'reveal', revealDeadline: closedAt + timing.revealWindowMs }
    }
    return {
      ...state,
      phase: 'challenge',
      nextBackup: Math.max(state.nextBackup, index + 1),
      audit: { ...state.audit, verifier: state.ranking[index] ?? null, challengeDeadline: closedAt + timing.commitWindowMs },
    }
  }
  return { ...state, phase: 'reveal', revealDeadline: closedAt + timing.revealWindowMs }
}

/**
 * Seats the auditor: it must now commit to its own run before anyone reveals, and no backup stands
 * in for it. A verdict then needs one more agreeing reveal than the policy's quorum.
 */
function startAudit(state: TaskState, auditor: Address, drawn: boolean, at: number, timing: TaskTiming): TaskState {
  const seats = [...state.seats, auditor]
  return {
    ...state,
    audit: { ...state.audit!, stage: 'audit', verifier: auditor, audited: true, drawn },
    seats,
    k: seats.length,
    quorum: state.quorum + 1,
    nextBackup: state.ranking.length,
    phase: 'commit',
    commitDeadline: at + timing.commitWindowMs,
  }
}

/**
 * Applies every deadline that has passed by `now`: backups step in for missed commits, the commit
 * phase closes when backups run out, and the reveal deadline decides the task.
 */
export function advanceTask(state: TaskState, now: number, timing: TaskTiming): TaskState {
  let s = state
  for (;;) {
    if (s.phase === 'decided') return s
    if (BigInt(now) >= s.spec.deadline) return decide(s, now, timing, true)
    // A dispute waits for its arbiters to be seated, or for the spec's deadline.
    if (s.phase === 'dispute') return s
    if (s.phase === 'compare') {
      if (s.compareDeadline === null || now < s.compareDeadline) return s
      s = decide(s, s.compareDeadline, timing)
      continue
    }
    if (s.phase === 'reveal') {
      if (s.revealDeadline === null || now < s.revealDeadline) return s
      s = decide(s, s.revealDeadline, timing)
      continue
    }
    if (s.phase === 'challenge') {
      const audit = s.audit!
      if (audit.challengeDeadline === null || now < audit.challengeDeadline) return s
      // A silent verifier cannot spare the seats an audit: the next node audits instead.
      const missed = audit.verifier === null ? [] : [audit.verifier]
      const next = s.ranking[s.nextBackup]
      s = { ...s, missedCommit: [...s.missedCommit, ...missed] }
      s =
        next === undefined
          ? { ...s, phase: 'reveal', revealDeadline: audit.challengeDeadline + timing.revealWindowMs, audit: { ...audit, audited: false } }
          : startAudit(s, next, false, audit.challengeDeadline, timing)
      continue
    }
    if (now < s.commitDeadline) return s

    const passed = s.commitDeadline
    const missing = s.seats.filter((e) => !hasCommitted(s, e))
    const kept = s.seats.filter((e) => hasCommitted(s, e))
    const stepIn = s.ranking.slice(s.nextBackup, s.nextBackup + missing.length)
    s = {
      ...s,
      seats: [...kept, ...stepIn],
      nextBackup: s.nextBackup + stepIn.length,
      missedCommit: [...s.missedCommit, ...missing],
      commitDeadline: s.commitDeadline + timing.commitWindowMs,
    }
    if (stepIn.length === 0) {
      // No backups left: go on with what was committed if it can still reach quorum.
      s = votesOf(s, s.commits.map((c) => c.executor)) >= s.quorum ? closeCommitPhase(s, passed, timing) : decide(s, passed, timing)
    }
  }
}

/**
 * What a commit, reveal or challenge makes of a task, as data: `accept` with the task's new state;
 * `hold` when it came early (keep it and apply it once the task's state has caught up); `ignore`
 * when it does not fit but honest nodes send such (duplicates, late arrivals); `reject` when no
 * honest node would send it. `code` is the code `applyCommit`, `applyReveal` or `applyChallenge`
 * throws for the same message.
 */
export type TaskMessageOutcome<Code extends string = string> =
  | { kind: 'accept'; state: TaskState }
  | { kind: 'hold' }
  | { kind: 'ignore'; code: Code }
  | { kind: 'reject'; code: Code }

/** Why a commit does not fit the task (already advanced to now), or undefined if it does. */
function refuseCommit(s: TaskState, signed: Attested<Commit>): CommitRejectedError | undefined {
  const executor = signed.signer
  const details = { taskId: s.taskId, executor }
  if (signed.message.taskId !== s.taskId) {
    return new CommitRejectedError('COMMIT_UNKNOWN_TASK', 'The commit is for another task.', { details })
  }
  if (hasCommitted(s, executor)) {
    return new CommitRejectedError('COMMIT_DUPLICATE', 'The executor has already committed to this task.', { details })
  }
  if (s.phase !== 'commit') {
    return new CommitRejectedError('COMMIT_PHASE_CLOSED', 'The commit phase of this task has closed.', { details })
  }
  if (!s.seats.includes(executor)) {
    return new CommitRejectedError('COMMIT_NOT_ASSIGNED', 'The committer is not an assigned executor of this task.', {
      details,
    })
  }
  return undefined
}

function withCommit(s: TaskState, signed: Attested<Commit>, now: number, timing: TaskTiming): TaskState {
  const next: TaskState = { ...s, commits: [...s.commits, { executor: signed.signer, commitment: signed.message.commitment }] }
  return next.seats.every((e) => hasCommitted(next, e)) ? closeCommitPhase(next, now, timing) : next
}

/** Accepts a commit whose signature (its batch's) the caller has checked; throws a typed error otherwise. */
export function applyCommit(state: TaskState, signed: Attested<Commit>, now: number, timing: TaskTiming): TaskState {
  const s = advanceTask(state, now, timing)
  const refusal = refuseCommit(s, signed)
  if (refusal !== undefined) throw refusal
  return withCommit(s, signed, now, timing)
}

/**
 * Judges a commit (signature checked by the caller) against the task as this node holds it. A
 * commit from a ranked backup without a seat here, while `state` is in its commit phase, is held:
 * on a node whose deadline came sooner the backup already stepped in. Duplicates and late commits
 * are ignored; a commit from a node that is not even ranked for the task is rejected.
 */
export function judgeCommit(state: TaskState, signed: Attested<Commit>, now: number, timing: TaskTiming): TaskMessageOutcome<CommitRejectionCode> {
  const s = advanceTask(state, now, timing)
  const refusal = refuseCommit(s, signed)
  if (refusal === undefined) return { kind: 'accept', state: withCommit(s, signed, now, timing) }
  // An arbiter's commit can come before this node has seen the dispute: held until the
  // arbitration's commit phase opens here.
  if (refusal.code === 'COMMIT_PHASE_CLOSED' && mayGoToArbitration(s) && !hasCommitted(s, signed.signer)) return { kind: 'hold' }
  if (refusal.code !== 'COMMIT_NOT_ASSIGNED') return { kind: 'ignore', code: refusal.code }
  // `state`, not `s`: the phase before this node applied the deadlines that passed.
  return state.ranking.includes(signed.signer) && state.phase === 'commit' ? { kind: 'hold' } : { kind: 'reject', code: refusal.code }
}

/** Why a reveal does not fit the task (already advanced to now), or undefined if it does. */
function refuseReveal(s: TaskState, signed: Attested<Reveal>): RevealRejectedError | undefined {
  const executor = signed.signer
  const reveal = signed.message
  const details = { taskId: s.taskId, executor }
  if (reveal.taskId !== s.taskId) {
    return new RevealRejectedError('REVEAL_UNKNOWN_TASK', 'The reveal is for another task.', { details })
  }
  if (s.phase === 'commit') {
    return new RevealRejectedError('REVEAL_BEFORE_COMMIT_CLOSE', 'A reveal was sent before the commit phase closed.', {
      details,
      hint: 'Reveals are accepted only after every assigned executor committed or the commit deadline passed.',
    })
  }
  if (s.phase === 'decided' || s.phase === 'compare') {
    return new RevealRejectedError('REVEAL_PHASE_CLOSED', 'The reveal phase of this task has closed.', { details })
  }
  const commit = s.commits.find((c) => c.executor === executor)
  if (commit === undefined) {
    return new RevealRejectedError('REVEAL_WITHOUT_COMMIT', 'The executor never committed to this task.', { details })
  }
  if (hasRevealed(s, executor)) {
    return new RevealRejectedError('REVEAL_DUPLICATE', 'The executor has already revealed.', { details })
  }
  if (computeCommitment({ ...reveal, executor }) !== commit.commitment) {
    return new RevealRejectedError('REVEAL_MISMATCH', 'The reveal does not open the executor’s commit.', { details })
  }
  return undefined
}

function withReveal(s: TaskState, signed: Attested<Reveal>, now: number, timing: TaskTiming): TaskState {
  const next: TaskState = { ...s, reveals: [...s.reveals, { executor: signed.signer, reveal: signed.message }] }
  return next.reveals.length === next.commits.length ? decide(next, now, timing) : next
}

/** Accepts a reveal whose signature (its batch's) the caller has checked; throws a typed error otherwise. */
export function applyReveal(state: TaskState, signed: Attested<Reveal>, now: number, timing: TaskTiming): TaskState {
  const s = advanceTask(state, now, timing)
  const refusal = refuseReveal(s, signed)
  if (refusal !== undefined) throw refusal
  return withReveal(s, signed, now, timing)
}

/**
 * Judges a reveal (signature checked by the caller): one sent before the commit phase closed here
 * is held; every other refusal is ignored. A reveal is never `reject`ed: whatever it opens, a
 * signed reveal is evidence nodes record for the epoch's batch.
 */
export function judgeReveal(state: TaskState, signed: Attested<Reveal>, now: number, timing: TaskTiming): TaskMessageOutcome<RevealRejectionCode> {
  const s = advanceTask(state, now, timing)
  const refusal = refuseReveal(s, signed)
  if (refusal === undefined) return { kind: 'accept', state: withReveal(s, signed, now, timing) }
  if (refusal.code === 'REVEAL_BEFORE_COMMIT_CLOSE') return { kind: 'hold' }
  // So can an arbiter's reveal, on a node that lags a whole arbitration behind.
  if (refusal.code === 'REVEAL_WITHOUT_COMMIT' && mayGoToArbitration(s)) return { kind: 'hold' }
  return { kind: 'ignore', code: refusal.code }
}

/** Whether the task is past its first commit phase and may yet go to arbitration. */
function mayGoToArbitration(s: TaskState): boolean {
  return s.arbitration === null && (s.phase === 'challenge' || s.phase === 'reveal' || s.phase === 'compare' || s.phase === 'dispute')
}

/** The challenge's audit draw if it fits the task (already advanced to now), or why it does not. */
function checkChallenge(s: TaskState, signed: SignedChallenge, verifyVrf?: VrfVerifier): { draw: Hex } | { refusal: ChallengeRejectedError } {
  const details = { taskId: s.taskId, verifier: signed.signer }
  if (s.phase !== 'challenge' || s.audit === null) {
    return { refusal: new ChallengeRejectedError('CHALLENGE_UNEXPECTED', 'The task is not waiting for a challenge.', { details }) }
  }
  if (signed.signer !== s.audit.verifier) {
    return { refusal: new ChallengeRejectedError('CHALLENGE_NOT_VERIFIER', 'Only the designated verifier can challenge this task.', { details }) }
  }
  if (signed.message.taskId !== s.taskId || signed.message.commitment !== challengedCommitment(s.ranking, s.commits)) {
    return { refusal: new ChallengeRejectedError('CHALLENGE_MISMATCH', 'The challenge does not name the best-ranked executor’s commitment.', { details }) }
  }
  const draw = auditDrawOf(signed, verifyVrf)
  if (draw === undefined) {
    return { refusal: new ChallengeRejectedError('CHALLENGE_BAD_DRAW', 'The audit draw is not the verifier’s VRF output on this challenge.', { details }) }
  }
  return { draw }
}

function withChallenge(s: TaskState, signed: SignedChallenge, draw: Hex, now: number, timing: TaskTiming): TaskState {
  const audit = s.audit!
  if (isAudited(draw, audit.ratePpm)) return startAudit(s, signed.signer, true, now, timing)
  return { ...s, audit: { ...audit, audited: false }, phase: 'reveal', revealDeadline: now + timing.revealWindowMs }
}

/**
 * A task whose verifier's challenge came late (its deadline passed here, so the next node was
 * seated to audit), while the forced audit is still committing, back in its challenge phase: the
 * challenge, once it comes, decides instead. Nodes whose deadlines fell either side of the
 * challenge's arrival then agree on one audit (and one certificate) instead of two. The forced
 * auditor's commit, if any, no longer counts, and the verifier did not miss its turn after all.
 */
function reopenChallenge(s: TaskState): TaskState {
  const audit = s.audit
  if (s.phase !== 'commit' || audit === null || audit.stage !== 'audit' || audit.drawn || s.arbitration !== null) return s
  const forced = audit.verifier!
  const commits = s.commits.filter((c) => c.executor !== forced)
  const index = challengerOf(s.ranking, executorsOf(s.spec.policy), new Set(commits.map((c) => c.executor)))
  const verifier = s.ranking[index] ?? null
  const seats = s.seats.filter((node) => node !== forced)
  return {
    ...s,
    phase: 'challenge',
    seats,
    k: seats.length,
    quorum: s.quorum - 1,
    commits,
    // The forced audit marked the verifier as missed last.
    missedCommit: s.missedCommit.at(-1) === verifier ? s.missedCommit.slice(0, -1) : s.missedCommit,
    audit: { ...audit, stage: 'execute', verifier, audited: null },
  }
}

/**
 * Applies the verifier's challenge of a task with an audit rate (signature checked by the caller): it must
 * come from the designated verifier, name the executor's commitment and carry the verifier's audit
 * draw on it, whose VRF output alone decides whether the task is audited (`isAudited`).
 */
export function applyChallenge(state: TaskState, signed: SignedChallenge, now: number, timing: TaskTiming, verifyVrf?: VrfVerifier): TaskState {
  const s = reopenChallenge(advanceTask(state, now, timing))
  const checked = checkChallenge(s, signed, verifyVrf)
  if ('refusal' in checked) throw checked.refusal
  return withChallenge(s, signed, checked.draw, now, timing)
}

/**
 * Judges a challenge (signature checked by the caller): one that arrives while `state` is still in
 * its commit phase (this node has not seen the executor's commit yet) is held; one from a node
 * other than the designated verifier, or whose audit draw does not check, is rejected; any other
 * refusal is ignored.
 */
export function judgeChallenge(
  state: TaskState,
  signed: SignedChallenge,
  now: number,
  timing: TaskTiming,
  verifyVrf?: VrfVerifier,
): TaskMessageOutcome<ChallengeRejectionCode> {
  const s = reopenChallenge(advanceTask(state, now, timing))
  const checked = checkChallenge(s, signed, verifyVrf)
  if ('draw' in checked) return { kind: 'accept', state: withChallenge(s, signed, checked.draw, now, timing) }
  const { code } = checked.refusal
  if (code === 'CHALLENGE_UNEXPECTED' && state.phase === 'commit') return { kind: 'hold' }
  return code === 'CHALLENGE_NOT_VERIFIER' || code === 'CHALLENGE_BAD_DRAW' ? { kind: 'reject', code } : { kind: 'ignore', code }
}

/** The next time at which `advanceTask` would change the state, or null once decided. */
export function nextTaskDeadline(state: TaskState): number | null {
  if (state.phase === 'decided') return null
  const phaseDeadline =
    state.phase === 'commit'
      ? state.commitDeadline
      : state.phase === 'challenge'
        ? (state.audit?.challengeDeadline ?? state.commitDeadline)
        : state.phase === 'compare'
          ? (state.compareDeadline ?? state.commitDeadline)
          : state.phase === 'dispute'
            ? Number(state.spec.deadline)
            : (state.revealDeadline ?? state.commitDeadline)
  return Math.min(phaseDeadline, Number(state.spec.deadline))
}

/** Whether `executor` holds a seat and has not committed yet: it should execute the task. */
export function isAwaitingCommit(state: TaskState, executor: Address): boolean {
  return state.phase === 'commit' && state.seats.includes(executor) && !hasCommitted(state, executor)
}

/** Whether `node` is the verifier a task is waiting on for its challenge. */
export function isAwaitingChallenge(state: TaskState, node: Address): boolean {
  return state.phase === 'challenge' && state.audit?.verifier === node
}

/** Whether `executor` committed and should reveal now. */
export function isAwaitingReveal(state: TaskState, executor: Address): boolean {
  return state.phase === 'reveal' && hasCommitted(state, executor) && !hasRevealed(state, executor)
}
