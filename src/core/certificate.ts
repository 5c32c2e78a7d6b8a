import { isAudited } from './challenge.ts'
import { computeCommitment } from './commit.ts'
import { hashChallenge, hashTaskSpec } from './eip712.ts'
import { isValidSealedItem } from './seal.ts'
import type { BatchSeal, Sealed } from './seal.ts'
import type { SignatureVerifier } from './signing.ts'
import { ARBITRATION_QUORUM, seatsOf } from './task.ts'
import { isStrictMajority } from './taskSpec.ts'
import type { Address, Challenge, Commit, Hex, ProtocolDomain, Reveal, Signed, TaskSpec, Verdict } from './types.ts'
import { decideVerdict } from './verdict.ts'

/**
 * The evidence of one task's verdict, checkable by anyone from it and the chain alone (the epoch's
 * seed and stake snapshot give the task's ranking): the requester's signed spec, each counted
 * executor's sealed commit and the sealed reveals that open them, and for a sampled task the
 * verifier's signed challenge. It carries no verdict: the verdict follows from it
 * (`checkTaskCertificate`), so nobody can claim another.
 */
export interface TaskCertificate {
  spec: Signed<TaskSpec>
  /** The counted commits, one per executor. */
  commits: readonly Sealed<Commit>[]
  /** Reveals that open counted commits, at most one per executor. A committer without one withheld. */
  reveals: readonly Sealed<Reveal>[]
  /** A sampled task's challenge from its designated verifier, when one was signed. */
  challenge?: Signed<Challenge>
}

export type CertificateRejectionCode =
  | 'CERT_BAD_SPEC_SIGNATURE'
  /** The spec names another epoch than the batch that settles it. */
  | 'CERT_WRONG_EPOCH'
  | 'CERT_BAD_SEAL'
  | 'CERT_WRONG_TASK'
  /** A signer the task's ranking does not hold: an unstaked key, or one not drawn for this task. */
  | 'CERT_UNSEATED'
  | 'CERT_DUPLICATE_SIGNER'
  /** More commits than the policy has seats. */
  | 'CERT_TOO_MANY_SEATS'
  /** A replicate policy whose quorum is not a majority of k: no node accepts such a spec. */
  | 'CERT_BAD_POLICY'
  | 'CERT_REVEAL_WITHOUT_COMMIT'
  | 'CERT_REVEAL_MISMATCH'
  | 'CERT_BAD_CHALLENGE'
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
  | { kind: 'reject'; code: CertificateRejectionCode; message: string; details: Record<string, unknown> }

export interface CheckTaskCertificateParameters {
  certificate: TaskCertificate
  domain: ProtocolDomain
  /** The task's ranking under its epoch's snapshot (`rankTask`): executors, then backups, best first. */
  rankingOf(spec: TaskSpec, taskId: Hex): readonly Address[]
  verify: SignatureVerifier
  /** The epoch of the batch that settles the task; unchecked when absent. */
  epoch?: bigint
  /** A verdict someone claims for the task (an aggregator's): it must be the certificate's. */
  claimed?: Verdict
  /** Result bytes by content id, for tolerance comparisons of differing results. */
  outputs?: ReadonlyMap<Hex, Uint8Array>
  /** Seals already checked, shared across the certificates of one proposal. */
  verified?: Map<BatchSeal, boolean>
}

