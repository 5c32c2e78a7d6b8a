import { auditDrawOf, isAudited } from './challenge.ts'
import type { VrfVerifier } from './challenge.ts'
import { computeCommitment } from './commit.ts'
import { hashChallenge, hashTaskSpec } from './eip712.ts'
import { isValidSealedItem } from './seal.ts'
import { checkTaskAnchor } from './taskAnchor.ts'
import type { AnchorRecord } from './taskAnchor.ts'
import type { BatchSeal, Sealed } from './seal.ts'
import type { SignatureVerifier } from './signing.ts'
import { arbitrationVotes, auditRateOf, challengedCommitment, challengerOf, executorsOf } from './task.ts'
import { isStrictMajority } from './taskSpec.ts'
import type { Address, Commit, Hex, ProtocolDomain, Reveal, SignedChallenge, SignedSpec, TaskSpec, Verdict } from './types.ts'
import { decideVerdict, isDisputed } from './verdict.ts'
import { zeroHash } from 'viem'

/**
 * The evidence of one task's verdict, checkable by anyone from it and the chain alone (the epoch's
 * seed, the draw block's hash and the stake snapshot give the task's ranking; the requester's
 * anchor shows its id was fixed before the draw): the requester's signed spec with its anchor proof, each counted
 * executor's sealed commit and the sealed reveals that open them, and for a sampled task the
 * verifier's signed challenge. It carries no verdict: the verdict follows from it
 * (`checkTaskCertificate`), so nobody can claim another.
 */
export interface TaskCertificate {
  spec: SignedSpec
  /** The counted commits, one per executor. */
  commits: readonly Sealed<Commit>[]
  /** Reveals that open counted commits, at most one per executor. A committer without one withheld. */
  reveals: readonly Sealed<Reveal>[]
  /** An audited task's challenge from its designated verifier (`challengerOf`), when one was signed. */
  challenge?: SignedChallenge
  /**
   * A dispute's arbitration: the arbiters' sealed commits and the reveals that open them. Present
   * only when the reveals above disagree (`isDisputed`); the arbiters' majority then rules.
   */
  arbitration?: { commits: readonly Sealed<Commit>[]; reveals: readonly Sealed<Reveal>[] }
}

export type CertificateRejectionCode =
  | 'CERT_BAD_SPEC_SIGNATURE'
  /** The task's id was not anchored on-chain before its draw block (core/taskAnchor.ts): its requester could have chosen its seats. */
  | 'CERT_NOT_ANCHORED'
  /** The spec names another epoch than the batch that settles it. */
  | 'CERT_WRONG_EPOCH'
  | 'CERT_BAD_SEAL'
  | 'CERT_WRONG_TASK'
  /** A signer the task's ranking does not hold: an unstaked key, or one not drawn for this task. */
  | 'CERT_UNSEATED'
  | 'CERT_DUPLICATE_SIGNER'
  /** More commits than the policy has seats (and its audit, when it was audited). */
  | 'CERT_TOO_MANY_SEATS'
  /** A replicate policy whose quorum is not a majority of k: no node accepts such a spec. */
  | 'CERT_BAD_POLICY'
  | 'CERT_REVEAL_WITHOUT_COMMIT'
  | 'CERT_REVEAL_MISMATCH'
  | 'CERT_BAD_CHALLENGE'
  /** An arbitration commit from a node that is not one of the dispute's arbiters (`arbitrationSeatsOf`). */
  | 'CERT_NOT_ARBITER'
  /** An arbitration of reveals that agree: there was nothing to arbitrate. */
  | 'CERT_NEEDLESS_ARBITRATION'
  /** A claimed verified or failed verdict with fewer agreeing executors than the quorum. */
  | 'CERT_BELOW_QUORUM'
  /** A claimed verdict that is not the one the evidence gives. */
  | 'CERT_VERDICT_MISMATCH'

