import { zeroHash } from 'viem'
import { findAgreement } from './comparison.ts'
import { hashVerdict } from './eip712.ts'
import { isSignedBy, signDigest } from './signing.ts'
import type { SignatureVerifier, Signer } from './signing.ts'
import type { Address, Comparison, Hex, ProtocolDomain, Reveal, Signed, Verdict } from './types.ts'

export interface DecideVerdictParameters {
  taskId: Hex
  quorum: number
  /** Accepted reveals with their executor, in rank order of the executors. */
  reveals: ReadonlyArray<{ executor: Address; reveal: Reveal }>
  /** The spec's comparison; `exact` when absent. */
  comparison?: Comparison
  /** Result bytes by content id, for tolerance comparisons (see `resultsToCompare`). */
  outputs?: ReadonlyMap<Hex, Uint8Array>
  /** Each executor's votes toward `quorum` (an arbiter's arbitration seats); one each when absent. */
  weightOf?: (executor: Address) => number
}

/**
 * The verdict of a task: reveals are clustered under the spec's comparison (`findAgreement`; for
 * `exact`, grouped by (status, resultHash)) and a cluster of at least `quorum` wins. Quorum is a
 * strict majority of k, so with `exact` at most one group can win. A winning `ok` result is
 * `verified`; a winning deterministic failure is `failed`; no winner is `unresolved`. Reveals
 * outside the winning cluster are dissenters.
 */
export function decideVerdict({ taskId, quorum, reveals, comparison, outputs, weightOf }: DecideVerdictParameters): Verdict {
  const agreement = findAgreement({
    comparison,
    quorum,
    ...(weightOf === undefined ? {} : { weightOf }),
    reveals: reveals.map(({ executor, reveal }) => ({ executor, status: reveal.status, resultHash: reveal.resultHash })),
    ...(outputs === undefined ? {} : { outputs }),
  })
  if (agreement === null) return { taskId, outcome: 'unresolved', resultHash: zeroHash, executors: [], dissenters: [] }
  const winners = new Set(agreement.members)
  return {
    taskId,
    outcome: agreement.status === 'ok' ? 'verified' : 'failed',
    resultHash: agreement.resultHash,
    executors: agreement.members,
    dissenters: reveals.map((r) => r.executor).filter((e) => !winners.has(e)),
  }
}

/**
 * Whether the reveals of a task's seats disagree: at least two, not all in one agreeing cluster.
 * Such a task is not decided by its seats' majority but goes to arbitration (`TaskState.arbitration`),
 * since a coalition that knows its seats lies exactly where it holds the majority.
 */
export function isDisputed({ reveals, comparison, outputs }: Omit<DecideVerdictParameters, 'taskId' | 'quorum' | 'weightOf'>): boolean {
  if (reveals.length < 2) return false
  const all = findAgreement({
    comparison,
    quorum: reveals.length,
    reveals: reveals.map(({ executor, reveal }) => ({ executor, status: reveal.status, resultHash: reveal.resultHash })),
    ...(outputs === undefined ? {} : { outputs }),
  })
  return all === null
}

/** A node's signed statement of a verdict, handed to requesters as an attestation. */
export function signVerdict(signer: Signer, verdict: Verdict, domain: ProtocolDomain): Promise<Signed<Verdict>> {
  return signDigest(signer, verdict, hashVerdict(verdict, domain))
}

export async function isValidVerdictSignature(
  signed: Signed<Verdict>,
  domain: ProtocolDomain,
  verify: SignatureVerifier = isSignedBy,
): Promise<boolean> {
  return verify(hashVerdict(signed.message, domain), signed.signature, signed.signer)
}
