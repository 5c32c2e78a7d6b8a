import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { signChallenge } from '../core/challenge.ts'
import { devnetDomain } from '../core/eip712.ts'
import { encodeMessage } from '../core/messages.ts'
import { createMemoryHub } from '../net/memory/createMemoryHub.ts'
import { topics } from '../ports/network.ts'
import type { Address, Hex } from '../core/types.ts'
import type { ExecutionRequest, Runtime } from '../ports/runtime.ts'
import { testAccount, testVrfKey } from '../../test/helpers/fixtures.ts'
import { castBehaviours, coalitionStanding, createAuditBook, isCertainWin, isWithheld } from './adversaries.ts'
import type { TaskSeats } from './publicSeats.ts'

const [a, b, c, h1, h2] = ['a', 'b', 'c', 'h1', 'h2'].map((label) => testAccount(label).address) as [Address, Address, Address, Address, Address]
const truth = new Uint8Array([42])
const honest: Runtime = { name: 'wasm', execute: async () => ({ status: 'ok', output: truth, fuelUsed: 1n }), close: async () => {} }
const task = (label: string): Hex => keccak256(stringToBytes(label))
/** Seats by task: the coalition {a, b, c} holds all, two (a quorum) or one of them. */
const seats = new Map<Hex, TaskSeats>([
  [task('all'), { seats: [b, a, c], quorum: 2 }],
  [task('quorum'), { seats: [h1, c, a], quorum: 2 }],
  [task('one'), { seats: [h1, a, h2], quorum: 2 }],
])
const request = (taskId?: Hex): ExecutionRequest => ({
  programId: task('program'),
  program: new Uint8Array(0),
  input: new Uint8Array([1, 2, 3]),
  limits: { fuel: 10n, memoryPages: 1, outputBytes: 64 },
  ...(taskId === undefined ? {} : { taskId }),
})

async function outputs(behaviour: 'strategic-colluder' | 'quorum-colluder'): Promise<Record<string, string[]>> {
  const cast = castBehaviours({
    behaviours: ['honest', 'honest', behaviour, behaviour, behaviour],
    seed: 'unit',
    commitWindowMs: 1_000,
    addresses: [h1, h2, a, b, c],
    seatsOf: (id) => seats.get(id),
  })
  const result: Record<string, string[]> = {}
  for (const label of ['all', 'quorum', 'one', 'unknown', 'no task id']) {
    const id = label === 'no task id' ? undefined : task(label)
    result[label] = await Promise.all(
      [2, 3, 4].map(async (i) => {
        const r = await cast.wrap(i, honest).execute(request(id))
        return r.status === 'ok' ? (r.output === truth ? 'true' : Buffer.from(r.output).toString('hex')) : 'failed'
      }),
    )
  }
  return result
}

describe('coalitions that rank the public seats', () => {
  it('a strategic colluder lies, all with one answer, only where the coalition holds every seat', async () => {
    const out = await outputs('strategic-colluder')
    assert.notEqual(out.all![0], 'true')
    assert.ok(out.all!.every((o) => o === out.all![0]), 'the coalition agrees on its lie')
    for (const label of ['quorum', 'one', 'unknown', 'no task id']) assert.deepEqual(out[label], ['true', 'true', 'true'], label)
  })

  it('a quorum colluder lies wherever the coalition holds a quorum of the seats', async () => {
    const out = await outputs('quorum-colluder')
    for (const label of ['all', 'quorum']) {
      assert.notEqual(out[label]![0], 'true', label)
      assert.ok(out[label]!.every((o) => o === out[label]![0]), `${label}: the coalition agrees on its lie`)
    }
    for (const label of ['one', 'unknown', 'no task id']) assert.deepEqual(out[label], ['true', 'true', 'true'], label)
  })
})

