import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { arbitratedAs, badResult, certify, goodResult, instantAnchorOf, rankedAs } from '../../test/helpers/certificates.ts'
import { drawnChallenge, makeSpec, seatsAmong, testAccount, testVrfKey } from '../../test/helpers/fixtures.ts'
import { certifyTasks, findBatchObjection } from './batchCheck.ts'
import { auditDrawOf, isAudited, signChallenge } from './challenge.ts'
import { checkTaskCertificate } from './certificate.ts'
import type { TaskCertificate } from './certificate.ts'
import { computeCommitment } from './commit.ts'
import { devnetDomain } from './eip712.ts'
import { ChallengeRejectedError } from './errors.ts'
import { isSignedBy } from './signing.ts'
import { advanceTask, applyChallenge, applyCommit, applyReveal, judgeCommit, judgeReveal, openArbitration, openTask } from './task.ts'
import type { TaskState } from './task.ts'
import type { Address, Commit, Hex, ReplicatePolicy, Reveal, Signed, SignedChallenge } from './types.ts'

// Unanimous seats are audited: a coalition that holds every seat of a replicated task is caught
// whenever the verifier drawn after its commits calls an audit.

const timing = { commitWindowMs: 1_000, revealWindowMs: 500 }
const labels = ['s1', 's2', 's3', 'v', 'n1', 'n2', 'n3', 'n4'] as const
const accounts = labels.map((l) => testAccount(`audit-${l}`))
const [s1, s2, s3, v, n1, n2, n3, n4] = accounts.map((a) => a.address) as [Address, Address, Address, Address, Address, Address, Address, Address]
const vrfOf = (node: Address) => testVrfKey(`audit-${labels[accounts.findIndex((a) => a.address === node)]}`)
const ranking = [s1, s2, s3, v, n1, n2, n3, n4]
const taskId = keccak256(stringToBytes('audited replicated task'))
const sig = `0x${'11'.repeat(65)}` as Hex
const salt = (e: Address) => keccak256(stringToBytes(`salt-${e}`))
const commit = (e: Address, resultHash = goodResult): Signed<Commit> => ({
  message: { taskId, commitment: computeCommitment({ taskId, status: 'ok', resultHash, salt: salt(e), executor: e }) },
  signer: e,
  signature: sig,
})
const reveal = (e: Address, resultHash = goodResult): Signed<Reveal> => ({ message: { taskId, status: 'ok', resultHash, salt: salt(e) }, signer: e, signature: sig })
const challenge = (commitment: Hex, signer: Address = v): SignedChallenge => drawnChallenge(vrfOf(signer), signer, { taskId, commitment }, sig)

/** auditPpm 1,000,000 audits every task; 1 audits (almost) none, and not these draws. */
const policy = (auditPpm: number): ReplicatePolicy => ({ kind: 'replicate', k: 3, quorum: 2, auditPpm })
const open = (auditPpm: number): TaskState => openTask({ taskId, spec: makeSpec({ policy: policy(auditPpm) }), ranking, timing, now: 0 })

/** All three seats commit `result`; the task then waits for its verifier's challenge. */
function committed(auditPpm: number, result = goodResult): TaskState {
  let s = open(auditPpm)
  for (const e of [s1, s2, s3]) s = applyCommit(s, commit(e, result), 10, timing)
  return s
}

