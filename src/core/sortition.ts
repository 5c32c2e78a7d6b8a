import { writeHex } from './hexBytes.ts'
import { keccak256Hex } from './keccak.ts'
import { log2Fixed, LOG2_FRACTION_BITS } from './log2.ts'
import type { Address, Hex } from './types.ts'

/** A node that may be assigned work, with its sortition weight (stake, scaled by reputation). */
export interface Candidate {
  address: Address
  weight: bigint
}

export interface RankCandidatesParameters {
  /** Public randomness of the epoch (from the chain at the epoch boundary). */
  seed: Hex
  taskId: Hex
  candidates: readonly Candidate[]
  /** How many to return; all when omitted. */
  count?: number
}

const MAX_LOG2 = 256n << LOG2_FRACTION_BITS

/**
 * Stake-weighted sortition without a scheduler (Efraimidis–Spirakis): each candidate draws
 * u = (h + 1) / 2^256 from h = keccak256(seed ‖ taskId ‖ address) and gets the key −ln(u) / weight;
 * candidates are ranked by ascending key. The first is picked with probability weight / Σ weight,
 * and so on without replacement. Keys are compared exactly as rationals in integer arithmetic
 * (−ln u ∝ 256 − log2(h + 1)), so every node computes the same order. Ties go to the lower address.
 */
export function rankCandidates({ seed, taskId, candidates, count }: RankCandidatesParameters): Address[] {
  // encodePacked(bytes32 seed, bytes32 taskId, address): the first 64 bytes are the same for all.
  const packed = new Uint8Array(84)
  writeHex(packed, 0, seed, 32, 'seed')
  writeHex(packed, 32, taskId, 32, 'taskId')
  const keyed = candidates
    .filter((c) => c.weight > 0n)
    .map((c) => {
      writeHex(packed, 64, c.address, 20, 'address')
      const h = BigInt(keccak256Hex(packed))
      return { address: c.address, weight: c.weight, exponent: MAX_LOG2 - log2Fixed(h + 1n) }
    })
  keyed.sort((a, b) => {
    // exponent_a / weight_a vs exponent_b / weight_b, cross-multiplied.
    const lhs = a.exponent * b.weight
    const rhs = b.exponent * a.weight
    if (lhs !== rhs) return lhs < rhs ? -1 : 1
    const x = a.address.toLowerCase()
    const y = b.address.toLowerCase()
    return x < y ? -1 : x > y ? 1 : 0
  })
  const ranked = keyed.map((k) => k.address)
  return count === undefined ? ranked : ranked.slice(0, count)
}
