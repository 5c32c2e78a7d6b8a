import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, numberToHex, stringToBytes } from 'viem'
import { privateKeyToAddress } from 'viem/accounts'
import { drawnChallenge, makeSpec, seatsAmong, testAccount, testVrfKey } from '../../test/helpers/fixtures.ts'
import { createNativeSigner } from '../crypto/secp256k1.ts'
import { auditDrawOf, createVrfKey, isAudited, signChallenge } from './challenge.ts'
import { computeCommitment } from './commit.ts'
import { devnetDomain } from './eip712.ts'
import { ChallengeRejectedError } from './errors.ts'
import { advanceTask, applyChallenge, applyCommit, applyReveal, openArbitration, openTask } from './task.ts'
import type { TaskState } from './task.ts'
import type { Address, Commit, Hex, Reveal, Signed, SignedChallenge } from './types.ts'

const timing = { commitWindowMs: 1_000, revealWindowMs: 500 }
const [x, v, a1, a2, a3, b1] = ['x', 'v', 'a1', 'a2', 'a3', 'b1'].map((l) => testAccount(`sample-${l}`).address) as [
  Address, Address, Address, Address, Address, Address,
]
const vrfOf = new Map([v, a1].map((node, i) => [node, testVrfKey(`sample-${['v', 'a1'][i]}`)]))
const ranking = [x, v, a1, a2, a3, b1]
const taskId = keccak256(stringToBytes('sampled task'))
const good = keccak256(stringToBytes('good'))
const bad = keccak256(stringToBytes('bad'))
const sig = `0x${'11'.repeat(65)}` as Hex

const salt = (e: Address) => keccak256(stringToBytes(`salt-${e}`))
const commit = (e: Address, resultHash = good): Signed<Commit> => ({
  message: { taskId, commitment: computeCommitment({ taskId, status: 'ok', resultHash, salt: salt(e), executor: e }) },
  signer: e,
  signature: sig,
})
const reveal = (e: Address, resultHash = good): Signed<Reveal> => ({
  message: { taskId, status: 'ok', resultHash, salt: salt(e) },
  signer: e,
  signature: sig,
})
/** A challenge by `signer`, with the audit draw of `drawer`'s VRF key (the signer's own by default). */
const challenge = (s: TaskState, signer: Address = v, drawer: Address = signer): SignedChallenge =>
  drawnChallenge(vrfOf.get(drawer)!, signer, { taskId, commitment: s.commits[0]!.commitment }, sig)

/** ratePpm 1,000,000 audits every task; ratePpm 1 audits (almost) none, and not this draw. */
function open(ratePpm: number): TaskState {
  return openTask({ taskId, spec: makeSpec({ policy: { kind: 'sample', ratePpm } }), ranking, timing, now: 0 })
}

