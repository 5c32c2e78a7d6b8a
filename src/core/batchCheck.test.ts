import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { arbitratedAs, badResult, certify, certifyDisputeOfFive, goodResult, instantAnchorOf, rankedAs, sealedPlay, withSeatHiddenInArbitration } from '../../test/helpers/certificates.ts'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { certifyTasks, findBatchObjection, isAnsweredByEvidence } from './batchCheck.ts'
import type { DecidedTask } from './batchCheck.ts'
import { devnetDomain } from './eip712.ts'
import type { EpochProposal } from './epochProposal.ts'
import { isSignedBy } from './signing.ts'
import type { TaskCertificate } from './certificate.ts'
import { numberToHex } from 'viem'

const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((l) => testAccount(`batch-${l}`))
const ranking = [a!, b!, c!, d!].map((x) => x.address)
const certifying = { domain: devnetDomain, verify: isSignedBy, epoch: 0n, rankingOf: rankedAs(ranking), anchorOf: instantAnchorOf, arbitrationSeatsOf: arbitratedAs(ranking) }

async function scenario() {
  // A 2–1 split, ruled by its arbiter d.
  const { certificate } = await certify(
    [
      { executor: a!, resultHash: goodResult },
      { executor: b!, resultHash: goodResult },
      { executor: c!, resultHash: badResult },
    ],
    {},
    [{ executor: d!, resultHash: goodResult }],
  )
  const { tasks } = await certifyTasks([certificate], certifying)
  const task = tasks[0]!
  const own: DecidedTask[] = [{ certificate, verdict: task.verdict }]
  const proposal = (overrides: Partial<EpochProposal> = {}): EpochProposal => ({ epoch: 0n, previous: new Map(), tasks: [{ certificate, verdict: task.verdict }], ...overrides })
  return { certificate, task, own, proposal }
}

const reasonOf = (result: Awaited<ReturnType<typeof findBatchObjection>>) => ('objection' in result ? result.objection.reason : null)