/** What a certificate proves, as data: the verdict and the penalised, or why it proves nothing. */
export type CertificateCheck =
  | {
      kind: 'valid'
      taskId: Hex
      verdict: Verdict
      /** The quorum the verdict needed. */
      quorum: number
      /** Committers without a reveal: they withheld. */
      withheld: Address[]
    }
  | CertificateRejection

export interface CertificateRejection {
  kind: 'reject'
  code: CertificateRejectionCode
  message: string
  details: Record<string, unknown>
}

export interface CheckTaskCertificateParameters {
  certificate: TaskCertificate
  domain: ProtocolDomain
  /** The task's ranking under its epoch's snapshot (`rankTask`): executors, then backups, best first. */
  rankingOf(spec: TaskSpec, taskId: Hex): readonly Address[]
  /**
   * What the chain holds of `requester`'s anchor of `root` (`ChainView.anchorOf`): undefined if
   * nothing. Read only once the spec's signature checked, and only while the certificates before
   * it checked. A task whose id was not anchored before its draw block proves nothing.
   */
  anchorOf(requester: Address, root: Hex): AnchorRecord | undefined | Promise<AnchorRecord | undefined>
  /**
   * A dispute's arbitration seats (`arbitrationSeats`; the real draw does not depend on the
   * committers it is given): a node appears once per seat it holds and votes once per seat, and the
   * holders that did not commit are the arbiters. Needed only for certificates with an
   * arbitration; without it those are refused (`CERT_NOT_ARBITER`).
   */
  arbitrationSeatsOf?(spec: TaskSpec, taskId: Hex): readonly Address[]
  verify: SignatureVerifier
  /** Checks a sampled task's audit draw; the pure `verifyVrf` by default. */
  verifyVrf?: VrfVerifier
  /** The epoch of the batch that settles the task; unchecked when absent. */
  epoch?: bigint
  /** A verdict someone claims for the task (an aggregator's): it must be the certificate's. */
  claimed?: Verdict
  /** Result bytes by content id, for tolerance comparisons of differing results. */
  outputs?: ReadonlyMap<Hex, Uint8Array>
  /** Seals already checked, shared across the certificates of one proposal. */
  verified?: Map<BatchSeal, boolean>
}

const reject = (code: CertificateRejectionCode, message: string, details: Record<string, unknown> = {}): CertificateRejection => ({
  kind: 'reject',
  code,
  message,
  details,
})

/**
 * Checks a certificate and derives its verdict. The seat rule needs no clock:
 *
 * - `replicate { k, quorum }`: every committer is in the ranking and there are at most k. The seats
 *   are the k best-ranked committers, so a backup counts only where a better-ranked node did not
 *   commit; a certificate that leaves out such a commit is for the members who hold it to object to
 *   (batchCheck.ts).
 * - `sample` (one executor, quorum 1) and `replicate` with an `auditPpm`: the seats are spared an
 *   audit only by a challenge from their designated verifier whose audit draw does not call one
 *   (`auditOf`); otherwise one more committer (the auditor) may count and the verdict needs one more
 *   agreeing reveal, the drawn auditor's among them.
 *
 * Reveals must open their signer's commit. Reveals that disagree (`isDisputed`) decide nothing by
 * themselves: with an arbitration, a strict majority of the disputed seats and the arbiters
 * (`arbitrationSeatsOf`) together rules, and every reveal outside it dissents; without one the task is
 * unresolved. Otherwise the
 * verdict is `decideVerdict` over the reveals in rank order. Once some committer (or arbiter)
 * revealed, committers (or arbiters) without a reveal withheld.
 */
