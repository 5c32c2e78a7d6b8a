import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { numberToHex, zeroHash } from 'viem'
import { arbitratedAs, badResult, certify, certifyDisputeOfFive, goodResult, instantAnchorOf, rankedAs, sealedPlay, withSeatHiddenInArbitration } from '../../test/helpers/certificates.ts'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { certifyTasks } from '../core/batchCheck.ts'
import type { DecidedTask } from '../core/batchCheck.ts'
import type { TaskCertificate } from '../core/certificate.ts'
import { devnetDomain, hashTaskSpec } from '../core/eip712.ts'
import { encodeEpochProposal } from '../core/epochProposal.ts'
import type { ProtocolMessage } from '../core/messages.ts'
import { isSignedBy } from '../core/signing.ts'
import type { Address } from '../core/types.ts'
import { createMemoryBlobStore } from '../store/memory/createMemoryStores.ts'
import { createEvidencePool } from './evidencePool.ts'
import { silentLogger } from './logger.ts'

const [a, b, c, backup] = ['a', 'b', 'c', 'backup'].map((l) => testAccount(`pool-${l}`))
const member = testAccount('pool-member')

function poolWith({ decided = [], known = new Set<string>(), ranking = [a!, b!, c!, backup!].map((x) => x.address) }: { decided?: DecidedTask[]; known?: Set<string>; ranking?: Address[] }) {
  const served = createMemoryBlobStore()
  const published: ProtocolMessage[] = []
  const rejected: unknown[] = []
  const parameters = { domain: devnetDomain, verify: isSignedBy, epoch: 0n, rankingOf: rankedAs(ranking), anchorOf: instantAnchorOf, arbitrationSeatsOf: arbitratedAs(ranking) }
  const pool = createEvidencePool({
    node: { decidedTasks: () => decided },
    account: member,
    store: { getSpec: (taskId) => (known.has(taskId) ? decided[0]?.certificate.spec : undefined) },
    network: { fetchBlob: async (cid) => served.get(cid) ?? Promise.reject(new Error('no peer has it')) },
    blobs: createMemoryBlobStore(),
    domain: devnetDomain,
    certifying: async () => parameters,
    publish: async (message) => void published.push(message),
    isSettled: () => false,
    reject: (error) => void rejected.push(error),
    log: silentLogger,
    maxBytes: 1 << 20,
  })
  /** Serves certificates as a member's evidence blob and hands the pool its message. */
  const offer = async (certificates: readonly TaskCertificate[]) => {
    // The blob's verdicts are claims nobody reads: the certificates speak for themselves.
    const verdict = (certificate: TaskCertificate) => ({ taskId: hashTaskSpec(certificate.spec.message, devnetDomain), outcome: 'unresolved' as const, resultHash: zeroHash, executors: [], dissenters: [] })
    const cid = served.put(encodeEpochProposal({ epoch: 0n, previous: new Map(), tasks: certificates.map((certificate) => ({ certificate, verdict: verdict(certificate) })) }))
    await pool.take({ message: { epoch: 0n, round: 0, tasks: cid }, signer: a!.address, signature: `0x${'00'.repeat(65)}` })
  }
  return { pool, published, rejected, parameters, offer }
}

