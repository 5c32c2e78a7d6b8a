import { auditDrawOf, isAudited } from './challenge.ts'
import type { VrfVerifier } from './challenge.ts'
import { checkTaskCertificate } from './certificate.ts'
import { computeCommitment } from './commit.ts'
import type { CertificateRejectionCode, TaskCertificate } from './certificate.ts'
import { resultsToCompare } from './comparison.ts'
import { hashTaskSpec } from './eip712.ts'
import type { SettledTask } from './epochBatch.ts'
import type { EpochProposal, ProposedTask } from './epochProposal.ts'
import type { BatchSeal } from './seal.ts'
import type { SignatureVerifier } from './signing.ts'
import type { AnchorRecord } from './taskAnchor.ts'
import { auditRateOf, executorsOf, seatsOf } from './task.ts'
import type { Address, Hex, Policy, ProtocolDomain, Reveal, SignedChallenge, TaskSpec, Verdict } from './types.ts'

export type BatchObjectionReason =
  /** A certificate that proves nothing, or not the verdict claimed for it (its code says why). */
  | CertificateRejectionCode
  /** The proposal settles one task twice. */
  | 'duplicate-task'
  /**
   * A task whose spec this member never accepted, whose certificate counts a backup: only members
   * that saw the spec could tell whether a better-ranked commit was left out.
   */
  | 'unknown-task'
  /** A task this node holds a certificate for is left out (and did not cross the epoch boundary). */
  | 'missing-task'
  /**
   * A certificate leaves out a commit this node counted that would have held a seat, and whose
   * reveal (held here) changes the verdict: a hidden dissent, or a quorum left short.
   */
  | 'omits-commit'
  /** A certificate leaves out a reveal this node accepted in time: it would penalise that executor as a withholder. */
  | 'omits-reveal'
  /**
   * A certificate leaves out the audit-calling challenge this node took: without it the task owes
   * an audit anyone may claim to be, instead of the drawn auditor whose reveal the verdict needs.
   */
  | 'omits-challenge'

export interface BatchObjection {
  taskId: Hex
  reason: BatchObjectionReason
}

/** A task this node decided itself: its own certificate and the verdict it reached. */
export interface DecidedTask {
  certificate: TaskCertificate
  verdict: Verdict
  /**
   * Whether the epoch's batch may leave it out: its spec crossed the epoch boundary (accepted in
   * the grace period) or the node resumed it after a restart, so an aggregator may never have seen it.
   */
  mayOmit?: boolean
}

export interface CertifyParameters {
  domain: ProtocolDomain
  verify: SignatureVerifier
  /** The epoch whose batch settles the tasks. */
  epoch: bigint
  /** A task's ranking in the epoch's snapshot (`rankTask`). */
  rankingOf(spec: TaskSpec, taskId: Hex): readonly Address[]
  /** Requesters' task anchors as the chain holds them (`CheckTaskCertificateParameters.anchorOf`). */
  anchorOf(requester: Address, root: Hex): AnchorRecord | undefined | Promise<AnchorRecord | undefined>
  /** A dispute's arbitration seats (`CheckTaskCertificateParameters.arbitrationSeatsOf`). */
  arbitrationSeatsOf?(spec: TaskSpec, taskId: Hex): readonly Address[]
  /** Checks sampled tasks' audit draws; the pure `verifyVrf` by default. */
  verifyVrf?: VrfVerifier
  /** Result bytes for tolerance comparisons, by content id (see `outputsToFetch`). */
  outputs?: ReadonlyMap<Hex, Uint8Array>
}

/** A checked task: what the batch settles, and the certificate and verdict the proposal carries. */
export type CertifiedTask = SettledTask & ProposedTask

/** Result hashes a certificate's verdict needs the bytes of: differing results under a tolerance comparison. */
export function outputsToFetch(certificate: TaskCertificate): Hex[] {
  const reveals = [...certificate.reveals, ...(certificate.arbitration?.reveals ?? [])].map((r) => ({ executor: r.signer, ...r.message }))
  return resultsToCompare(certificate.spec.message.comparison, reveals)
}

