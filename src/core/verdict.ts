import { zeroHash } from 'viem'
import { hashVerdict } from './eip712.ts'
import { isSignedBy, signDigest } from './signing.ts'
import type { SignatureVerifier, Signer } from './signing.ts'
import type { Address, Hex, ProtocolDomain, Reveal, Signed, Verdict } from './types.ts'

export interface DecideVerdictParameters {
  taskId: Hex
  quorum: number
  /** Accepted reveals with their executor, in rank order of the executors. */
  reveals: ReadonlyArray<{ executor: Address; reveal: Reveal }>
}

/**
 * The verdict of a deterministic task: reveals are grouped by (status, resultHash) and a group of
 * at least `quorum` wins. Quorum is a strict majority of k, so at most one group can win.
 * A winning `ok` result is `verified`; a winning deterministic failure is `failed`;
 * no winner is `unresolved`.
 */
export function decideVerdict({ taskId, quorum, reveals }: DecideVerdictParameters): Verdict {
  const groups = new Map<string, Address[]>()
  for (const { executor, reveal } of reveals) {
    const key = `${reveal.status}:${reveal.resultHash}`
    const group = groups.get(key)
    if (group === undefined) groups.set(key, [executor])
    else group.push(executor)
  }
  for (const [key, executors] of groups) {
    if (executors.length < quorum) continue
    const [status, resultHash] = key.split(':') as ['ok' | 'failed', Hex]
    const winners = new Set(executors)
    return {
      taskId,
      outcome: status === 'ok' ? 'verified' : 'failed',
      resultHash,
      executors,
      dissenters: reveals.map((r) => r.executor).filter((e) => !winners.has(e)),
    }
  }
  return { taskId, outcome: 'unresolved', resultHash: zeroHash, executors: [], dissenters: [] }
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