describe('audits of replicated tasks', () => {
  it('wait for the verifier after the seats, who challenges the best-ranked commitment only', () => {
    const s = committed(1)
    assert.equal(s.phase, 'challenge', 'nobody reveals before the verifier drew the audit')
    assert.equal(s.audit?.verifier, v)
    const rejects = (c: SignedChallenge, code: string) =>
      assert.throws(() => applyChallenge(s, c, 20, timing), (e: unknown) => e instanceof ChallengeRejectedError && e.code === code)
    // Another seat's commitment would give the verifier a second draw to choose from.
    rejects(challenge(commit(s2).message.commitment), 'CHALLENGE_MISMATCH')
    rejects(challenge(commit(s1).message.commitment, n1), 'CHALLENGE_NOT_VERIFIER')

    let spared = applyChallenge(s, challenge(commit(s1).message.commitment), 20, timing)
    assert.equal(spared.audit?.audited, false)
    assert.equal(spared.phase, 'reveal')
    for (const e of [s1, s2]) spared = applyReveal(spared, reveal(e), 30, timing)
    spared = advanceTask(spared, 20 + timing.revealWindowMs, timing)
    assert.equal(spared.verdict?.outcome, 'verified', 'without an audit, the quorum of 2 rules as before')
  })

  it('hold an arbiter’s commit and reveal that come while this node still waits for the challenge', () => {
    // Elsewhere the challenge came first, the seats revealed a split and the arbiters committed.
    // Ignored here, the commit would leave this node waiting out its whole arbitration commit window,
    // and its own reveal would come after its peers decided: a withholder, slashed, though honest.
    const s = committed(1)
    assert.equal(s.phase, 'challenge')
    assert.deepEqual(judgeCommit(s, commit(n1), 15, timing), { kind: 'hold' })
    assert.deepEqual(judgeReveal(s, reveal(n1), 16, timing), { kind: 'hold' })
    // A seat's second commit is still a duplicate, not held.
    assert.equal(judgeCommit(s, commit(s1), 17, timing).kind, 'ignore')
  })

  it('seat the drawn verifier as auditor: a coalition holding every seat loses to it in arbitration', () => {
    let s = committed(1_000_000, badResult)
    s = applyChallenge(s, challenge(commit(s1, badResult).message.commitment), 20, timing)
    assert.equal(s.audit?.stage, 'audit')
    assert.deepEqual(s.seats, [s1, s2, s3, v])
    assert.equal(s.quorum, 3)
    s = applyCommit(s, commit(v), 30, timing)
    for (const e of [s1, s2, s3]) s = applyReveal(s, reveal(e, badResult), 40, timing)
    s = applyReveal(s, reveal(v), 41, timing)
    assert.equal(s.phase, 'dispute', 'three unanimous seats against their auditor are a dispute, not a verdict')
    s = openArbitration(s, seatsAmong(s, ranking, 4), 45, timing)
    assert.deepEqual(s.arbitration?.arbiters, [n1, n2, n3, n4])
    for (const e of [n1, n2, n3, n4]) s = applyCommit(s, commit(e), 50, timing)
    for (const e of [n1, n2, n3, n4]) s = applyReveal(s, reveal(e), 60, timing)
    assert.equal(s.verdict?.outcome, 'verified')
    assert.equal(s.verdict?.resultHash, goodResult)
    assert.deepEqual(s.verdict?.dissenters, [s1, s2, s3])
    assert.ok(!s.verdict?.dissenters.includes(v), 'the honest auditor is never a dissenter')
  })

  it('decide nothing when the drawn auditor never reports: the seats alone cannot skip their audit', () => {
    let s = committed(1_000_000)
    s = applyChallenge(s, challenge(commit(s1).message.commitment), 20, timing)
    s = advanceTask(s, 20 + timing.commitWindowMs, timing)
    assert.equal(s.phase, 'reveal', 'no backup stands in for the auditor')
    for (const e of [s1, s2, s3]) s = applyReveal(s, reveal(e), 30, timing)
    assert.equal(s.verdict?.outcome, 'unresolved')
    assert.ok(s.missedCommit.includes(v))
  })

  it('let a late challenge decide while the forced audit is still committing, so that views agree', () => {
    // Here the verifier's deadline passed first: n1 was seated to audit and is running the task.
    const forced = advanceTask(committed(1), 10 + timing.commitWindowMs, timing)
    assert.deepEqual(forced.seats, [s1, s2, s3, n1])
    // The challenge arrives: it spares the seats, as it did on nodes that took it in time.
    const spared = applyChallenge(forced, challenge(commit(s1).message.commitment), 1_030, timing)
    assert.equal(spared.phase, 'reveal')
    assert.deepEqual(spared.seats, [s1, s2, s3])
    assert.ok(!spared.missedCommit.includes(v), 'the verifier was late, not silent')
    // Once the forced audit committed, the reveals have begun: a later challenge changes nothing.
    const committedAudit = applyCommit(forced, commit(n1), 1_020, timing)
    assert.throws(() => applyChallenge(committedAudit, challenge(commit(s1).message.commitment), 1_030, timing), ChallengeRejectedError)
    // One that calls the audit seats the verifier as auditor instead of n1.
    let drawn = applyChallenge(advanceTask(committed(1_000_000), 10 + timing.commitWindowMs, timing), challenge(commit(s1).message.commitment), 1_030, timing)
    assert.deepEqual(drawn.seats, [s1, s2, s3, v])
    assert.equal(drawn.audit?.drawn, true)
    drawn = applyCommit(drawn, commit(v), 1_040, timing)
    assert.equal(drawn.phase, 'reveal')
  })

  it('skip the audit on a network with no node left to verify', () => {
    let s = openTask({ taskId, spec: makeSpec({ policy: policy(1_000_000) }), ranking: [s1, s2, s3], timing, now: 0 })
    for (const e of [s1, s2, s3]) s = applyCommit(s, commit(e), 10, timing)
    assert.equal(s.phase, 'reveal', 'no verifier to wait for')
    for (const e of [s1, s2]) s = applyReveal(s, reveal(e), 20, timing)
    s = advanceTask(s, 10 + timing.revealWindowMs, timing)
    assert.equal(s.verdict?.outcome, 'verified')
  })

  it('audit anyway when the verifier stays silent: the next node audits', () => {
    let s = advanceTask(committed(1), 10 + timing.commitWindowMs, timing)
    assert.equal(s.audit?.stage, 'audit')
    assert.deepEqual(s.seats, [s1, s2, s3, n1])
    assert.ok(s.missedCommit.includes(v))
    s = applyCommit(s, commit(n1), 20, timing)
    for (const e of [s1, s2, s3, n1]) s = applyReveal(s, reveal(e), 30, timing)
    assert.deepEqual(s.verdict?.executors, [s1, s2, s3, n1])
  })
})