describe('findBatchObjection', () => {
  it('signs a proposal whose certificates prove its verdicts, even for tasks this member never saw', async () => {
    const { task, own, proposal } = await scenario()
    const result = await findBatchObjection({ proposal: proposal(), own, ...certifying })
    assert.ok('tasks' in result)
    assert.deepEqual(result.tasks[0]!.verdict.dissenters, [c!.address])
    assert.equal(result.tasks[0]!.fee, task.fee)
    assert.equal(reasonOf(await findBatchObjection({ proposal: proposal(), own: [], ...certifying })), null)
  })

  it('objects to framed executors, duplicate tasks, omitted evidence and missing tasks', async () => {
    const { certificate, task, own, proposal } = await scenario()
    const framed = { ...task.verdict, resultHash: badResult, executors: [c!.address], dissenters: [a!.address, b!.address] }
    assert.equal(reasonOf(await findBatchObjection({ proposal: proposal({ tasks: [{ certificate, verdict: framed }] }), own, ...certifying })), 'CERT_VERDICT_MISMATCH')
    const twice = proposal({ tasks: [...proposal().tasks, ...proposal().tasks] })
    assert.equal(reasonOf(await findBatchObjection({ proposal: twice, own, ...certifying })), 'duplicate-task')
    // Leaving out c's reveal (and the arbitration it caused) would penalise c as a withholder;
    // leaving out its commit would unseat it; leaving out the arbitration would spare c the slash.
    const { arbitration: _arbitration, ...unarbitrated } = certificate
    const noReveal = { ...unarbitrated, reveals: certificate.reveals.slice(0, 2) }
    const withheldVerdict = { ...task.verdict, executors: [a!.address, b!.address], dissenters: [] }
    assert.equal(reasonOf(await findBatchObjection({ proposal: proposal({ tasks: [{ certificate: noReveal, verdict: withheldVerdict }] }), own, ...certifying })), 'omits-reveal')
    const spared = { ...task.verdict, outcome: 'unresolved' as const, resultHash: `0x${'0'.repeat(64)}` as const, executors: [], dissenters: [] }
    assert.equal(reasonOf(await findBatchObjection({ proposal: proposal({ tasks: [{ certificate: unarbitrated, verdict: spared }] }), own, ...certifying })), 'omits-commit')
    const noCommit = { ...unarbitrated, commits: certificate.commits.slice(0, 2), reveals: certificate.reveals.slice(0, 2) }
    assert.equal(reasonOf(await findBatchObjection({ proposal: proposal({ tasks: [{ certificate: noCommit, verdict: withheldVerdict }] }), own, ...certifying })), 'omits-commit')
    // A commit that could not have held a seat (all k filled by better-ranked ones) is no reason to object.
    const { certificate: wider } = await certify([
      { executor: a!, resultHash: goodResult },
      { executor: b!, resultHash: goodResult },
      { executor: c!, resultHash: goodResult },
    ])
    const backup = testAccount('batch-backup')
    const withBackup = { ...certifying, rankingOf: rankedAs([...ranking, backup.address]) }
    // The same spec (the fixtures' defaults): the backup's commit is for the same task.
    const { certificate: late } = await certify([{ executor: backup, resultHash: goodResult }])
    const fullProposal = proposal({ tasks: [{ certificate: wider, verdict: { ...task.verdict, executors: [a!.address, b!.address, c!.address], dissenters: [] } }] })
    const ownWithWorseCommit: DecidedTask[] = [{ certificate: { ...wider, commits: [...wider.commits, ...late.commits] }, verdict: task.verdict }]
    assert.equal(reasonOf(await findBatchObjection({ proposal: fullProposal, own: ownWithWorseCommit, ...withBackup })), null)
    // A member that never accepted the spec vouches for first seats only: a backup's commit could
    // have been chosen over a better-ranked one it never saw.
    assert.equal(reasonOf(await findBatchObjection({ proposal: proposal(), own: [], knows: () => false, ...certifying })), null)
    const backupSeated = { ...wider, commits: [...wider.commits.slice(0, 2), ...late.commits], reveals: [...wider.reveals.slice(0, 2), ...late.reveals] }
    const backupVerdict = { ...task.verdict, executors: [a!.address, b!.address, backup.address], dissenters: [] }
    const unseen = proposal({ tasks: [{ certificate: backupSeated, verdict: backupVerdict }] })
    assert.equal(reasonOf(await findBatchObjection({ proposal: unseen, own: [], knows: () => false, ...withBackup })), 'unknown-task')
    assert.equal(reasonOf(await findBatchObjection({ proposal: unseen, own: [], ...withBackup })), null)
    // Nor is a better-ranked commit whose reveal agrees with the verdict: the aggregator seated the
    // backup (the primary's commit came late there), this member the primary. Only who is paid differs.
    const backupProposal = proposal({ tasks: [{ certificate: backupSeated, verdict: backupVerdict }] })
    assert.equal(reasonOf(await findBatchObjection({ proposal: backupProposal, own: [{ certificate: wider, verdict: task.verdict }], ...withBackup })), null)
    // Had the primary revealed a dissent, leaving it out would hide it.
    const { certificate: dissentingPrimary } = await certify([
      { executor: a!, resultHash: goodResult },
      { executor: b!, resultHash: goodResult },
      { executor: c!, resultHash: badResult },
    ])
    assert.equal(reasonOf(await findBatchObjection({ proposal: backupProposal, own: [{ certificate: dissentingPrimary, verdict: task.verdict }], ...withBackup })), 'omits-commit')
    // A task this member holds is left out: an objection, unless it crossed the epoch boundary.
    assert.equal(reasonOf(await findBatchObjection({ proposal: proposal({ tasks: [] }), own, ...certifying })), 'missing-task')
    assert.equal(reasonOf(await findBatchObjection({ proposal: proposal({ tasks: [] }), own: [{ ...own[0]!, mayOmit: true }], ...certifying })), null)
  })
})