describe('strategies that read the verifier’s place, the arbiters and the challenges', () => {
  const [v, x1, x2] = ['v', 'x1', 'x2'].map((label) => testAccount(label).address) as [Address, Address, Address]
  /** Places by task, for the coalition {a, b, c}: seats, verifier, arbiters (every other node). */
  const places = new Map<Hex, TaskSeats>([
    // Every seat and the verifier's place: a certain win.
    [task('all+verifier'), { seats: [a, b], quorum: 2, verifier: c, arbiters: [c, h1, h2, v, x1], auditPpm: 100_000 }],
    // Every seat, an honest verifier: the audit may catch it.
    [task('all'), { seats: [a, b, c], quorum: 2, verifier: h1, arbiters: [h1, h2, v, x1, x2], auditPpm: 100_000 }],
    // A quorum, not all.
    [task('quorum'), { seats: [h1, a, b], quorum: 2, verifier: c, arbiters: [c, h2, v, x1, x2], auditPpm: 100_000 }],
    // One seat (a's), the verifier's place is c's.
    [task('one'), { seats: [a, h1, h2], quorum: 2, verifier: c, arbiters: [c, b, v, x1, x2], auditPpm: 100_000 }],
    // A majority of a small arbitration (3 of 5 places): it would win a dispute.
    [task('arbitration'), { seats: [a, h1], quorum: 2, verifier: b, arbiters: [b, c, h2], auditPpm: 100_000 }],
  ])
  const coalition = new Set([a, b, c])
  const standing = (label: string, self: Address) => coalitionStanding({ coalition, seatsOf: (id) => places.get(id), self }, task(label))

  it('ranks where the coalition and the node stand', () => {
    assert.deepEqual(standing('all+verifier', a), { held: 2, seats: 2, quorum: 2, holdsVerifier: true, holdsArbitration: false, place: 'seat', auditPpm: 100_000 })
    assert.equal(standing('all+verifier', c)?.place, 'verifier')
    assert.equal(standing('one', b)?.place, 'other')
    assert.equal(standing('arbitration', a)?.holdsArbitration, true)
    assert.equal(standing('unknown', a), undefined)
  })

  it('a colluding verifier counts only certain wins: every seat and the verifier, or a majority of the arbitration', () => {
    assert.equal(isCertainWin(standing('all+verifier', a)), true)
    assert.equal(isCertainWin(standing('arbitration', a)), true)
    for (const label of ['all', 'quorum', 'one', 'unknown']) assert.equal(isCertainWin(standing(label, a)), false, label)
  })

  it('a withholder keeps back only its own seats’ reveals where revealing would lose or silence stalls the task', () => {
    // Every seat: reveal only once a challenge spared the seats.
    assert.equal(isWithheld(standing('all', a), false), false)
    assert.equal(isWithheld(standing('all', a), true), true)
    assert.equal(isWithheld(standing('all', a), undefined), true, 'no challenge: the next node audits')
    // A quorum, not all: withhold, the honest seat alone is short of the quorum.
    assert.equal(isWithheld(standing('quorum', a), false), true)
    // One seat: the honest seats reach the quorum anyway; silence would only cost it.
    assert.equal(isWithheld(standing('one', a), true), false)
    // As verifier or arbiter it always reveals.
    assert.equal(isWithheld(standing('quorum', c), true), false)
    assert.equal(isWithheld(standing('one', b), true), false)
    assert.equal(isWithheld(undefined, true), false)
  })

  it('an audit book decides a challenge as the nodes do, from the verifier’s VRF draw', async () => {
    const signer = testAccount('verifier')
    const vrf = testVrfKey('verifier')
    const drawn = async (label: string) => signChallenge(signer, vrf, { taskId: task(label), commitment: task(`${label}/commitment`) }, devnetDomain)
    const rates = new Map<Hex, number>([
      [task('always'), 1_000_000],
      [task('never'), 0],
    ])
    const book = createAuditBook((id) => ({ seats: [], quorum: 1, auditPpm: rates.get(id) ?? 0 }))
    book.onChallenge(await drawn('always'))
    book.onChallenge(await drawn('never'))
    const forged = await drawn('forged')
    book.onChallenge({ ...forged, draw: { ...forged.draw, s: `0x${'00'.repeat(32)}` } })
    assert.equal(book.audited(task('always')), true)
    assert.equal(book.audited(task('never')), false)
    assert.equal(book.audited(task('forged')), undefined, 'a draw that does not verify decides nothing')
    assert.equal(book.audited(task('unseen')), undefined)
  })

  it('runtimes: a colluding verifier lies in every role of a certain win; a bribed arbiter only outside its seats and an audit', async () => {
    /** Three nodes cast as `behaviour` after two honest ones, over `known` places: node i's answer to a task, the truth or a lie. */
    const coalitionOf = (behaviour: 'colluding-verifier' | 'bribed-arbiter', known: ReadonlyMap<Hex, TaskSeats> = places) =>
      castBehaviours({ behaviours: ['honest', 'honest', behaviour, behaviour, behaviour], seed: 'unit', commitWindowMs: 1_000, addresses: [h1, h2, a, b, c], seatsOf: (id) => known.get(id) })
    const answerOf = (cast: ReturnType<typeof castBehaviours>) => async (i: number, label: string) => {
      const r = await cast.wrap(i, honest).execute(request(task(label)))
      return r.status === 'ok' && r.output === truth ? 'true' : 'lie'
    }
    const run = answerOf(coalitionOf('colluding-verifier'))
    // a and b as executors, c as auditor of the same task: one story.
    assert.deepEqual(await Promise.all([2, 3, 4].map((i) => run(i, 'all+verifier'))), ['lie', 'lie', 'lie'])
    assert.deepEqual(await Promise.all([2, 3, 4].map((i) => run(i, 'all'))), ['true', 'true', 'true'])
    assert.deepEqual(await Promise.all([2, 3, 4].map((i) => run(i, 'quorum'))), ['true', 'true', 'true'])

    const bribed = answerOf(coalitionOf('bribed-arbiter'))
    // 'one': a holds a seat (honest), b is an arbiter (lies), c holds the verifier's place and no challenge was seen (an auditor: honest).
    assert.deepEqual(await Promise.all([2, 3, 4].map((i) => bribed(i, 'one'))), ['true', 'lie', 'true'])

    // c's own challenge goes out through its transport: spared (rate 0), c executes the task only as an arbiter, and lies.
    const spared = new Map(places)
    spared.set(task('one'), { ...places.get(task('one'))!, auditPpm: 0 })
    const sparedCast = coalitionOf('bribed-arbiter', spared)
    const verifier = testAccount('c')
    const network = sparedCast.transport(4, createMemoryHub().connect('c'), { signer: verifier, domain: devnetDomain })
    const challenge = await signChallenge(verifier, testVrfKey('c'), { taskId: task('one'), commitment: task('one/commitment') }, devnetDomain)
    await network.publish(topics.challenges, encodeMessage({ type: 'challenge', ...challenge }))
    const r = await sparedCast.wrap(4, honest).execute(request(task('one')))
    assert.ok(r.status === 'ok' && r.output !== truth, 'the verifier whose challenge spared the seats arbitrates with the lie')
  })
})