describe('certificates of audited replicated tasks', () => {
  const [a1, a2, a3, verifier] = accounts as [(typeof accounts)[0], (typeof accounts)[0], (typeof accounts)[0], (typeof accounts)[0]]
  const check = (certificate: TaskCertificate) =>
    checkTaskCertificate({ certificate, domain: devnetDomain, rankingOf: rankedAs(ranking), anchorOf: instantAnchorOf, arbitrationSeatsOf: arbitratedAs(ranking), verify: isSignedBy })
  /** Certificates of three agreeing seats and, unless left out, the verifier's audit of `audit` (with its challenge). */
  async function audited(seats: Hex, audit: Hex, nonce: bigint) {
    const spec = { policy: policy(500_000), nonce }
    const { certificate, taskId: id } = await certify([...[a1, a2, a3].map((executor) => ({ executor, resultHash: seats })), { executor: verifier, resultHash: audit }], spec)
    const challenged = await signChallenge(verifier, vrfOf(v), { taskId: id, commitment: certificate.commits[0]!.message.commitment }, devnetDomain)
    return { certificate, taskId: id, challenged, calls: isAudited(auditDrawOf(challenged)!, 500_000) }
  }

  it('need the drawn auditor: leaving out its dissent or its challenge never verifies the seats', async () => {
    let found = 0
    for (let nonce = 1n; found < 2 && nonce < 64n; nonce++) {
      const { certificate, challenged, calls } = await audited(badResult, goodResult, nonce)
      const withoutAudit: TaskCertificate = { ...certificate, commits: certificate.commits.slice(0, 3), reveals: certificate.reveals.slice(0, 3) }
      if (calls) {
        // The aggregator drops the auditor's disagreeing commit and reveal but keeps the challenge: no verdict.
        const dropped = await check({ ...withoutAudit, challenge: challenged })
        assert.ok(dropped.kind === 'valid' && dropped.verdict.outcome === 'unresolved')
        // With the audit, the seats and their auditor disagree: a dispute, undecided until arbitrated.
        const whole = await check({ ...certificate, challenge: challenged })
        assert.ok(whole.kind === 'valid' && whole.verdict.outcome === 'unresolved')
      } else {
        // A challenge that spares the seats verifies them at the policy's quorum, with no room for a fourth commit.
        const spared = await check({ ...withoutAudit, challenge: challenged })
        assert.ok(spared.kind === 'valid' && spared.verdict.outcome === 'verified' && spared.quorum === 2)
        const extra = await check({ ...certificate, challenge: challenged })
        assert.equal(extra.kind === 'reject' ? extra.code : 'valid', 'CERT_TOO_MANY_SEATS')
      }
      // Dropping the challenge too: an audit is then owed, and three reveals meet a quorum of 3 only
      // with the audit the members saw (batchCheck objects to the omission, `omits-challenge`).
      const bare = await check(withoutAudit)
      assert.ok(bare.kind === 'valid' && bare.quorum === 3)
      found += calls ? 1 : 0
    }
    assert.equal(found, 2, 'two audited draws among the nonces tried')
  })

  it('refuse a challenge from anyone but the designated verifier, or of another commitment', async () => {
    const { certificate, taskId: id } = await audited(goodResult, goodResult, 1n)
    const seatsOnly: TaskCertificate = { ...certificate, commits: certificate.commits.slice(0, 3), reveals: certificate.reveals.slice(0, 3) }
    const codeOf = async (c: SignedChallenge) => {
      const r = await check({ ...seatsOnly, challenge: c })
      return r.kind === 'reject' ? r.code : 'valid'
    }
    const n1Account = accounts[4]!
    assert.equal(await codeOf(await signChallenge(n1Account, vrfOf(n1), { taskId: id, commitment: certificate.commits[0]!.message.commitment }, devnetDomain)), 'CERT_BAD_CHALLENGE')
    assert.equal(await codeOf(await signChallenge(verifier, vrfOf(v), { taskId: id, commitment: certificate.commits[1]!.message.commitment }, devnetDomain)), 'CERT_BAD_CHALLENGE')
    // A task without an audit rate has nothing to challenge.
    const plain = await certify([a1, a2, a3].map((executor) => ({ executor, resultHash: goodResult })), { nonce: 1n })
    const stray = await signChallenge(verifier, vrfOf(v), { taskId: plain.taskId, commitment: plain.certificate.commits[0]!.message.commitment }, devnetDomain)
    const r = await check({ ...plain.certificate, challenge: stray })
    assert.equal(r.kind === 'reject' ? r.code : 'valid', 'CERT_BAD_CHALLENGE')
  })

  it('are objected to by a member that took the challenge the proposal leaves out', async () => {
    // The aggregator drops an audit-calling challenge and the auditor's dissent, and claims the
    // seats' result at the quorum an owed audit asks for: members that took the challenge object.
    for (let nonce = 1n; nonce < 64n; nonce++) {
      const { certificate, challenged, calls } = await audited(badResult, goodResult, nonce)
      if (!calls) continue
      const certifying = { domain: devnetDomain, verify: isSignedBy, epoch: certificate.spec.message.epoch, rankingOf: rankedAs(ranking), anchorOf: instantAnchorOf, arbitrationSeatsOf: arbitratedAs(ranking) }
      const held = { ...certificate, challenge: challenged }
      const { tasks } = await certifyTasks([held], certifying)
      const own = [{ certificate: held, verdict: tasks[0]!.verdict }]
      const forged: TaskCertificate = { ...certificate, commits: certificate.commits.slice(0, 3), reveals: certificate.reveals.slice(0, 3) }
      const [claimed] = (await certifyTasks([forged], certifying)).tasks
      assert.equal(claimed!.verdict.outcome, 'verified', 'alone, the forged certificate proves the wrong result')
      const proposal = { epoch: certifying.epoch, previous: new Map(), tasks: [{ certificate: forged, verdict: claimed!.verdict }] }
      const result = await findBatchObjection({ proposal, own, ...certifying })
      assert.equal('objection' in result ? result.objection.reason : null, 'omits-challenge')
      return
    }
    assert.fail('no audited draw among the nonces tried')
  })
})