/** Whether a challenge's draw calls for an audit of the task (a draw that does not check calls none). */
function callsAudit(challenge: SignedChallenge, policy: Policy, verifyVrf?: VrfVerifier): boolean {
  const draw = auditDrawOf(challenge, verifyVrf)
  return draw !== undefined && isAudited(draw, auditRateOf(policy))
}

/** Whether every committer holds one of the task's first seats (the first k ranked; no backup stepped in). */
function inFirstSeats(certificate: TaskCertificate, ranking: readonly Address[]): boolean {
  const first = new Set(ranking.slice(0, seatsOf(certificate.spec.message.policy)))
  return certificate.commits.every((c) => first.has(c.signer))
}

/**
 * Checks one certificate and turns it into a settled task, or says why it proves nothing. With
 * `claimed`, the certificate must prove exactly that verdict.
 */
export async function certifyTask(
  certificate: TaskCertificate,
  { domain, verify, verifyVrf, epoch, rankingOf, anchorOf, arbitrationSeatsOf, outputs }: CertifyParameters,
  claimed?: Verdict,
  verified?: Map<BatchSeal, boolean>,
): Promise<CertifiedTask | { reason: CertificateRejectionCode; message: string }> {
  const check = await checkTaskCertificate({
    certificate,
    domain,
    verify,
    epoch,
    rankingOf,
    anchorOf,
    ...(arbitrationSeatsOf === undefined ? {} : { arbitrationSeatsOf }),
    ...(verifyVrf === undefined ? {} : { verifyVrf }),
    ...(claimed === undefined ? {} : { claimed }),
    ...(outputs === undefined ? {} : { outputs }),
    ...(verified === undefined ? {} : { verified }),
  })
  if (check.kind === 'reject') return { reason: check.code, message: check.message }
  const spec = certificate.spec.message
  return { certificate, verdict: check.verdict, requester: spec.requester, fee: spec.fee, withheld: check.withheld }
}

/**
 * As aggregator: turns this node's certificates into the tasks of its proposal. Each entry is a
 * task's certificate, or its alternatives best first (a certificate merged with members' evidence,
 * then the one it was merged into): the first that proves something counts, unless it leaves the
 * task unresolved and a later one decides it (a merge never voids a verdict). A task none of whose
 * certificates proves anything (none should: the node built them from messages it checked) is left
 * out and reported.
 */
export async function certifyTasks(
  certificates: readonly (TaskCertificate | readonly TaskCertificate[])[],
  parameters: CertifyParameters,
): Promise<{ tasks: CertifiedTask[]; refused: Array<{ taskId: Hex; reason: CertificateRejectionCode }> }> {
  const verified = new Map<BatchSeal, boolean>()
  const tasks: CertifiedTask[] = []
  const refused: Array<{ taskId: Hex; reason: CertificateRejectionCode }> = []
  for (const entry of certificates) {
    const alternatives: readonly TaskCertificate[] = 'spec' in entry ? [entry] : entry
    let chosen: CertifiedTask | undefined
    let reason: CertificateRejectionCode | undefined
    for (const certificate of alternatives) {
      const task = await certifyTask(certificate, parameters, undefined, verified)
      if ('reason' in task) reason ??= task.reason
      else if (chosen === undefined || (chosen.verdict.outcome === 'unresolved' && task.verdict.outcome !== 'unresolved')) chosen = task
      if (chosen !== undefined && chosen.verdict.outcome !== 'unresolved') break
    }
    if (chosen !== undefined) tasks.push(chosen)
    else if (reason !== undefined) refused.push({ taskId: hashTaskSpec(alternatives[0]!.spec.message, parameters.domain), reason })
  }
  return { tasks, refused }
}

export interface FindBatchObjectionParameters extends CertifyParameters {
  proposal: EpochProposal
  /** The tasks this member decided itself, with its own certificates. */
  own: readonly DecidedTask[]
  /**
   * Whether this member accepted the task's spec. A certificate proves who committed, not that the
   * better-ranked seats had their chance: only members that saw the spec hold the commits an
   * aggregator might leave out, so for a task it never saw a member accepts only a certificate
   * whose committers all hold first seats (no backup). Every task is known when absent.
   */
  knows?(taskId: Hex): boolean
}

