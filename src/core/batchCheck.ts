import { auditDrawOf, isAudited } from './challenge.ts'
import type { VrfVerifier } from './challenge.ts'
import { checkTaskCertificate } from './certificate.ts'
import type { CertificateRejectionCode, TaskCertificate } from './certificate.ts'
import { resultsToCompare } from './comparison.ts'
import { hashTaskSpec } from './eip712.ts'
import type { SettledTask } from './epochBatch.ts'
import type { EpochProposal, ProposedTask } from './epochProposal.ts'
import type { BatchSeal } from './seal.ts'
import type { SignatureVerifier } from './signing.ts'
import type { AnchorRecord } from './taskAnchor.ts'
import { auditRateOf, executorsOf, seatsOf } from './task.ts'
import type { Address, Hex, Policy, ProtocolDomain, SignedChallenge, TaskSpec, Verdict } from './types.ts'

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
  /** A dispute's arbiters (`CheckTaskCertificateParameters.arbitersOf`). */
  arbitersOf?(spec: TaskSpec, taskId: Hex, disputed: readonly Address[]): readonly Address[]
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
  { domain, verify, verifyVrf, epoch, rankingOf, anchorOf, arbitersOf, outputs }: CertifyParameters,
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
    ...(arbitersOf === undefined ? {} : { arbitersOf }),
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
 * As aggregator: turns this node's certificates into the tasks of its proposal. A certificate
 * that proves nothing (none should: the node built it from messages it checked) is left out and
 * reported.
 */
export async function certifyTasks(
  certificates: readonly TaskCertificate[],
  parameters: CertifyParameters,
): Promise<{ tasks: CertifiedTask[]; refused: Array<{ taskId: Hex; reason: CertificateRejectionCode }> }> {
  const verified = new Map<BatchSeal, boolean>()
  const tasks: CertifiedTask[] = []
  const refused: Array<{ taskId: Hex; reason: CertificateRejectionCode }> = []
  for (const certificate of certificates) {
    const task = await certifyTask(certificate, parameters, undefined, verified)
    if ('reason' in task) refused.push({ taskId: hashTaskSpec(certificate.spec.message, parameters.domain), reason: task.reason })
    else tasks.push(task)
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
 * have held a seat, a reveal it accepted in time. Returns the first objection, or the settled tasks to
 * build the batch from.
 */
export async function findBatchObjection({
  proposal,
  own,
  knows = () => true,
  ...parameters
}: FindBatchObjectionParameters): Promise<{ objection: BatchObjection } | { tasks: CertifiedTask[] }> {
  const verified = new Map<BatchSeal, boolean>()
  const mine = new Map(own.map((t) => [t.verdict.taskId, t]))
  const seen = new Set<Hex>()
  const tasks: CertifiedTask[] = []
  for (const { certificate, verdict } of proposal.tasks) {
    const taskId = verdict.taskId
    if (seen.has(taskId)) return { objection: { taskId, reason: 'duplicate-task' } }
    seen.add(taskId)
    const task = await certifyTask(certificate, parameters, verdict, verified)
    if ('reason' in task) return { objection: { taskId, reason: task.reason } }
    if (!knows(taskId) && !inFirstSeats(certificate, parameters.rankingOf(certificate.spec.message, taskId))) {
      return { objection: { taskId, reason: 'unknown-task' } }
    }
    const held = mine.get(taskId)?.certificate
    if (held !== undefined) {
      const signers = (items: readonly { signer: Address }[]) => new Set(items.map((i) => i.signer))
      const commits = signers(certificate.commits)
      const reveals = signers(certificate.reveals)
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
      if (held.commits.some((c) => !commits.has(c.signer) && outranks(c.signer) && changesVerdict(c.signer))) {
        return { objection: { taskId, reason: 'omits-commit' } }
      }
      if (held.reveals.some((r) => commits.has(r.signer) && !reveals.has(r.signer))) return { objection: { taskId, reason: 'omits-reveal' } }
      // Without the audit-calling challenge this member took, the certificate hides that the draw
      // named its verifier the auditor. (Leaving out a sparing one only asks more of the certificate.)
      if (held.challenge !== undefined && certificate.challenge === undefined && callsAudit(held.challenge, certificate.spec.message.policy, parameters.verifyVrf)) {
        return { objection: { taskId, reason: 'omits-challenge' } }
      }
      // An arbitration this member holds must not be left out or cut short: every arbiter holds a
      // seat, so each of its commits and reveals counts.
      if (held.arbitration !== undefined) {
        const arbiterCommits = signers(certificate.arbitration?.commits ?? [])
        const arbiterReveals = signers(certificate.arbitration?.reveals ?? [])
        if (held.arbitration.commits.some((c) => !arbiterCommits.has(c.signer) && changesVerdict(c.signer))) return { objection: { taskId, reason: 'omits-commit' } }
        if (held.arbitration.reveals.some((r) => !arbiterReveals.has(r.signer))) return { objection: { taskId, reason: 'omits-reveal' } }
      }
    }
    tasks.push(task)
  }
  for (const [taskId, task] of mine) if (!seen.has(taskId) && task.mayOmit !== true) return { objection: { taskId, reason: 'missing-task' } }
  return { tasks }
}