const reject = (code: CertificateRejectionCode, message: string, details: Record<string, unknown> = {}): CertificateCheck => ({
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
 * - `sample`: the executor and up to `1 + ARBITERS` more. One committer is verified alone only with
 *   a challenge from its designated verifier, the node ranked right after it, that does not call an
 *   audit (`isAudited`); two (an audit) must agree; more (an arbitration of `2 + ARBITERS` seats)
 *   need a majority of those seats.
 *
 * Reveals must open their signer's commit. The verdict is `decideVerdict` over the reveals in rank
 * order; once some committer revealed, committers without a reveal withheld.
 */
export async function checkTaskCertificate({
  certificate,
  domain,
  rankingOf,
  verify,
  epoch,
  claimed,
  outputs,
  verified = new Map(),
}: CheckTaskCertificateParameters): Promise<CertificateCheck> {
  const { spec, commits, reveals, challenge } = certificate
  const taskId = hashTaskSpec(spec.message, domain)
  if (spec.signer !== spec.message.requester || !(await verify(taskId, spec.signature, spec.signer))) {
    return reject('CERT_BAD_SPEC_SIGNATURE', 'The spec is not signed by its requester.', { taskId })
  }
  if (epoch !== undefined && spec.message.epoch !== epoch) {
    return reject('CERT_WRONG_EPOCH', `The spec names epoch ${spec.message.epoch}, not ${epoch}.`, { taskId })
  }
  const ranking = rankingOf(spec.message, taskId)
  const rank = new Map(ranking.map((node, i) => [node, i]))
  const commitments = new Map<Address, Hex>()
  for (const commit of commits) {
    const details = { taskId, signer: commit.signer }
    if (commit.message.taskId !== taskId) return reject('CERT_WRONG_TASK', 'A commit is for another task.', details)
    if (!rank.has(commit.signer)) return reject('CERT_UNSEATED', 'A committer holds no place in the task’s ranking.', details)
    if (commitments.has(commit.signer)) return reject('CERT_DUPLICATE_SIGNER', 'An executor is counted twice.', details)
    if (!(await isValidSealedItem(commit, 'commits', domain, verify, verified))) return reject('CERT_BAD_SEAL', 'A commit’s seal does not check.', details)
    commitments.set(commit.signer, commit.message.commitment)
  }
  const policy = spec.message.policy
  if (policy.kind === 'replicate' && !(policy.k >= 1 && isStrictMajority(policy.k, policy.quorum))) {
    return reject('CERT_BAD_POLICY', `A quorum of ${policy.quorum} of ${policy.k} is not a majority: no node would have accepted the spec.`, { taskId })
  }
  const seats = seatsOf(policy)
  if (commits.length > seats) return reject('CERT_TOO_MANY_SEATS', `${commits.length} commits for ${seats} seats.`, { taskId })

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

  let quorum: number
  if (policy.kind === 'replicate') {
    quorum = policy.quorum
  } else if (commits.length <= 1) {
    const executor = commits[0]
    const designated = executor === undefined ? undefined : ranking[rank.get(executor.signer)! + 1]
    const unaudited =
      challenge !== undefined &&
      executor !== undefined &&
      challenge.signer === designated &&
      challenge.message.taskId === taskId &&
      challenge.message.commitment === executor.message.commitment &&
      !isAudited(challenge.signature, policy.ratePpm) &&
      (await verify(hashChallenge(challenge.message, domain), challenge.signature, challenge.signer))
    if (challenge !== undefined && !unaudited && !isAudited(challenge.signature, policy.ratePpm)) {
      return reject('CERT_BAD_CHALLENGE', 'The challenge is not the designated verifier’s, of the executor’s commit.', { taskId })
    }
    // Without a challenge that spares it, a lone commit awaited an audit that never came.
    quorum = unaudited ? 1 : 2
  } else {
    quorum = commits.length === 2 ? 2 : ARBITRATION_QUORUM
  }

  const byRank = [...revealed].sort(([a], [b]) => rank.get(a)! - rank.get(b)!)
  const verdict = decideVerdict({
    taskId,
    quorum,
    reveals: byRank.map(([executor, reveal]) => ({ executor, reveal })),
    ...(spec.message.comparison === undefined ? {} : { comparison: spec.message.comparison }),
    ...(outputs === undefined ? {} : { outputs }),
  })
  const withheld = withheldOf(certificate)
  if (claimed !== undefined && !sameVerdict(claimed, verdict)) {
    if (claimed.outcome !== 'unresolved' && verdict.outcome === 'unresolved') {
      return reject('CERT_BELOW_QUORUM', `The claimed ${claimed.outcome} verdict has fewer than ${quorum} agreeing reveals.`, { taskId })
    }
    return reject('CERT_VERDICT_MISMATCH', 'The claimed verdict is not the one the evidence gives.', { taskId, claimed: claimed.outcome, proven: verdict.outcome })
  }
  return { kind: 'valid', taskId, verdict, quorum, withheld }
}

/**
 * The committers of a certificate that withheld: those without a reveal, once some committer
 * revealed. Withholding is provable only once the reveal phase opened, and a reveal shows it did: a
 * task that ended in its commit phase (its deadline came first, or too few could commit) penalises
 * nobody, so a requester cannot set a deadline that makes honest committers "withhold".
 */
export function withheldOf({ commits, reveals }: Pick<TaskCertificate, 'commits' | 'reveals'>): Address[] {
  if (reveals.length === 0) return []
  const revealed = new Set(reveals.map((r) => r.signer))
  return commits.map((c) => c.signer).filter((signer) => !revealed.has(signer))
}

export function sameVerdict(a: Verdict, b: Verdict): boolean {
  const same = (x: readonly Address[], y: readonly Address[]) => x.length === y.length && x.every((v, i) => v === y[i])
  return a.taskId === b.taskId && a.outcome === b.outcome && a.resultHash === b.resultHash && same(a.executors, b.executors) && same(a.dissenters, b.dissenters)
}
