import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodePacked, getAddress, hexToBigInt, keccak256, numberToHex, stringToBytes } from 'viem'
import { seed, testAccount } from '../../test/helpers/fixtures.ts'
import { log2Fixed, LOG2_FRACTION_BITS } from './log2.ts'
import { rankCandidates } from './sortition.ts'
import type { Candidate } from './sortition.ts'

const nodes = ['a', 'b', 'c', 'd', 'e', 'f'].map((l) => testAccount(`node-${l}`).address)
const equal: Candidate[] = nodes.map((address) => ({ address, weight: 100n }))
const taskId = (i: number) => keccak256(numberToHex(i, { size: 32 }))

describe('log2Fixed', () => {
  it('matches Math.log2 to within 2^-40 and is exact on powers of two', () => {
    const scale = 2 ** Number(LOG2_FRACTION_BITS)
    for (const x of [1n, 2n, 3n, 5n, 1000n, 123456789n, (1n << 200n) + 12345n, (1n << 256n) - 1n]) {
      const got = Number(log2Fixed(x)) / scale
      const want = Math.log2(Number(x))
      assert.ok(Math.abs(got - want) < 2 ** -40 * Math.max(1, want), `log2(${x}): ${got} vs ${want}`)
    }
    assert.equal(log2Fixed(1n << 77n), 77n << LOG2_FRACTION_BITS)
    assert.throws(() => log2Fixed(0n), RangeError)
  })
})

describe('rankCandidates', () => {
  it('gives every node the same order for the same inputs, whatever order the candidates come in', () => {
    const ranking = rankCandidates({ seed, taskId: taskId(1), candidates: equal })
    assert.equal(ranking.length, nodes.length)
    assert.deepEqual(new Set(ranking), new Set(nodes))
    const shuffled = [...equal].reverse()
    assert.deepEqual(rankCandidates({ seed, taskId: taskId(1), candidates: shuffled }), ranking)
    assert.deepEqual(rankCandidates({ seed, taskId: taskId(1), candidates: equal, count: 3 }), ranking.slice(0, 3))
  })

  it('changes with the task id and the seed', () => {
    const first = new Set<string>()
    for (let i = 0; i < 40; i++) first.add(rankCandidates({ seed, taskId: taskId(i), candidates: equal, count: 1 })[0]!)
    assert.ok(first.size >= 4, 'different tasks should land on different executors')
    const otherSeed = keccak256(stringToBytes('other-seed'))
    const orders = [0, 1, 2, 3, 4].map((i) => ({
      a: rankCandidates({ seed, taskId: taskId(i), candidates: equal }).join(),
      b: rankCandidates({ seed: otherSeed, taskId: taskId(i), candidates: equal }).join(),
    }))
    assert.ok(orders.some(({ a, b }) => a !== b))
  })

  it('leaves out candidates without weight', () => {
    const candidates = equal.map((c, i) => (i === 0 ? { ...c, weight: 0n } : c))
    assert.ok(!rankCandidates({ seed, taskId: taskId(7), candidates }).includes(nodes[0]!))
  })

  it('picks a node with 3x stake first about 3x as often (within 10% over 12,000 tasks)', () => {
    // Weights 3:1:1:1 → the heavy node is first with probability 1/2, each other with 1/6.
    const candidates: Candidate[] = nodes.slice(0, 4).map((address, i) => ({ address, weight: i === 0 ? 300n : 100n }))
    const firsts = new Map<string, number>()
    const tasks = 12_000
    for (let i = 0; i < tasks; i++) {
      const [top] = rankCandidates({ seed, taskId: taskId(i), candidates, count: 1 })
      firsts.set(top!, (firsts.get(top!) ?? 0) + 1)
    }
    const heavy = firsts.get(nodes[0]!) ?? 0
    const light = nodes.slice(1, 4).map((n) => firsts.get(n) ?? 0)
    const ratio = heavy / (light.reduce((a, b) => a + b, 0) / light.length)
    // Standard error of the ratio is about 2.5% here; 10% is four of them.
    assert.ok(Math.abs(ratio - 3) / 3 < 0.1, `ratio ${ratio.toFixed(3)} should be within 10% of 3`)
    assert.ok(Math.abs(heavy / tasks - 0.5) < 0.03, `heavy share ${heavy / tasks}`)
  })

  it('gives exactly the order of the all-integer ranking, which it now computes only for near-ties', () => {
    // The ranking as first written: every key computed exactly, compared by cross-multiplication.
    const MAX_LOG2 = 256n << LOG2_FRACTION_BITS
    const reference = (seedHex: `0x${string}`, id: `0x${string}`, candidates: Candidate[]) =>
      candidates
        .filter((c) => c.weight > 0n)
        .map((c) => {
          const h = hexToBigInt(keccak256(encodePacked(['bytes32', 'bytes32', 'address'], [seedHex, id, c.address])))
          return { address: c.address, weight: c.weight, exponent: MAX_LOG2 - log2Fixed(h + 1n) }
        })
        .sort((a, b) => {
          const lhs = a.exponent * b.weight
          const rhs = b.exponent * a.weight
          if (lhs !== rhs) return lhs < rhs ? -1 : 1
          return a.address.toLowerCase() < b.address.toLowerCase() ? -1 : a.address.toLowerCase() > b.address.toLowerCase() ? 1 : 0
        })
        .map((k) => k.address)
    const many = Array.from({ length: 40 }, (_, i) => getAddress(keccak256(numberToHex(i + 100)).slice(0, 42)))
    const weightSets: Array<(i: number) => bigint> = [
      () => 10n ** 21n, // equal stakes
      (i) => BigInt(i + 1) * 10n ** 18n, // unequal
      (i) => (i % 3 === 0 ? 1n : 10n ** 24n), // tiny next to huge: wide error bounds, long exact runs
      (i) => 2n ** 1100n + BigInt(i), // beyond floating point's range
    ]
    for (const [w, weightOf] of weightSets.entries()) {
      const candidates = many.map((address, i) => ({ address, weight: weightOf(i) }))
      // A duplicated candidate ties exactly with itself.
      candidates.push({ ...candidates[5]! })
      for (let t = 0; t < 25; t++) {
        const id = taskId(1000 + t)
        const want = reference(seed, id, candidates)
        assert.deepEqual(rankCandidates({ seed, taskId: id, candidates }), want, `weights ${w}, task ${t}`)
        assert.deepEqual(rankCandidates({ seed, taskId: id, candidates, count: 4 }), want.slice(0, 4))
      }
    }
  })
})