/**
 * What a committee member checks before it signs an epoch's batch. It signs on certificates, not on
 * what it saw: every task's certificate must prove the verdict claimed for it (`certifyTask`), so
 * no unseated or duplicate signer, no framed executor and no short quorum gets through, and the
 * terms (requester, fee, quorum) are the signed spec's. A task whose spec the member never
 * accepted (`knows`) passes only with its first seats (no backup). What the member holds itself matters only for what the proposal leaves out, since
 * absence cannot be proven: a task it holds a certificate for, a commit it counted that would
 * have held a seat, a reveal it accepted in time. Returns the first objection, all of them (the
 * member's evidence answers each one it can: `isAnsweredByEvidence`) and the tasks whose certificates
 * prove their verdicts all the same (the next round's aggregator builds on them); or the settled
 * tasks to build the batch from.
 */
export async function findBatchObjection({
  proposal,
  own,
  knows = () => true,
  ...parameters
}: FindBatchObjectionParameters): Promise<{ objection: BatchObjection; objections: readonly BatchObjection[]; certified: CertifiedTask[] } | { tasks: CertifiedTask[] }> {
  const verified = new Map<BatchSeal, boolean>()
  const mine = new Map(own.map((t) => [t.verdict.taskId, t]))
  const seen = new Set<Hex>()
  const tasks: CertifiedTask[] = []
  const objections: BatchObjection[] = []
  /** Tasks whose certificate proves its verdict, with or without an omission this member sees. */
  const certified: CertifiedTask[] = []
  for (const { certificate, verdict } of proposal.tasks) {
    const taskId = verdict.taskId
    if (seen.has(taskId)) {
      objections.push({ taskId, reason: 'duplicate-task' })
      continue
    }
    seen.add(taskId)
    const task = await certifyTask(certificate, parameters, verdict, verified)
    if ('reason' in task) {
      objections.push({ taskId, reason: task.reason })
      continue
    }
    certified.push(task)
    const reason = omissionIn(certificate, verdict, mine.get(taskId)?.certificate, knows(taskId), parameters)
    if (reason !== undefined) objections.push({ taskId, reason })
    else tasks.push(task)
  }
  for (const [taskId, task] of mine) if (!seen.has(taskId) && task.mayOmit !== true) objections.push({ taskId, reason: 'missing-task' })
  return objections.length > 0 ? { objection: objections[0]!, objections, certified } : { tasks }
}

/**
 * The proposal's backup-seated tasks, in proposal order: those whose certificate seats a committer
 * outside the task's first seats. A member that never saw such a task's spec cannot tell whether a
 * better-ranked commit was left out (`unknown-task`); vouches (`BatchVouch`) name them by their place here.
 */
export function backupSeated(tasks: readonly ProposedTask[], rankingOf: CertifyParameters['rankingOf']): Hex[] {
  return tasks.filter(({ certificate, verdict }) => !inFirstSeats(certificate, rankingOf(certificate.spec.message, verdict.taskId))).map((t) => t.verdict.taskId)
}

/** Objections that the member's own certificate of the task answers: the next round's aggregator can merge what it holds (`mergeCertificates`). */
export function isAnsweredByEvidence(reason: BatchObjectionReason): boolean {
  return reason === 'missing-task' || reason === 'omits-reveal' || reason === 'omits-commit' || reason === 'omits-challenge'
}

/**
 * What a proposed task's checked certificate leaves out that the member can see: a better-ranked
 * seat it cannot judge (the spec unknown here), or a commit, reveal, challenge or arbitration the
 * member holds (`held`, its own certificate of the task).
 */
