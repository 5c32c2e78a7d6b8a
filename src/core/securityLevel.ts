import { SpecRejectedError } from './errors.ts'
import type { ReplicatePolicy } from './types.ts'

/**
 * The smallest probability a wrong result is verified that a policy can promise: below it, the
 * arbitration's own tail (a coalition of a third of the stake wins a dispute with probability
 * below 10⁻⁶ at the default `arbiters`, docs/economics.md) dominates whatever k and audit rate buy.
 */
export const MIN_SECURITY_LEVEL = 1e-6

export interface PolicyForSecurityLevelParameters {
  /** The probability the requester accepts that a wrong result is verified, in [10⁻⁶, 1). */
  level: number
  /** The adversary's share of the eligible stake the level holds against; a third by default. */
  adversaryShare?: number
  /** The largest k nodes accept (`ProtocolParams.maxK`). */
  maxK: number
}

/**
 * The probability that a coalition holding a share `f` of a large network's stake gets a wrong
 * result verified under `replicate { k, auditPpm: p }` by lying only where it holds every seat:
 * it holds them all with probability f^k, and then escapes the audit when its own member is the
 * verifier (f) or an honest verifier's draw spares it (1 − p).
 */
export function wrongResultProbability(k: number, auditRate: number, f: number): number {
  return f ** k * (f + (1 - f) * (1 - auditRate))
}

/**
 * The cheapest replicated policy (fewest expected executions, k + p) whose wrong-result
 * probability against `adversaryShare` is at most `level`: for each k the audit rate that just
 * meets the level, rounded up to a whole ppm. A requester's own choice, so floats are fine here;
 * nodes only check the resulting integers.
 */
export function policyForSecurityLevel({ level, adversaryShare = 1 / 3, maxK }: PolicyForSecurityLevelParameters): ReplicatePolicy {
  const f = adversaryShare
  if (!(level >= MIN_SECURITY_LEVEL && level < 1) || !(f > 0 && f < 0.5)) {
    throw new SpecRejectedError('SPEC_INVALID_POLICY', `No policy holds a level of ${level} against ${f} of the stake.`, {
      details: { level, adversaryShare: f },
      hint: `Ask for a level from ${MIN_SECURITY_LEVEL} up to (not including) 1, against less than half of the stake.`,
    })
  }
  let best: { k: number; auditPpm: number; cost: number } | undefined
  for (let k = 1; k <= maxK; k++) {
    // f^k (f + (1 − f)(1 − p)) ≤ level  ⇔  p ≥ 1 − (level / f^k − f) / (1 − f)
    const needed = 1 - (level / f ** k - f) / (1 - f)
    if (needed > 1) continue
    const auditPpm = Math.min(1_000_000, Math.max(0, Math.ceil(needed * 1_000_000)))
    const cost = k + auditPpm / 1_000_000
    if (best === undefined || cost < best.cost) best = { k, auditPpm, cost }
  }
  if (best === undefined) {
    throw new SpecRejectedError('SPEC_INVALID_POLICY', `No k up to ${maxK} holds a level of ${level} against ${f} of the stake.`, {
      details: { level, adversaryShare: f, maxK },
      hint: 'Accept a higher level, or ask the network for a larger maxK.',
    })
  }
  return { kind: 'replicate', k: best.k, quorum: Math.floor(best.k / 2) + 1, auditPpm: best.auditPpm }
}