export async function checkTaskCertificate({
  certificate,
  domain,
  rankingOf,
  anchorOf,
  arbitrationSeatsOf,
  verify,
  verifyVrf,
  epoch,
  claimed,
  outputs,
  verified = new Map(),
}: CheckTaskCertificateParameters): Promise<CertificateCheck> {
  const { spec, commits, reveals, arbitration } = certificate
  const taskId = hashTaskSpec(spec.message, domain)
  if (spec.signer !== spec.message.requester || !(await verify(taskId, spec.signature, spec.signer))) {
    return reject('CERT_BAD_SPEC_SIGNATURE', 'The spec is not signed by its requester.', { taskId })
  }
  if (epoch !== undefined && spec.message.epoch !== epoch) {
    return reject('CERT_WRONG_EPOCH', `The spec names epoch ${spec.message.epoch}, not ${epoch}.`, { taskId })
  }
  const anchored = checkTaskAnchor(taskId, spec.message, spec.anchor, spec.anchor === undefined ? undefined : await anchorOf(spec.message.requester, spec.anchor.root))
  if (anchored.kind === 'reject') return reject('CERT_NOT_ANCHORED', anchored.message, { taskId, reason: anchored.code })
  const ranking = rankingOf(spec.message, taskId)
  const rank = new Map(ranking.map((node, i) => [node, i]))
  const opened = await openCommits({ taskId, domain, verify, verified, commits, reveals, seated: (node) => rank.has(node), unseated: 'CERT_UNSEATED' })
  if ('kind' in opened) return opened
  const policy = spec.message.policy
  if (policy.kind === 'replicate' && !(policy.k >= 1 && isStrictMajority(policy.k, policy.quorum))) {
    return reject('CERT_BAD_POLICY', `A quorum of ${policy.quorum} of ${policy.k} is not a majority: no node would have accepted the spec.`, { taskId })
  }
  const audit = await auditOf({ certificate, taskId, ranking, domain, verify, ...(verifyVrf === undefined ? {} : { verifyVrf }) })
  if ('kind' in audit) return audit
  const seats = executorsOf(policy) + (audit.audited ? 1 : 0)
  if (commits.length > seats) return reject('CERT_TOO_MANY_SEATS', `${commits.length} commits for ${seats} seats.`, { taskId })
  let quorum = (policy.kind === 'replicate' ? policy.quorum : 1) + (audit.audited ? 1 : 0)

  const comparison = spec.message.comparison === undefined ? {} : { comparison: spec.message.comparison }
  const inRankOrder = (revealed: ReadonlyMap<Address, Reveal>, order: ReadonlyMap<Address, number>) =>
    [...revealed].sort(([a], [b]) => order.get(a)! - order.get(b)!).map(([executor, reveal]) => ({ executor, reveal }))
  const seated = inRankOrder(opened.revealed, rank)
  const disputed = isDisputed({ reveals: seated, ...comparison, ...(outputs === undefined ? {} : { outputs }) })
  let verdict: Verdict
  if (arbitration !== undefined) {
    if (!disputed) return reject('CERT_NEEDLESS_ARBITRATION', 'The certificate arbitrates reveals that agree.', { taskId })
    const { arbiters, votes, quorum: ruling } = arbitrationVotes([...opened.committed], arbitrationSeatsOf?.(spec.message, taskId) ?? [])
    const order = new Map(arbiters.map((node, i) => [node, i]))
    const arbitrated = await openCommits({
      taskId,
      domain,
      verify,
      verified,
      commits: arbitration.commits,
      reveals: arbitration.reveals,
      seated: (node) => order.has(node),
      unseated: 'CERT_NOT_ARBITER',
    })
    if ('kind' in arbitrated) return arbitrated
    quorum = ruling
    const reveals = [...seated, ...inRankOrder(arbitrated.revealed, order)]
    const weightOf = (node: Address) => votes.get(node) ?? 0
    verdict = decideVerdict({ taskId, quorum, reveals, weightOf, ...comparison, ...(outputs === undefined ? {} : { outputs }) })
  } else if (disputed || (audit.auditor !== undefined && !opened.revealed.has(audit.auditor))) {
    // Disagreeing seats without their arbitration rule nothing, and penalise no one for it; nor do
    // seats whose drawn audit never reported.
    verdict = { taskId, outcome: 'unresolved', resultHash: zeroHash, executors: [], dissenters: [] }
  } else {
    verdict = decideVerdict({ taskId, quorum, reveals: seated, ...comparison, ...(outputs === undefined ? {} : { outputs }) })
  }
  const withheld = withheldOf(certificate)
  if (claimed !== undefined && !sameVerdict(claimed, verdict)) {
    if (claimed.outcome !== 'unresolved' && verdict.outcome === 'unresolved') {
      return reject('CERT_BELOW_QUORUM', `The claimed ${claimed.outcome} verdict has fewer than ${quorum} agreeing reveals.`, { taskId })
    }
    return reject('CERT_VERDICT_MISMATCH', 'The claimed verdict is not the one the evidence gives.', { taskId, claimed: claimed.outcome, proven: verdict.outcome })
  }
  return { kind: 'valid', taskId, verdict, quorum, withheld }
}

