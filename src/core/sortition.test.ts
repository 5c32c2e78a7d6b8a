import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodePacked, getAddress, hexToBigInt, keccak256, numberToHex, stringToBytes } from 'viem'
import { seed, testAccount } from '../../test/helpers/fixtures.ts'
import { drawSeats, rankCandidates } from './sortition.ts'
import type { Candidate } from './sortition.ts'

const nodes = ['a', 'b', 'c', 'd', 'e', 'f'].map((l) => testAccount(`node-${l}`).address)
const equal: Candidate[] = nodes.map((address) => ({ address, weight: 100n }))
const taskId = (i: number) => keccak256(numberToHex(i, { size: 32 }))

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

  it('draws exactly as successive sampling without replacement over the stake line, for any weights', () => {
    // The rule written out plainly: sum the weights left, take keccak(seed ‖ taskId ‖ j) modulo it,
    // walk the candidates in address order to the one whose stretch holds the point, remove it.
    const reference = (seedHex: `0x${string}`, id: `0x${string}`, candidates: Candidate[]) => {
      const merged = new Map<string, { address: string; weight: bigint }>()
      for (const c of candidates.filter((c) => c.weight > 0n)) {
        const m = merged.get(c.address.toLowerCase())
        if (m === undefined) merged.set(c.address.toLowerCase(), { ...c })
        else m.weight += c.weight
      }
      const line = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, c]) => c)
      const out: string[] = []
      for (let j = 0; line.length > 0; j++) {
        const total = line.reduce((sum, c) => sum + c.weight, 0n)
        let point = hexToBigInt(keccak256(encodePacked(['bytes32', 'bytes32', 'uint32'], [seedHex, id, j]))) % total
        const at = line.findIndex((c) => (point < c.weight ? true : ((point -= c.weight), false)))
        out.push(line[at]!.address)
        line.splice(at, 1)
      }
      return out
    }
    const many = Array.from({ length: 40 }, (_, i) => getAddress(keccak256(numberToHex(i + 100)).slice(0, 42)))
    const weightSets: Array<(i: number) => bigint> = [
      () => 10n ** 21n, // equal stakes
      (i) => BigInt(i + 1) * 10n ** 18n, // unequal
      (i) => (i % 3 === 0 ? 1n : 10n ** 24n), // tiny next to huge
      (i) => 2n ** 1100n + BigInt(i), // beyond floating point's range
    ]
    for (const [w, weightOf] of weightSets.entries()) {
      const candidates = many.map((address, i) => ({ address, weight: weightOf(i) }))
      // An address listed twice counts once, with both weights.
      candidates.push({ ...candidates[5]! })
      for (let t = 0; t < 25; t++) {
        const id = taskId(1000 + t)
        const want = reference(seed, id, candidates)
        assert.equal(want.length, many.length)
        assert.deepEqual(rankCandidates({ seed, taskId: id, candidates }), want, `weights ${w}, task ${t}`)
        assert.deepEqual(rankCandidates({ seed, taskId: id, candidates, count: 4 }), want.slice(0, 4))
      }
    }
  })

  it('ranks one list for many tasks without one ranking disturbing the next', () => {
    const candidates = Array.from({ length: 300 }, (_, i) => ({ address: getAddress(keccak256(numberToHex(i + 7)).slice(0, 42)), weight: BigInt(1 + (i % 7)) }))
    const fresh = (i: number) => rankCandidates({ seed, taskId: taskId(i), candidates: [...candidates], count: 9 })
    for (let i = 0; i < 50; i++) assert.deepEqual(rankCandidates({ seed, taskId: taskId(i), candidates, count: 9 }), fresh(i))
    assert.deepEqual(rankCandidates({ seed, taskId: taskId(3), candidates }).slice(0, 9), fresh(3))
  })
})

describe('drawSeats', () => {
  it('draws by stake with replacement, the same everywhere, and only as many seats as asked', () => {
    const seats = drawSeats({ seed, taskId: taskId(3), candidates: equal, count: 193 })
    assert.equal(seats.length, 193)
    assert.equal(new Set(seats).size, nodes.length, 'each of six equal nodes holds seats')
    assert.deepEqual(drawSeats({ seed, taskId: taskId(3), candidates: [...equal].reverse(), count: 193 }), seats)
    assert.deepEqual(drawSeats({ seed, taskId: taskId(3), candidates: equal, count: 10 }), seats.slice(0, 10), 'a prefix of the same draws')
    assert.notDeepEqual(drawSeats({ seed, taskId: taskId(4), candidates: equal, count: 10 }), seats.slice(0, 10))
    assert.deepEqual(drawSeats({ seed, taskId: taskId(3), candidates: equal.map((c) => ({ ...c, weight: 0n })), count: 5 }), [], 'no stake to draw from')
  })

  it('gives a coalition the seats its stake buys however it splits the stake: twelve small nodes hold no more than one large one', () => {
    // A third of the stake in one node, or in twelve nodes of a twelfth of it each, beside four
    // honest nodes: over 200 tasks × 193 seats the coalition's share is a third either way.
    const honest = ['h1', 'h2', 'h3', 'h4'].map((l) => ({ address: testAccount(`seats-${l}`).address, weight: 3_000n }))
    const whole = [...honest, { address: testAccount('seats-c').address, weight: 6_000n }]
    const split = [...honest, ...Array.from({ length: 12 }, (_, i) => ({ address: testAccount(`seats-c${i}`).address, weight: 500n }))]
    const share = (candidates: Candidate[]) => {
      const coalition = new Set(candidates.slice(4).map((c) => c.address))
      let held = 0
      for (let i = 0; i < 200; i++) held += drawSeats({ seed, taskId: taskId(i), candidates, count: 193 }).filter((n) => coalition.has(n)).length
      return held / (200 * 193)
    }
    // Binomial(38,600, 1/3): a standard deviation of 0.0024 in the share; 0.02 is over eight.
    for (const candidates of [whole, split]) assert.ok(Math.abs(share(candidates) - 1 / 3) < 0.02, `${share(candidates)}`)
  })
})