describe('sample policy', () => {
  it('without an audit, the executor alone is verified once the verifier has challenged', () => {
    let s = open(1)
    assert.deepEqual(s.seats, [x])
    s = applyCommit(s, commit(x), 10, timing)
    assert.equal(s.phase, 'challenge')
    assert.equal(s.audit?.verifier, v)
    s = applyChallenge(s, challenge(s), 20, timing)
    assert.equal(s.audit?.audited, false)
    assert.equal(s.phase, 'reveal')
    s = applyReveal(s, reveal(x), 30, timing)
    assert.deepEqual(s.verdict, { taskId, outcome: 'verified', resultHash: good, executors: [x], dissenters: [] })
  })

  it('with an audit, the verifier commits before anyone reveals, and agreement verifies both', () => {
    let s = open(1_000_000)
    s = applyCommit(s, commit(x), 10, timing)
    s = applyChallenge(s, challenge(s), 20, timing)
    assert.equal(s.audit?.stage, 'audit')
    assert.equal(s.phase, 'commit', 'nobody reveals before the auditor has committed')
    assert.deepEqual(s.seats, [x, v])
    s = applyCommit(s, commit(v), 30, timing)
    s = applyReveal(applyReveal(s, reveal(x), 40, timing), reveal(v), 41, timing)
    assert.deepEqual(s.verdict?.executors, [x, v])
    assert.equal(s.verdict?.outcome, 'verified')
  })

  it('a mismatch goes to arbitration; the arbiters’ majority wins and the loser is a dissenter', () => {
    let s = open(1_000_000)
    s = applyCommit(s, commit(x, bad), 10, timing)
    s = applyChallenge(s, challenge(s), 20, timing)
    s = applyCommit(s, commit(v), 30, timing)
    s = applyReveal(applyReveal(s, reveal(x, bad), 40, timing), reveal(v), 41, timing)
    assert.equal(s.phase, 'dispute')
    // Three arbiters: the first ranked nodes that did not commit; a majority of all five seats rules.
    s = openArbitration(s, seatsAmong(s, ranking, 3), 45, timing)
    assert.equal(s.phase, 'commit')
    assert.deepEqual(s.seats, [x, v, a1, a2, a3])
    assert.deepEqual(s.arbitration, { disputed: [x, v], arbiters: [a1, a2, a3], votes: new Map([[x, 1], [v, 1], [a1, 1], [a2, 1], [a3, 1]]), quorum: 3 })
    for (const e of [a1, a2, a3]) s = applyCommit(s, commit(e), 50, timing)
    for (const e of [a1, a2, a3]) s = applyReveal(s, reveal(e), 60, timing)
    assert.equal(s.verdict?.outcome, 'verified')
    assert.equal(s.verdict?.resultHash, good)
    assert.deepEqual(s.verdict?.executors, [v, a1, a2, a3])
    assert.deepEqual(s.verdict?.dissenters, [x])
  })

  it('only the designated verifier may challenge, and only the executor’s commitment', () => {
    const s = applyCommit(open(1_000_000), commit(x), 10, timing)
    const rejects = (c: SignedChallenge, code: string) =>
      assert.throws(() => applyChallenge(s, c, 20, timing), (e: unknown) => e instanceof ChallengeRejectedError && e.code === code)
    rejects(challenge(s, a1), 'CHALLENGE_NOT_VERIFIER')
    rejects({ ...challenge(s), message: { taskId, commitment: taskId } }, 'CHALLENGE_MISMATCH')
    // The verifier's signature with another key's draw, or its draw on another commitment, decides nothing.
    rejects(challenge(s, v, a1), 'CHALLENGE_BAD_DRAW')
    const other = drawnChallenge(vrfOf.get(v)!, v, { taskId, commitment: taskId }, sig)
    rejects({ ...challenge(s), draw: other.draw }, 'CHALLENGE_BAD_DRAW')
  })

  it('a silent verifier cannot spare the executor: the next node audits', () => {
    let s = applyCommit(open(1), commit(x), 10, timing)
    s = advanceTask(s, 10 + timing.commitWindowMs, timing)
    assert.equal(s.audit?.stage, 'audit')
    assert.deepEqual(s.seats, [x, a1])
    assert.ok(s.missedCommit.includes(v))
  })

  it('audits at the rate p: 300 real audit draws at p = 30% land within 4 standard deviations', () => {
    // The draw is the verifier's VRF output on the task and the executor's commitment: uniform to
    // anyone who does not hold the verifier's key, and unique for it.
    const key = keccak256(stringToBytes('rate-verifier'))
    const verifier = createVrfKey(key)
    const n = 300
    const ratePpm = 300_000
    let audits = 0
    for (let i = 0; i < n; i++) {
      const drawn = drawnChallenge(verifier, privateKeyToAddress(key), { taskId: keccak256(numberToHex(i)), commitment: good })
      if (isAudited(auditDrawOf(drawn)!, ratePpm)) audits++
    }
    const p = ratePpm / 1_000_000
    const sd = Math.sqrt(n * p * (1 - p))
    assert.ok(Math.abs(audits - n * p) < 4 * sd, `${audits} audits, expected ${n * p} ± ${(4 * sd).toFixed(0)}`)
  })
})

describe('sample policy: a lazy executor over many tasks', () => {
  it('is caught (outvoted in arbitration) at the audit rate p, within 4 standard deviations over 150 tasks', async () => {
    const key = keccak256(stringToBytes('lazy-rate-verifier'))
    const verifier = createNativeSigner(key)
    const vrf = createVrfKey(key)
    const lazy = x
    const order = [lazy, verifier.address, a1, a2, a3]
    const ratePpm = 400_000
    const n = 150
    let caught = 0
    for (let i = 0; i < n; i++) {
      const id = keccak256(numberToHex(i, { size: 32 }))
      const spec = makeSpec({ nonce: BigInt(i), policy: { kind: 'sample', ratePpm } })
      const c = (e: Address, resultHash: Hex): Signed<Commit> => ({
        message: { taskId: id, commitment: computeCommitment({ taskId: id, status: 'ok', resultHash, salt: salt(e), executor: e }) },
        signer: e,
        signature: sig,
      })
      const r = (e: Address, resultHash: Hex): Signed<Reveal> => ({
        message: { taskId: id, status: 'ok', resultHash, salt: salt(e) },
        signer: e,
        signature: sig,
      })
      let s = openTask({ taskId: id, spec, ranking: order, timing, now: 0 })
      // The lazy executor commits a guess without running the task.
      s = applyCommit(s, c(lazy, bad), 1, timing)
      s = applyChallenge(s, await signChallenge(verifier, vrf, { taskId: id, commitment: s.commits[0]!.commitment }, devnetDomain), 2, timing)
      if (s.audit?.stage === 'audit') {
        s = applyCommit(s, c(verifier.address, good), 3, timing)
        s = applyReveal(applyReveal(s, r(lazy, bad), 4, timing), r(verifier.address, good), 4, timing)
        s = openArbitration(s, seatsAmong(s, order, 3), 4, timing)
        for (const e of [a1, a2, a3]) s = applyCommit(s, c(e, good), 5, timing)
        for (const e of [a1, a2, a3]) s = applyReveal(s, r(e, good), 6, timing)
      } else {
        s = applyReveal(s, r(lazy, bad), 4, timing)
      }
      if (s.verdict?.dissenters.includes(lazy)) caught++
      else assert.deepEqual(s.verdict?.executors, [lazy], 'not audited: the guess passes, as sampling allows')
    }
    const p = ratePpm / 1_000_000
    const sd = Math.sqrt(n * p * (1 - p))
    assert.ok(Math.abs(caught - n * p) < 4 * sd, `caught ${caught} of ${n}, expected ${n * p} ± ${(4 * sd).toFixed(0)}`)
  })
})