interface AuditParameters {
  certificate: TaskCertificate
  taskId: Hex
  ranking: readonly Address[]
  domain: ProtocolDomain
  verify: SignatureVerifier
  verifyVrf?: VrfVerifier
}

/**
 * Whether a certificate's task was audited, and by whom. A task with an audit rate was spared only
 * by a valid challenge from its designated verifier (`challengerOf`, over the commits other than
 * the verifier's own) of the best-ranked commitment, whose draw does not call an audit. A challenge
 * that calls one names the auditor: the verifier itself, whose reveal the verdict needs. Without a
 * challenge, the verifier was silent and some later node audited (its commit is among the seats).
 */
async function auditOf({ certificate, taskId, ranking, domain, verify, verifyVrf }: AuditParameters): Promise<{ audited: boolean; auditor?: Address } | CertificateRejection> {
  const { spec, commits, challenge } = certificate
  const rate = auditRateOf(spec.message.policy)
  if (rate === 0) return challenge === undefined ? { audited: false } : reject('CERT_BAD_CHALLENGE', 'The task has no audit rate: nothing to challenge.', { taskId })
  if (challenge === undefined) {
    // No node left to verify (every ranked node committed): nothing could audit. Otherwise the
    // verifier was silent and some later node audited.
    const committers = new Set(commits.map((c) => c.signer))
    return { audited: challengerOf(ranking, executorsOf(spec.message.policy), committers) < ranking.length }
  }
  const others = new Set(commits.map((c) => c.signer).filter((signer) => signer !== challenge.signer))
  const designated = ranking[challengerOf(ranking, executorsOf(spec.message.policy), others)]
  const counted = commits.map((c) => ({ executor: c.signer, commitment: c.message.commitment })).filter((c) => c.executor !== challenge.signer)
  const draw = auditDrawOf(challenge, verifyVrf)
  const valid =
    draw !== undefined &&
    challenge.signer === designated &&
    challenge.message.taskId === taskId &&
    challenge.message.commitment === challengedCommitment(ranking, counted) &&
    (await verify(hashChallenge(challenge.message, domain), challenge.signature, challenge.signer))
  if (!valid) return reject('CERT_BAD_CHALLENGE', 'The challenge is not the designated verifier’s, of the best-ranked commit, with its audit draw.', { taskId })
  return isAudited(draw, rate) ? { audited: true, auditor: challenge.signer } : { audited: false }
}

interface OpenCommitsParameters {
  taskId: Hex
  domain: ProtocolDomain
  verify: SignatureVerifier
  verified: Map<BatchSeal, boolean>
  commits: readonly Sealed<Commit>[]
  reveals: readonly Sealed<Reveal>[]
  /** Whether a signer may commit here: it holds a place in the ranking, or is an arbiter. */
  seated(node: Address): boolean
  unseated: 'CERT_UNSEATED' | 'CERT_NOT_ARBITER'
}

