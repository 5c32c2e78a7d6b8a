import { isContentOf } from './contentId.ts'
import { SpecRejectedError } from './errors.ts'
import { decodeTensor } from './tensor.ts'
import type { Tensor } from './tensor.ts'
import type { Address, Comparison, Hex, ResultStatus } from './types.ts'

/**
 * How the reveals of a task are compared, declared in the signed spec. Every number is an integer:
 * nodes must agree on the rule itself bit for bit.
 *
 * - `exact`: results agree only when their bytes (their content ids) are equal. Deterministic
 *   runtimes (WebAssembly) use it; it is the default.
 * - `maxError`: both results are tensors (src/core/tensor.ts) of the same dimensions, and for every
 *   element pair `|a − b| ≤ absMicro·10⁻⁶ + relPpm·10⁻⁶·max(|a|, |b|)`. A NaN agrees with nothing, an
 *   infinity only with the same infinity.
 * - `topK`: both results are tensors of the same dimensions, and for every row (the last axis holds
 *   the classes) the sets of the `k` highest-scoring classes are equal (ties go to the lower index).
 *
 * See docs/inference.md for why a tolerance cannot be used to pass off a different answer.
 */
export type { Comparison }

export const exactComparison: Comparison = { kind: 'exact' }

/** Bounds on the comparison parameters (they also fit the EIP-712 field widths). */
export const MAX_ABS_MICRO = 1_000_000_000
export const MAX_REL_PPM = 1_000_000
export const MAX_TOP_K = 0xffff

/** Throws `SPEC_INVALID_POLICY` unless the comparison is well formed. */
export function assertValidComparison(comparison: Comparison): void {
  const fail = (message: string) =>
    new SpecRejectedError('SPEC_INVALID_POLICY', message, {
      details: { comparison },
      hint: `Use { kind: 'exact' }, { kind: 'maxError', absMicro: 0..${MAX_ABS_MICRO}, relPpm: 0..${MAX_REL_PPM} } or { kind: 'topK', k: 1..${MAX_TOP_K} }.`,
    })
  const isIn = (v: number, max: number) => Number.isInteger(v) && v >= 0 && v <= max
  switch (comparison.kind) {
    case 'exact':
      return
    case 'maxError':
      if (!isIn(comparison.absMicro, MAX_ABS_MICRO) || !isIn(comparison.relPpm, MAX_REL_PPM)) {
        throw fail('A maxError comparison needs integer absMicro and relPpm within their bounds.')
      }
      return
    case 'topK':
      if (!isIn(comparison.k, MAX_TOP_K) || comparison.k < 1) throw fail('A topK comparison needs an integer k of at least 1.')
      return
    default:
      throw fail(`Unknown comparison kind "${(comparison as { kind: unknown }).kind}".`)
  }
}

export function isExactComparison(comparison: Comparison | undefined): boolean {
  return comparison === undefined || comparison.kind === 'exact'
}

/**
 * Whether two element values agree under `maxError`. ECMAScript pins binary64 arithmetic with
 * round-to-nearest and no fused operations, so every node computes the same boolean, even at the
 * very edge of the tolerance.
 */
export function isWithinError(a: number, b: number, absMicro: number, relPpm: number): boolean {
  if (a === b) return true // also equal infinities
  // A NaN agrees with nothing, and an infinity only with the same infinity.
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false
  const diff = Math.abs(a - b)
  const scale = Math.max(Math.abs(a), Math.abs(b))
  return diff * 1_000_000 <= absMicro + relPpm * scale
}

/** Indices of the `k` highest values of `row`, as a sorted list; NaN ranks below everything. */
export function topIndices(row: ArrayLike<number>, k: number): number[] {
  const key = (i: number) => (Number.isNaN(row[i]!) ? -Infinity : row[i]!)
  const order = Array.from({ length: row.length }, (_, i) => i).sort((x, y) => key(y) - key(x) || x - y)
  return order.slice(0, Math.min(k, row.length)).sort((x, y) => x - y)
}

function sameDims(a: Tensor, b: Tensor): boolean {
  return a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i])
}

/** Whether two decoded tensors agree under a (non-exact) comparison. */
export function tensorsAgree(comparison: Comparison, a: Tensor, b: Tensor): boolean {
  if (!sameDims(a, b)) return false
  switch (comparison.kind) {
    case 'exact':
      return a.data.every((v, i) => Object.is(v, b.data[i]))
    case 'maxError': {
      const { absMicro, relPpm } = comparison
      for (let i = 0; i < a.data.length; i++) if (!isWithinError(a.data[i]!, b.data[i]!, absMicro, relPpm)) return false
      return true
    }
    case 'topK': {
      const width = a.dims[a.dims.length - 1]!
      for (let start = 0; start < a.data.length; start += width) {
        const x = topIndices(a.data.subarray(start, start + width), comparison.k)
        const y = topIndices(b.data.subarray(start, start + width), comparison.k)
        if (x.some((v, i) => v !== y[i])) return false
      }
      return true
    }
  }
}

