import { writeHex } from './hexBytes.ts'
import { keccak256Hex } from './keccak.ts'
import { log2Fixed, LOG2_FRACTION_BITS } from './log2.ts'
import type { Address, Hex } from './types.ts'

/** A node that may be assigned work, with its sortition weight (its stake at the epoch snapshot). */
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
  const keyed: Keyed[] = []
  let tolerance = 0
  for (const c of candidates) {
    if (c.weight <= 0n) continue
    writeHex(packed, 64, c.address, 20, 'address')
    const h = BigInt(keccak256Hex(packed))
    // The key in floating point: exact enough to order all but near-ties (see below).
    const exponent = 256 - Math.log2(Number(h + 1n))
    const weight = Number(c.weight)
    const approx = exponent / weight
    tolerance = Math.max(tolerance, (APPROX_ERROR * (1 + exponent)) / weight)
    keyed.push({ address: c.address, weight: c.weight, h, approx, exponent: undefined })
  }
  const wanted = count === undefined ? keyed.length : Math.min(count, keyed.length)
  if (!Number.isFinite(tolerance)) {
    // Weights beyond floating point's range: rank everyone exactly.
    keyed.sort(compareExactly)
    return keyed.slice(0, wanted).map((k) => k.address)
  }
  // Keys further apart than twice the largest error bound are ordered correctly by their floating
  // point values. Runs of keys closer than that are ordered exactly, with the fixed-point log2 and
  // cross-multiplied weights; in practice that is almost never needed, so log2Fixed (64 bigint
  // squarings) runs for near-ties only instead of for every candidate.
  keyed.sort((a, b) => a.approx - b.approx)
  for (let start = 0; start < wanted; ) {
    let end = start + 1
    while (end < keyed.length && (keyed[end] as Keyed).approx - (keyed[end - 1] as Keyed).approx <= 2 * tolerance) end++
    if (end - start > 1) {
      const run = keyed.slice(start, end).sort(compareExactly)
      for (let i = 0; i < run.length; i++) keyed[start + i] = run[i] as Keyed
    }
    start = end
  }
  return keyed.slice(0, wanted).map((k) => k.address)
}

interface Keyed {
  address: Address
  weight: bigint
  h: bigint
  approx: number
  /** 2^64 · (256 − log2(h + 1)), computed when needed. */
  exponent: bigint | undefined
}

/**
 * Bound on the absolute error of `256 − Math.log2(Number(h + 1n))` relative to the exact value, with
 * a wide margin: converting h rounds by 2^-53 relatively (2^-53 / ln 2 in the log), Math.log2 of a
 * value below 256 is within an ulp or two (2^-45 each), and log2Fixed is within 2^-60 of the truth.
 */
const APPROX_ERROR = 1e-12

function exactExponent(k: Keyed): bigint {
  k.exponent ??= MAX_LOG2 - log2Fixed(k.h + 1n)
  return k.exponent
}

/** exponent_a / weight_a vs exponent_b / weight_b, cross-multiplied; ties to the lower address. */
function compareExactly(a: Keyed, b: Keyed): number {
  const lhs = exactExponent(a) * b.weight
  const rhs = exactExponent(b) * a.weight
  if (lhs !== rhs) return lhs < rhs ? -1 : 1
  const x = a.address.toLowerCase()
  const y = b.address.toLowerCase()
  return x < y ? -1 : x > y ? 1 : 0
}