describe('evidence for a refused proposal', () => {
  it('reports every objection, which of them the member’s certificates answer, and the tasks that check all the same', async () => {
    const { certificate: whole } = await certify([a!, b!, c!].map((executor) => ({ executor, resultHash: goodResult })))
    const { certificate: other } = await certify([{ executor: a!, resultHash: goodResult }, { executor: b!, resultHash: goodResult }], { nonce: 2n })
    const { tasks } = await certifyTasks([whole, other], certifying)
    const [held, missing] = tasks.map((t): DecidedTask => ({ certificate: t.certificate, verdict: t.verdict }))
    // The proposal leaves out c's reveal of one task and the whole of the other.
    const short = { ...whole, reveals: whole.reveals.slice(0, 2) }
    const { tasks: proposed } = await certifyTasks([short], certifying)
    const result = await findBatchObjection({ proposal: { epoch: 0n, previous: new Map(), tasks: proposed }, own: [held!, missing!], ...certifying })
    assert.ok('objections' in result)
    assert.deepEqual(
      result.objections.map((o) => o.reason),
      ['omits-reveal', 'missing-task'],
    )
    assert.deepEqual(result.objections.map((o) => isAnsweredByEvidence(o.reason)), [true, true])
    assert.deepEqual(result.certified.map((t) => t.verdict.taskId), [held!.verdict.taskId], 'the short certificate still proves its verdict')
    assert.equal(isAnsweredByEvidence('unknown-task'), false)
    assert.equal(isAnsweredByEvidence('CERT_BAD_SEAL'), false)
  })

  it('certifies a task from its first alternative that proves something, never trading a decided verdict for an unresolved one', async () => {
    const { certificate: decided } = await certify([a!, b!, c!].map((executor) => ({ executor, resultHash: goodResult })))
    const { certificate: unresolved } = await certify([a!, b!, c!].map((executor) => ({ executor, resultHash: goodResult, withhold: true })))
    const forged = { ...decided, reveals: [...decided.reveals].reverse().map((r, i) => (i === 0 ? { ...r, message: { ...r.message, resultHash: badResult } } : r)) }
    // A merge that proves nothing gives way to the certificate it was merged into.
    const first = await certifyTasks([[forged, decided]], certifying)
    assert.deepEqual([first.tasks.length, first.refused.length], [1, 0])
    assert.equal(first.tasks[0]!.certificate, decided)
    // An unresolved merge gives way to a later alternative that decides the task (of the same spec here: same task).
    const sameTask = { ...unresolved, spec: decided.spec, commits: decided.commits, reveals: [] }
    const second = await certifyTasks([[sameTask, decided]], certifying)
    assert.equal(second.tasks[0]!.verdict.outcome, 'verified')
    // With nothing that checks, the task is refused with the first reason.
    const third = await certifyTasks([[forged]], certifying)
    assert.deepEqual([third.tasks.length, third.refused.map((r) => r.reason)], [0, ['CERT_REVEAL_MISMATCH']])
  })

  it('takes a node counted among the seats there and the arbiters here as counted: views that split over one late commit still sign', async () => {
    // A dispute among five nodes. This member counted a, b and c in the seats (b lied) and d and e
    // as arbiters; the aggregator saw c's commit late, seated the backup d, and counted c as an
    // arbiter instead (its one commit, whatever place it was made for). Nothing is left out: every
    // commit and reveal this member holds is counted, and the ruling is a majority of all of them.
    const e = testAccount('batch-e')
    const five = [a!, b!, c!, d!, e].map((x) => x.address)
    const fiveCertifying = { ...certifying, rankingOf: rankedAs(five), arbitrationSeatsOf: arbitratedAs(five) }
    const { primary: held, backupSeated } = await certifyDisputeOfFive([a!, b!, c!, d!, e], [goodResult, badResult, goodResult, goodResult, goodResult])
    const theirs = backupSeated(true)
    const [mine, proposed] = await Promise.all([certifyTasks([held], fiveCertifying), certifyTasks([theirs], fiveCertifying)])
    const own: DecidedTask[] = [{ certificate: held, verdict: mine.tasks[0]!.verdict }]
    const result = await findBatchObjection({ proposal: { epoch: 0n, previous: new Map(), tasks: proposed.tasks }, own, ...fiveCertifying })
    assert.equal(reasonOf(result), null)
    // Leaving out d's reveal, which this member holds as an arbiter's, still makes d a withholder: objected to.
    const short = { ...theirs, reveals: theirs.reveals.slice(0, 2) }
    const { tasks: shortTasks } = await certifyTasks([short], fiveCertifying)
    assert.equal(reasonOf(await findBatchObjection({ proposal: { epoch: 0n, previous: new Map(), tasks: shortTasks }, own, ...fiveCertifying })), 'omits-reveal')
  })

  it('counts a commit in an arbitration that rules nothing only for a member that saw the dispute: a forged one cannot hide an honest seat to void its task', async () => {
    // The attack (an aggregator of the coalition): a, b and c agree, and every member holds that
    // verified certificate. The backup d, a colluder, signs a commit and a reveal of a wrong result
    // after the fact; the aggregator seats d in c's place and puts c's commit and reveal in an
    // "arbitration" nobody held. Among seven nodes (a, b, d disputed; c and three more arbiters: four
    // votes rule) it checks and rules nothing: the task would end unresolved, the honest seats
    // unpaid and d unpunished.
    const seven = [a!, b!, c!, d!, ...['x', 'y', 'z'].map((l) => testAccount(`batch-${l}`))].map((x) => x.address)
    const sevenCertifying = { ...certifying, rankingOf: rankedAs(seven), arbitrationSeatsOf: arbitratedAs(seven) }
    const { certificate: held, taskId } = await certify([a!, b!, c!].map((executor) => ({ executor, resultHash: goodResult })))
    const mine = await certifyTasks([held], sevenCertifying)
    const own: DecidedTask[] = [{ certificate: held, verdict: mine.tasks[0]!.verdict }]
    const lie = await sealedPlay(taskId, { executor: d!, resultHash: badResult }, numberToHex(99, { size: 32 }))
    const forged = withSeatHiddenInArbitration(held, lie)
    const proposed = await certifyTasks([forged], sevenCertifying)
    assert.deepEqual([proposed.refused, proposed.tasks[0]!.verdict.outcome], [[], 'unresolved'], 'the forged certificate checks')
    const result = await findBatchObjection({ proposal: { epoch: 0n, previous: new Map(), tasks: proposed.tasks }, own, ...sevenCertifying })
    assert.equal(reasonOf(result), 'omits-commit', 'the member holding c’s seat commit objects')
    // Nothing was lost: the member's own certificate still proves the verified task.
    assert.equal((await certifyTasks([held], sevenCertifying)).tasks[0]!.verdict.outcome, 'verified')
  })

  it('does not split over a node that signed two commits for one task: the reveal that opens the other one shows it equivocated', async () => {
    // c sends one commit to some nodes and another to the rest (each keeps the first it gets and
    // refuses the second), then reveals the first. Here the first counts and c revealed; there the
    // second counts and c withheld. This member's reveal of c does not open the commit that
    // proposal counts: c signed both, so c withheld there, and the proposal stands.
    const { certificate: here, taskId } = await certify([a!, b!, c!].map((executor) => ({ executor, resultHash: goodResult })))
    const second = await sealedPlay(taskId, { executor: c!, resultHash: goodResult }, numberToHex(77, { size: 32 }))
    const there: TaskCertificate = { ...here, commits: [here.commits[0]!, here.commits[1]!, second.commit], reveals: here.reveals.slice(0, 2) }
    const [mine, proposed] = await Promise.all([certifyTasks([here], certifying), certifyTasks([there], certifying)])
    assert.deepEqual(proposed.tasks[0]!.withheld, [c!.address], 'there, c withheld and is penalised for it')
    const own: DecidedTask[] = [{ certificate: here, verdict: mine.tasks[0]!.verdict }]
    assert.equal(reasonOf(await findBatchObjection({ proposal: { epoch: 0n, previous: new Map(), tasks: proposed.tasks }, own, ...certifying })), null)
    // A proposal that counts the commit this member holds and leaves out its reveal is still objected to.
    const short = { ...here, reveals: here.reveals.slice(0, 2) }
    const { tasks } = await certifyTasks([short], certifying)
    assert.equal(reasonOf(await findBatchObjection({ proposal: { epoch: 0n, previous: new Map(), tasks }, own, ...certifying })), 'omits-reveal')
  })
})
