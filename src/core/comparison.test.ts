import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Address, Hex } from 'viem'
import { contentId } from './contentId.ts'
import {
  assertValidComparison,
  findAgreement,
  isWithinError,
  outputsAgree,
  resultsToCompare,
  topIndices,
} from './comparison.ts'
import type { Comparison, RevealedResult } from './comparison.ts'
import { SpecRejectedError } from './errors.ts'
import { decodeTensor, encodeTensor, TensorError } from './tensor.ts'

const tensor = (rows: number[][]) => encodeTensor({ dims: [rows.length, rows[0]!.length], data: Float32Array.from(rows.flat()) })
const maxError = (absMicro: number, relPpm = 0): Comparison => ({ kind: 'maxError', absMicro, relPpm })
const topK = (k: number): Comparison => ({ kind: 'topK', k })
// 2^-10 = 0.0009765625 is exact in float32 and binary64: tolerances of 976 and 977 micro straddle it.
const STEP = 2 ** -10

describe('tensor encoding', () => {
  it('round-trips and rejects trailing bytes, bad magic, zero dimensions and wrong lengths', () => {
    const bytes = tensor([[1, -2.5, 3], [0, 1e-30, 7]])
    const back = decodeTensor(bytes)
    assert.deepEqual(back.dims, [2, 3])
    assert.deepEqual([...back.data], [1, -2.5, 3, 0, Math.fround(1e-30), 7])
    assert.deepEqual(encodeTensor(back), bytes)
    const bad = [
      new Uint8Array([...bytes, 0]),
      Uint8Array.from(bytes, (b, i) => (i === 0 ? 0 : b)),
      bytes.slice(0, bytes.length - 4),
      Uint8Array.from(bytes, (b, i) => (i === 8 ? 0 : b)),
      Uint8Array.from(bytes, (b, i) => (i === 5 ? 7 : b)),
      new Uint8Array(3),
    ]
    for (const b of bad) assert.throws(() => decodeTensor(b), TensorError)
    assert.throws(() => encodeTensor({ dims: [2, 2], data: new Float32Array(3) }), TensorError)
  })
})

describe('maxError comparison', () => {
  it('agrees just inside the absolute tolerance and not just outside it', () => {
    assert.equal(isWithinError(1, 1 + STEP, 977, 0), true)
    assert.equal(isWithinError(1, 1 + STEP, 976, 0), false)
    assert.equal(outputsAgree(maxError(977), tensor([[1, 0.5]]), tensor([[1 + STEP, 0.5]])), true)
    assert.equal(outputsAgree(maxError(976), tensor([[1, 0.5]]), tensor([[1 + STEP, 0.5]])), false)
  })

  it('scales the relative tolerance by the larger magnitude, just inside and just outside', () => {
    // |1024 − 1025| = 1 against relPpm·10⁻⁶·1025: 976 ppm gives 1.0004 (inside), 975 gives 0.999375.
    assert.equal(isWithinError(1024, 1025, 0, 976), true)
    assert.equal(isWithinError(1025, 1024, 0, 975), false)
    assert.equal(isWithinError(1024, 1026, 0, 1950), true) // 1950 · 1026 = 2,000,700 ≥ 2e6
    assert.equal(isWithinError(1024, 1026, 0, 1949), false) // 1949 · 1026 = 1,999,674 < 2e6
  })

  it('treats every element: one element outside the tolerance is enough to disagree', () => {
    const a = tensor([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])
    const b = tensor([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4 + 0.01]])
    assert.equal(outputsAgree(maxError(9_000), a, b), false)
    assert.equal(outputsAgree(maxError(11_000), a, b), true)
  })

  it('never agrees across NaN, shapes or malformed bytes; equal infinities agree', () => {
    assert.equal(isWithinError(NaN, NaN, MAX, MAX), false)
    assert.equal(isWithinError(Infinity, Infinity, 0, 0), true)
    assert.equal(isWithinError(Infinity, -Infinity, MAX, MAX), false)
    assert.equal(outputsAgree(maxError(MAX), tensor([[1, 2]]), tensor([[1], [2]])), false)
    assert.equal(outputsAgree(maxError(MAX), new Uint8Array([1, 2]), new Uint8Array([1, 3])), false)
    // Equal bytes agree under any rule, even when they are not a tensor.
    assert.equal(outputsAgree(maxError(0), new Uint8Array([1, 2]), new Uint8Array([1, 2])), true)
    assert.equal(outputsAgree({ kind: 'exact' }, tensor([[1]]), tensor([[1 + STEP]])), false)
  })
})

const MAX = 1_000_000_000