/** Checks one stage's commits (seated, distinct, sealed) and the reveals that open them. */
async function openCommits({
  taskId,
  domain,
  verify,
  verified,
  commits,
  reveals,
  seated,
  unseated,
}: OpenCommitsParameters): Promise<{ committed: Set<Address>; revealed: Map<Address, Reveal> } | CertificateRejection> {
  const commitments = new Map<Address, Hex>()
  for (const commit of commits) {
    const details = { taskId, signer: commit.signer }
    if (commit.message.taskId !== taskId) return reject('CERT_WRONG_TASK', 'A commit is for another task.', details)
    if (!seated(commit.signer)) {
      const message = unseated === 'CERT_UNSEATED' ? 'A committer holds no place in the task’s ranking.' : 'An arbitration commit is not from one of the dispute’s arbiters.'
      return reject(unseated, message, details)
    }
    if (commitments.has(commit.signer)) return reject('CERT_DUPLICATE_SIGNER', 'An executor is counted twice.', details)
    if (!(await isValidSealedItem(commit, 'commits', domain, verify, verified))) return reject('CERT_BAD_SEAL', 'A commit’s seal does not check.', details)
    commitments.set(commit.signer, commit.message.commitment)
  }
  const revealed = new Map<Address, Reveal>()
  for (const reveal of reveals) {
    const details = { taskId, signer: reveal.signer }
    if (reveal.message.taskId !== taskId) return reject('CERT_WRONG_TASK', 'A reveal is for another task.', details)
    const commitment = commitments.get(reveal.signer)
    if (commitment === undefined) return reject('CERT_REVEAL_WITHOUT_COMMIT', 'A reveal has no counted commit.', details)
    if (revealed.has(reveal.signer)) return reject('CERT_DUPLICATE_SIGNER', 'An executor revealed twice.', details)
    if (computeCommitment({ ...reveal.message, executor: reveal.signer }) !== commitment) {
      return reject('CERT_REVEAL_MISMATCH', 'A reveal does not open its commit.', details)
    }
    if (!(await isValidSealedItem(reveal, 'reveals', domain, verify, verified))) return reject('CERT_BAD_SEAL', 'A reveal’s seal does not check.', details)
    revealed.set(reveal.signer, reveal.message)
  }
  return { committed: new Set(commitments.keys()), revealed }
}

/**
 * The committers of a certificate that withheld: those without a reveal, once some committer
 * revealed. Withholding is provable only once the reveal phase opened, and a reveal shows it did: a
 * task that ended in its commit phase (its deadline came first, or too few could commit) penalises
 * nobody, so a requester cannot set a deadline that makes honest committers "withhold".
 */
export function withheldOf({ commits, reveals, arbitration }: Pick<TaskCertificate, 'commits' | 'reveals' | 'arbitration'>): Address[] {
  const stage = (c: readonly { signer: Address }[], r: readonly { signer: Address }[]) => {
    if (r.length === 0) return []
    const revealed = new Set(r.map((x) => x.signer))
    return c.map((x) => x.signer).filter((signer) => !revealed.has(signer))
  }
  return [...stage(commits, reveals), ...(arbitration === undefined ? [] : stage(arbitration.commits, arbitration.reveals))]
}

/**
 * A certificate with a reveal that came after its holder decided the task: a reveal that opens a
 * counted commit (of the seats or the arbitration) whose signer has none here yet, and agrees with
 * every reveal of its stage. Undefined otherwise. A late reveal is still evidence: the certificate
 * is checked without a clock, and without it the executor would count as a withholder on this node
 * while nodes that took it in time hold its reveal, so the committee would split over one node's
 * deadline. It cannot help its signer copy anyone (it opens a commit made before any reveal was
 * public), and it never turns a verdict against the evidence already there: a late dissent would
 * turn a verified task unresolved after the fact (a liar's way to void honest work without being
 * slashed), and a reveal in a stage that ended without any would make its peers withholders on one
 * node's word. An agreeing one may complete a quorum the deadline cut short: the task is verified.
 *
 * In an arbitrated certificate (exact comparison) a late reveal need not agree: a strict majority
 * of all the dispute's seats rules, a number the ranking fixes, so a dissent cannot undo a ruling
 * and an agreeing reveal can only complete one. Refusing it there split the committee for good:
 * nodes whose arbitration deadline came before the ruling reveal decided `unresolved`, held liars'
 * reveals that the others' certificates did not take, and objected to every proposal
 * (`src/sim/runSim.test.ts`, liars among churning nodes).
 */