describe('evidence pool', () => {
  it('merges the reveals an objector holds into this node’s certificate, and proposes the tasks only the evidence holds', async () => {
    const { certificate: whole } = await certify([a!, b!, c!].map((executor) => ({ executor, resultHash: goodResult })))
    const { certificate: other } = await certify([a!, b!].map((executor) => ({ executor, resultHash: goodResult })), { nonce: 7n })
    const mine = { ...whole, reveals: whole.reveals.slice(0, 2) }
    const [decided] = (await certifyTasks([mine], poolWith({}).parameters)).tasks.map((t): DecidedTask => ({ certificate: t.certificate, verdict: t.verdict }))
    const { pool, rejected, parameters, offer } = poolWith({ decided: [decided!] })
    await offer([whole, other])
    assert.deepEqual(rejected, [])
    assert.equal(pool.stats().taken, 2)
    const candidates = pool.candidates(0n, parameters)
    assert.equal(candidates.length, 2, 'its own task and the one it never decided')
    const { tasks } = await certifyTasks(candidates, parameters)
    assert.deepEqual(tasks[0]!.verdict.executors, [a!, b!, c!].map((x) => x.address), 'c’s reveal merged: no withholder')
    assert.equal(tasks[0]!.withheld?.length, 0)
    assert.deepEqual(tasks[1]!.certificate, other)
    // The same evidence again adds nothing and is not kept twice.
    await offer([whole, other])
    assert.equal(pool.stats().taken, 2)
  })

  it('keeps nothing from evidence that does not check, and counts the refusal', async () => {
    const { certificate } = await certify([a!, b!].map((executor) => ({ executor, resultHash: goodResult })))
    const { pool, rejected, offer, parameters } = poolWith({ ranking: [b!.address, c!.address] })
    await offer([certificate])
    assert.equal(rejected.length, 1, 'a certificate counting an unranked signer')
    assert.deepEqual(pool.candidates(0n, parameters), [])
  })

  it('never keeps a backup-seated task whose spec this node never saw: a coalition could stall every round with it', async () => {
    // Only the backup committed (the first seats never saw the spec): valid, but nobody here can tell a seat was skipped.
    const { certificate } = await certify([{ executor: backup!, resultHash: goodResult }], { policy: { kind: 'replicate', k: 1, quorum: 1 } })
    const { pool, parameters } = poolWith({})
    const { tasks } = await certifyTasks([certificate], parameters)
    pool.keepChecked(0n, tasks, parameters.rankingOf)
    assert.deepEqual(pool.candidates(0n, parameters), [])
    assert.equal(pool.stats().taken, 0)
  })

  it('leaves out a task it never decided whose kept certificates disagree: a colluder’s reveals kept back from everyone cannot outvote the public ones', async () => {
    // a and b collude and hold a quorum of the seats: they withheld their reveals of a lie from
    // everyone, then publish them as evidence. The honest view holds only c's reveal.
    const plays = [
      { executor: a!, resultHash: badResult },
      { executor: b!, resultHash: badResult },
      { executor: c!, resultHash: goodResult },
    ]
    const { certificate: coalition } = await certify(plays.map((p, i) => ({ ...p, withhold: i === 2 })))
    const { certificate: honest } = await certify(plays.map((p, i) => ({ ...p, withhold: i !== 2 })))
    const { pool, parameters, offer } = poolWith({})
    await offer([coalition])
    await offer([honest])
    assert.equal(pool.stats().taken, 2)
    assert.deepEqual(pool.candidates(0n, parameters), [], 'left to an aggregator that decided it itself')
    // One that did decide it proposes its own view, to which the coalition's reveals add nothing.
    const { tasks } = await certifyTasks([honest], parameters)
    const decider = poolWith({ decided: [{ certificate: honest, verdict: tasks[0]!.verdict }] })
    await decider.offer([coalition])
    const [alternatives] = decider.pool.candidates(0n, parameters)
    const proposed = await certifyTasks([alternatives!], parameters)
    assert.deepEqual(proposed.tasks[0]!.certificate, honest)
    assert.deepEqual(proposed.tasks[0]!.withheld, [a!.address, b!.address])
  })

  it('counts a late primary’s commit as an arbiter’s where the backup took its seat here: its dissent is judged', async () => {
    // Here c's commit came after its deadline, the backup took its seat, b lied, and e arbitrated
    // with c (whose one commit, sent for its seat, was not counted). Elsewhere c's commit counted,
    // c lied too, and the backup and e arbitrated. Members holding that view object to any
    // certificate that hides c's dissent (`omits-commit`); the merge counts c among the arbiters.
    const e = testAccount('pool-e')
    const ranking = [a!, b!, c!, backup!, e].map((x) => x.address)
    const { primary: theirs, backupSeated } = await certifyDisputeOfFive([a!, b!, c!, backup!, e], [goodResult, badResult, badResult, goodResult, goodResult])
    const mine = backupSeated()
    const [decided] = (await certifyTasks([mine], poolWith({ ranking }).parameters)).tasks.map((t): DecidedTask => ({ certificate: t.certificate, verdict: t.verdict }))
    assert.deepEqual(decided!.verdict.dissenters, [b!.address])
    const { pool, parameters, offer } = poolWith({ decided: [decided!], ranking })
    await offer([theirs])
    const [alternatives] = pool.candidates(0n, parameters)
    const [proposed] = (await certifyTasks([alternatives!], parameters)).tasks
    assert.equal(proposed!.verdict.outcome, 'verified')
    assert.deepEqual(proposed!.verdict.dissenters, [b!.address, c!.address], 'the late liar is judged by the dispute it joined')
  })

  it('merges each holder’s evidence on its own too: one certificate that cannot be merged does not cost the others', async () => {
    // This node missed c's reveal; an honest member's evidence holds it. A coalition publishes a
    // certificate that checks alone (the backup's dissent in c's seat, c's commit and reveal as an
    // arbiter's) and that no merge with the honest evidence can take: folded together they prove
    // nothing, and the node would propose c as a withholder, to which every holder of c's reveal objects.
    const { certificate: whole, taskId } = await certify([a!, b!, c!].map((executor) => ({ executor, resultHash: goodResult })))
    const mine = { ...whole, reveals: whole.reveals.slice(0, 2) }
    const [decided] = (await certifyTasks([mine], poolWith({}).parameters)).tasks.map((t): DecidedTask => ({ certificate: t.certificate, verdict: t.verdict }))
    const lie = await sealedPlay(taskId, { executor: backup!, resultHash: badResult }, numberToHex(55, { size: 32 }))
    const poison = withSeatHiddenInArbitration(whole, lie)
    const { pool, parameters, offer, rejected } = poolWith({ decided: [decided!], known: new Set([taskId]) })
    await offer([poison])
    await offer([whole])
    assert.deepEqual([rejected, pool.stats().taken], [[], 2], 'both certificates check and are kept')
    const [proposed] = (await certifyTasks(pool.candidates(0n, parameters), parameters)).tasks
    assert.equal(proposed!.verdict.outcome, 'verified')
    assert.deepEqual(proposed!.withheld, [], 'c’s reveal merged from the honest evidence')
  })

  it('publishes, for a refused proposal, its own certificates of the tasks the objections name that evidence answers', async () => {
    const { certificate } = await certify([a!, b!].map((executor) => ({ executor, resultHash: goodResult })))
    const { pool, published, parameters } = poolWith({})
    const [task] = (await certifyTasks([certificate], parameters)).tasks
    const withTask = poolWith({ decided: [{ certificate, verdict: task!.verdict }] })
    await withTask.pool.publish(0n, 3, [{ taskId: task!.verdict.taskId, reason: 'unknown-task' }])
    assert.equal(withTask.published.length, 0, 'an unknown task is not answered by evidence')
    await withTask.pool.publish(0n, 3, [{ taskId: task!.verdict.taskId, reason: 'missing-task' }])
    assert.equal(withTask.published.length, 1)
    const message = withTask.published[0]!
    assert.ok(message.type === 'evidence' && message.message.round === 3 && message.signer === member.address)
    assert.equal(withTask.pool.stats().published, 1)
    assert.deepEqual([published, pool.stats().published], [[], 0])
  })
})