describe('topK comparison', () => {
  it('ranks ties to the lower index and NaN last', () => {
    assert.deepEqual(topIndices([0.2, 0.5, 0.5, 0.1], 1), [1])
    assert.deepEqual(topIndices([NaN, 0.1, 0.3], 2), [1, 2])
    assert.deepEqual(topIndices([1, 2], 5), [0, 1])
  })

  it('agrees when every row keeps its top-k set, whatever the values, and not when one row flips', () => {
    const a = tensor([[0.7, 0.2, 0.1], [0.1, 0.5, 0.4]])
    const b = tensor([[0.4, 0.35, 0.25], [0.0, 0.6, 0.4]])
    assert.equal(outputsAgree(topK(1), a, b), true)
    // Just outside: the second row's winner moves by the smallest step past the runner-up.
    const flip = tensor([[0.7, 0.2, 0.1], [0.1, 0.4, Math.fround(0.4) + 2 ** -25]])
    const tie = tensor([[0.7, 0.2, 0.1], [0.1, 0.4, 0.4]])
    assert.equal(outputsAgree(topK(1), tensor([[0.7, 0.2, 0.1], [0.1, 0.4, 0.4 - 2 ** -25]]), tie), true)
    assert.equal(outputsAgree(topK(1), flip, tie), false)
    // top-2 is a set: the order inside it does not matter.
    assert.equal(outputsAgree(topK(2), tensor([[0.5, 0.4, 0.1]]), tensor([[0.4, 0.5, 0.1]])), true)
    assert.equal(outputsAgree(topK(2), tensor([[0.5, 0.4, 0.1]]), tensor([[0.5, 0.1, 0.4]])), false)
  })
})

describe('comparison validation', () => {
  it('accepts integer parameters within bounds and rejects the rest', () => {
    for (const ok of [{ kind: 'exact' }, maxError(0, 0), maxError(MAX, 1_000_000), topK(1)] as Comparison[]) assertValidComparison(ok)
    const bad = [maxError(-1), maxError(1.5), maxError(MAX + 1), maxError(0, 1_000_001), topK(0), topK(2.5), { kind: 'median' }]
    for (const c of bad) assert.throws(() => assertValidComparison(c as Comparison), SpecRejectedError)
  })
})

describe('findAgreement', () => {
  const [A, B, C, D, E] = ['0xA', '0xB', '0xC', '0xD', '0xE'].map((a) => a.padEnd(42, '0') as Address) as [Address, Address, Address, Address, Address]
  const honest = tensor([[0.7, 0.2, 0.1]])
  const close = tensor([[0.7 + STEP, 0.2, 0.1 - STEP]])
  const noisy = tensor([[0.5, 0.4, 0.1]])
  const outputs = new Map([honest, close, noisy].map((b) => [contentId(b), b] as const))
  const ok = (executor: Address, bytes: Uint8Array): RevealedResult => ({ executor, status: 'ok', resultHash: contentId(bytes) })
  const tol = maxError(1_000)

  it('needs the bytes only when ok reveals differ, and never under exact', () => {
    assert.deepEqual(resultsToCompare(tol, [ok(A, honest), ok(B, honest)]), [])
    assert.deepEqual(resultsToCompare({ kind: 'exact' }, [ok(A, honest), ok(B, close)]), [])
    assert.deepEqual(resultsToCompare(tol, [ok(A, honest), ok(B, close), ok(C, honest)]), [contentId(honest), contentId(close)])
  })

  it('clusters results within the tolerance and leaves the noisy one out', () => {
    const reveals = [ok(A, close), ok(B, noisy), ok(C, honest), ok(D, honest)]
    const agreement = findAgreement({ comparison: tol, quorum: 3, reveals, outputs })
    // Both centres reach 3; the one more reveals share bit for bit is canonical.
    assert.deepEqual(agreement, { status: 'ok', resultHash: contentId(honest), members: [A, C, D] })
    // Just outside the tolerance the close result is a dissenter, and quorum 3 is out of reach.
    assert.equal(findAgreement({ comparison: maxError(976), quorum: 3, reveals, outputs }), null)
    // Without the bytes the rule falls back to equal hashes.
    assert.equal(findAgreement({ comparison: tol, quorum: 3, reveals }), null)
  })

  it('ignores bytes that are not the content they claim', () => {
    const forged = new Map([[contentId(close), honest] as const, [contentId(honest), honest] as const])
    assert.equal(findAgreement({ comparison: tol, quorum: 2, reveals: [ok(A, honest), ok(B, close)], outputs: forged }), null)
  })

  it('lets a failure win only by equal hashes, and finds nothing below quorum', () => {
    const fail: RevealedResult = { executor: A, status: 'failed', resultHash: '0x01'.padEnd(66, '0') as Hex }
    const agreement = findAgreement({ comparison: tol, quorum: 2, reveals: [fail, { ...fail, executor: B }, ok(C, honest)], outputs })
    assert.deepEqual(agreement, { status: 'failed', resultHash: fail.resultHash, members: [A, B] })
    assert.equal(findAgreement({ comparison: tol, quorum: 3, reveals: [ok(A, honest), ok(B, noisy), ok(E, close)], outputs }), null)
  })
})