export function withLateReveal(certificate: TaskCertificate, reveal: Sealed<Reveal>): TaskCertificate | undefined {
  const { signer, message } = reveal
  const ruledByMajority = certificate.arbitration !== undefined && (certificate.spec.message.comparison?.kind ?? 'exact') === 'exact'
  const agrees = (r: Sealed<Reveal>) => ruledByMajority || (r.message.status === message.status && r.message.resultHash === message.resultHash)
  const opens = (stage: { commits: readonly Sealed<Commit>[]; reveals: readonly Sealed<Reveal>[] }): boolean => {
    const commit = stage.commits.find((c) => c.signer === signer)
    return (
      commit !== undefined &&
      stage.reveals.length > 0 &&
      stage.reveals.every((r) => r.signer !== signer && agrees(r)) &&
      message.taskId === commit.message.taskId &&
      computeCommitment({ ...message, executor: signer }) === commit.message.commitment
    )
  }
  if (opens(certificate)) return { ...certificate, reveals: [...certificate.reveals, reveal] }
  const { arbitration } = certificate
  if (arbitration !== undefined && opens(arbitration)) return { ...certificate, arbitration: { ...arbitration, reveals: [...arbitration.reveals, reveal] } }
  return undefined
}

/**
 * What `base` becomes with what `other`, another holder's certificate of the same task, adds that
 * cannot turn against the evidence already in `base`. It never drops an item of `base`, and takes:
 *
 * - reveals that open a counted commit and agree with their stage (`withLateReveal`);
 * - a stage's reveals where `base` holds none (its verdict unresolved, penalising nobody), if they
 *   open every commit it counts there: nobody becomes a withholder on one holder's word;
 * - a commit with its agreeing reveal, in a seat `base` left free;
 * - an arbiter's commit with the reveal that opens it, in the arbitration `base` holds (with
 *   `arbitrationSeats`, also one `other` counts among its seats, where its signer is an arbiter here);
 * - a challenge `base` lacks, with its auditor's commit and agreeing reveal;
 * - the arbitration of a dispute `base` holds without one, if every arbiter in it revealed.
 *
 * It never replaces a seat (a backup's commit here by another's there): which certificate's seats
 * count is the aggregator's choice by rank (`EvidencePool`). A dissent that `base` lacks is not
 * taken: from a late or selective sender it would void a verified task (its requester paying
 * nothing for results it holds, its liar unpunished). This is what an objecting member's evidence
 * (`BatchEvidence`) adds to the next round's proposal. The result is not checked: check it
 * (`checkTaskCertificate`), and keep `base` if it proves nothing or leaves unresolved a task `base`
 * decides (`certifyTasks`). A challenge that names another best-ranked commit than the merged seats
 * proves nothing: without `challenge`, none is taken.
 */