function omissionIn(
  certificate: TaskCertificate,
  verdict: Verdict,
  held: TaskCertificate | undefined,
  known: boolean,
  parameters: CertifyParameters,
): BatchObjectionReason | undefined {
  const taskId = verdict.taskId
  if (!known && !inFirstSeats(certificate, parameters.rankingOf(certificate.spec.message, taskId))) return 'unknown-task'
  if (held === undefined) return undefined
  const signers = (items: readonly { signer: Address }[]) => new Set(items.map((i) => i.signer))
  // Every commit and reveal the certificate counts, of its seats and its arbitration. In an
  // arbitration every ranked node that did not commit to a seat is an arbiter, so a node's one
  // commit counts as a seat's in one view and an arbiter's in another (a late primary there, a
  // backup here): it is left out only if it counts nowhere. Except in an arbitration that rules
  // nothing, for a member that saw no dispute: an aggregator could otherwise seat a backup's
  // dissent, signed at any time, in place of an honest seat, move that seat into an arbitration
  // nobody held, and void a unanimous task without an objection. An arbitration that rules needs a
  // strict majority of all the seats (the dissent is then slashed), and a member that held an
  // arbitration of its own saw the dispute.
  const arbitration = verdict.outcome !== 'unresolved' || held.arbitration !== undefined ? certificate.arbitration : undefined
  const counted = {
    commits: signers([...certificate.commits, ...(arbitration?.commits ?? [])]),
    reveals: signers([...certificate.reveals, ...(arbitration?.reveals ?? [])]),
  }
  // A left-out commit matters only if it would have held a seat (a free seat, or a better rank
  // than a counted one) and its reveal, which this member holds, would change the verdict: a
  // dissent it hides, or a quorum it would complete. One that agrees with the verdict changes
  // only which of two agreeing executors is paid; objecting to it would split the committee
  // over a deadline (one node seated a backup, another the late primary) and stall the epoch.
  const ranking = parameters.rankingOf(certificate.spec.message, taskId)
  const rank = (node: Address) => ranking.indexOf(node)
  const worst = Math.max(...certificate.commits.map((c) => rank(c.signer)))
  const full = certificate.commits.length >= executorsOf(certificate.spec.message.policy)
  const outranks = (node: Address) => !full || rank(node) < worst
  const heldReveals = [...held.reveals, ...(held.arbitration?.reveals ?? [])]
  const changesVerdict = (node: Address) =>
    heldReveals.some((r) => r.signer === node && (verdict.outcome === 'unresolved' || r.message.resultHash !== verdict.resultHash))
  if (held.commits.some((c) => !counted.commits.has(c.signer) && outranks(c.signer) && changesVerdict(c.signer))) return 'omits-commit'
  // A held reveal that does not open the commit the certificate counts for its signer proves that
  // the signer signed two commits for one task (an honest node sends one, and again the same after
  // a restart): it sent one to some nodes and the other to the rest. Where the certificate counts
  // the other, the equivocator withheld, and is penalised for it; objecting would let one node
  // split the committee over its two commits for good.
  const commitments = new Map([...certificate.commits, ...(arbitration?.commits ?? [])].map((c) => [c.signer, c.message.commitment]))
  const equivocates = (r: { signer: Address; message: Reveal }) =>
    commitments.has(r.signer) && commitments.get(r.signer) !== computeCommitment({ ...r.message, executor: r.signer })
  if (held.reveals.some((r) => counted.commits.has(r.signer) && !counted.reveals.has(r.signer) && !equivocates(r))) return 'omits-reveal'
  // Without the audit-calling challenge this member took, the certificate hides that the draw
  // named its verifier the auditor. (Leaving out a sparing one only asks more of the certificate.)
  // An arbitration that counts the auditor's commit hides nothing: there the auditor is an arbiter.
  if (
    held.challenge !== undefined &&
    certificate.challenge === undefined &&
    !(certificate.arbitration !== undefined && counted.commits.has(held.challenge.signer)) &&
    callsAudit(held.challenge, certificate.spec.message.policy, parameters.verifyVrf)
  ) {
    return 'omits-challenge'
  }
  // An arbitration this member holds must not be left out or cut short: every arbiter holds a
  // seat, so each of its commits and reveals counts. Where the certificate counts a node's commit
  // and reveal among the seats instead (its holder saw the audit that seated it, this member did
  // not, or the other way round), nothing is left out: the ruling is a majority of all of them.
  if (held.arbitration !== undefined) {
    if (held.arbitration.commits.some((c) => !counted.commits.has(c.signer) && changesVerdict(c.signer))) return 'omits-commit'
    if (held.arbitration.reveals.some((r) => !counted.reveals.has(r.signer) && !equivocates(r))) return 'omits-reveal'
  }
  return undefined
}