function tryDecode(bytes: Uint8Array): Tensor | null {
  try {
    return decodeTensor(bytes)
  } catch {
    return null
  }
}

/**
 * Whether two result blobs agree under `comparison`. Equal bytes always agree; otherwise, under
 * `exact` they never do, and under the tolerance kinds both must be well-formed tensors.
 */
export function outputsAgree(comparison: Comparison, a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength === b.byteLength && a.every((v, i) => v === b[i])) return true
  if (comparison.kind === 'exact') return false
  const x = tryDecode(a)
  const y = tryDecode(b)
  return x !== null && y !== null && tensorsAgree(comparison, x, y)
}

/** One accepted reveal as the comparison sees it. */
export interface RevealedResult {
  executor: Address
  status: ResultStatus
  resultHash: Hex
}

/**
 * The distinct `ok` result hashes whose bytes the deciding nodes must fetch before a verdict:
 * none under `exact`, and none while all `ok` reveals carry the same hash.
 */
export function resultsToCompare(comparison: Comparison | undefined, reveals: readonly RevealedResult[]): Hex[] {
  if (isExactComparison(comparison)) return []
  const hashes = [...new Set(reveals.filter((r) => r.status === 'ok').map((r) => r.resultHash))]
  return hashes.length > 1 ? hashes : []
}

export interface Agreement {
  status: ResultStatus
  /** The canonical result: a result some member revealed itself. */
  resultHash: Hex
  /** Executors whose reveal agrees with the canonical result, in the order of `reveals`. */
  members: Address[]
}

export interface FindAgreementParameters {
  comparison: Comparison | undefined
  quorum: number
  /** Accepted reveals in rank order of their executors. */
  reveals: readonly RevealedResult[]
  /**
   * Result bytes by content id, for the hashes `resultsToCompare` names. A missing or mismatching
   * blob agrees only with reveals of the very same hash.
   */
  outputs?: ReadonlyMap<Hex, Uint8Array>
  /** Each executor's votes toward `quorum` (an arbiter's arbitration seats); one each by default. */
  weightOf?: (executor: Address) => number
}

/**
 * Clusters reveals under the comparison and returns the winning cluster, or null without one.
 *
 * Failures group by hash (a failure reason is deterministic). Each distinct `ok` hash is a
 * candidate centre; its cluster is every `ok` reveal whose result agrees with the centre's. A
 * cluster whose members hold at least `quorum` votes (`weightOf`, one each by default) wins; among
 * several, the one with the most votes, then the one whose
 * centre more reveals share bit for bit, then the centre revealed first in rank order. The result
 * depends only on the reveals, the comparison and the bytes: every node that holds them decides
 * the same, and with quorum a strict majority of k, members of any two winning clusters overlap.
 */
export function findAgreement({ comparison, quorum, reveals, outputs = new Map(), weightOf = () => 1 }: FindAgreementParameters): Agreement | null {
  const rule = comparison ?? exactComparison
  const votes = (members: readonly RevealedResult[]) => members.reduce((sum, r) => sum + weightOf(r.executor), 0)
  const groups = new Map<string, RevealedResult[]>()
  for (const r of reveals) {
    const key = `${r.status}:${r.resultHash}`
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  const failed = [...groups.values()].find((g) => g[0]!.status === 'failed' && votes(g) >= quorum)
  if (failed !== undefined) return { status: 'failed', resultHash: failed[0]!.resultHash, members: failed.map((r) => r.executor) }

  const ok = reveals.filter((r) => r.status === 'ok')
  const centres = [...new Set(ok.map((r) => r.resultHash))]
  const verified = new Map<Hex, Uint8Array>()
  for (const hash of centres) {
    const bytes = outputs.get(hash)
    if (bytes !== undefined && isContentOf(hash, bytes)) verified.set(hash, bytes)
  }
  const bytesOf = (hash: Hex): Uint8Array | undefined => verified.get(hash)
  let best: { resultHash: Hex; members: RevealedResult[]; votes: number; exact: number } | null = null
  for (const centre of centres) {
    const own = bytesOf(centre)
    const agreeing = new Map<Hex, boolean>()
    const agrees = (hash: Hex): boolean => {
      if (hash === centre) return true
      if (rule.kind === 'exact' || own === undefined) return false
      let known = agreeing.get(hash)
      if (known === undefined) {
        const other = bytesOf(hash)
        known = other !== undefined && outputsAgree(rule, own, other)
        agreeing.set(hash, known)
      }
      return known
    }
    const members = ok.filter((r) => agrees(r.resultHash))
    const weight = votes(members)
    if (weight < quorum) continue
    const exact = votes(members.filter((r) => r.resultHash === centre))
    if (best === null || weight > best.votes || (weight === best.votes && exact > best.exact)) {
      best = { resultHash: centre, members, votes: weight, exact }
    }
  }
  return best === null ? null : { status: 'ok', resultHash: best.resultHash, members: best.members.map((r) => r.executor) }
}