export function mergeCertificates(base: TaskCertificate, other: TaskCertificate, { challenge = true, arbitrationSeats }: MergeOptions = {}): TaskCertificate {
  let merged = base
  // An arbitration `base` lacks, whole and only if every arbiter in it revealed: a partial one would
  // make the silent arbiters withholders on its holder's word.
  const complete = other.arbitration !== undefined && other.arbitration.commits.every((c) => other.arbitration!.reveals.some((r) => r.signer === c.signer))
  if (merged.arbitration === undefined && complete) merged = { ...merged, arbitration: other.arbitration! }
  // A stage without a reveal here (its task ended unresolved, penalising nobody) takes the other's
  // reveals only if they open every commit it counts: nobody becomes a withholder on one holder's word.
  const seatReveals = silentStageReveals(merged, other)
  if (seatReveals !== undefined) merged = { ...merged, reveals: seatReveals }
  const arbiterReveals = merged.arbitration === undefined ? undefined : silentStageReveals(merged.arbitration, other.arbitration)
  if (arbiterReveals !== undefined) merged = { ...merged, arbitration: { commits: merged.arbitration!.commits, reveals: arbiterReveals } }
  // A commit in a free seat, with the agreeing reveal that opens it.
  const seats = executorsOf(base.spec.message.policy)
  const widen = (stage: 'seats' | 'arbitration', commit: Sealed<Commit>, reveal: Sealed<Reveal> | undefined): void => {
    if (reveal === undefined) return
    const widened =
      stage === 'seats'
        ? { ...merged, commits: [...merged.commits, commit] }
        : { ...merged, arbitration: { commits: [...merged.arbitration!.commits, commit], reveals: merged.arbitration!.reveals } }
    merged = withLateReveal(widened, reveal) ?? merged
  }
  // An audit-calling challenge `base` lacks, with the auditor's commit and agreeing reveal.
  if (challenge && merged.challenge === undefined && other.challenge !== undefined) {
    const auditor = other.challenge.signer
    merged = { ...merged, challenge: other.challenge }
    const commit = other.commits.find((c) => c.signer === auditor)
    if (commit !== undefined && !merged.commits.some((c) => c.signer === auditor)) widen('seats', commit, other.reveals.find((r) => r.signer === auditor))
  }
  for (const commit of other.commits) {
    if (merged.commits.length >= seats || merged.commits.some((c) => c.signer === commit.signer)) continue
    widen('seats', commit, other.reveals.find((r) => r.signer === commit.signer))
  }
  // An arbiter's commit, with the reveal that opens it. Given the arbiters of the merged seats, a
  // commit `other` counts among its seats is one too where its signer is an arbiter here: a
  // node's commit is its sealed answer to the task, whatever place it was made for.
  const arbiters = merged.arbitration === undefined || arbitrationSeats === undefined ? undefined : new Set(arbitrationSeats().filter((node) => !merged.commits.some((c) => c.signer === node)))
  const counted = (node: Address) => merged.commits.some((c) => c.signer === node) || merged.arbitration!.commits.some((c) => c.signer === node)
  for (const commit of arbiters === undefined ? (other.arbitration?.commits ?? []) : [...other.commits, ...(other.arbitration?.commits ?? [])]) {
    if (merged.arbitration === undefined || counted(commit.signer) || (arbiters !== undefined && !arbiters.has(commit.signer))) continue
    widen('arbitration', commit, [...other.reveals, ...(other.arbitration?.reveals ?? [])].find((r) => r.signer === commit.signer))
  }
  for (const reveal of [...other.reveals, ...(other.arbitration?.reveals ?? [])]) merged = withLateReveal(merged, reveal) ?? merged
  return merged
}

export interface MergeOptions {
  /** Whether to take a challenge `base` lacks (default true). */
  challenge?: boolean
  /** The dispute's arbitration seats (`CheckTaskCertificateParameters.arbitrationSeatsOf`, bound to the task): their holders that did not commit are its arbiters. */
  arbitrationSeats?(): readonly Address[]
}

/** `from`'s reveals of a stage that has none, if they open every commit it counts; undefined otherwise. */
function silentStageReveals(stage: Stage, from: Stage | undefined): Sealed<Reveal>[] | undefined {
  if (from === undefined || stage.reveals.length > 0 || stage.commits.length === 0) return undefined
  const opening = stage.commits.map((c) => from.reveals.find((r) => r.signer === c.signer && computeCommitment({ ...r.message, executor: r.signer }) === c.message.commitment))
  return opening.every((r) => r !== undefined) ? (opening as Sealed<Reveal>[]) : undefined
}

type Stage = { commits: readonly Sealed<Commit>[]; reveals: readonly Sealed<Reveal>[] }

export function sameVerdict(a: Verdict, b: Verdict): boolean {
  const same = (x: readonly Address[], y: readonly Address[]) => x.length === y.length && x.every((v, i) => v === y[i])
  return a.taskId === b.taskId && a.outcome === b.outcome && a.resultHash === b.resultHash && same(a.executors, b.executors) && same(a.dissenters, b.dissenters)
}
