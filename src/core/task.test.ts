import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { makeSpec, seatsAmong, testAccount } from '../../test/helpers/fixtures.ts'
import { computeCommitment } from './commit.ts'
import { failureResultHash } from './contentId.ts'
import { CommitRejectedError, RevealRejectedError, SpecRejectedError } from './errors.ts'
import { advanceTask, applyCommit, applyReveal, isAwaitingCommit, isAwaitingReveal, judgeCommit, judgeReveal, mayRevealEarly, nextTaskDeadline, openArbitration, openTask } from './task.ts'
import type { TaskState } from './task.ts'
import type { Address, Hex, ResultStatus, Signed, Commit, Reveal } from './types.ts'

// The state machine trusts that signatures were checked: these tests build Signed<> values directly.
const timing = { commitWindowMs: 1_000, revealWindowMs: 500 }
const accounts = ['e1', 'e2', 'e3', 'b1', 'b2'].map((l) => testAccount(l).address)
const [e1, e2, e3, b1, b2] = accounts as [Address, Address, Address, Address, Address]
const spec = makeSpec({ deadline: 100_000n })
const taskId = keccak256(stringToBytes('task-1'))
const good = keccak256(stringToBytes('good result'))
const bad = keccak256(stringToBytes('bad result'))
const sig = `0x${'11'.repeat(65)}` as Hex

function open(now = 0): TaskState {
  return openTask({ taskId, spec, ranking: accounts, timing, now })
}

function salt(executor: Address): Hex {
  return keccak256(stringToBytes(`salt-${executor}`))
}

function commit(executor: Address, resultHash = good, status: ResultStatus = 'ok'): Signed<Commit> {
  const commitment = computeCommitment({ taskId, status, resultHash, salt: salt(executor), executor })
  return { message: { taskId, commitment }, signer: executor, signature: sig }
}

function reveal(executor: Address, resultHash = good, status: ResultStatus = 'ok'): Signed<Reveal> {
  return { message: { taskId, status, resultHash, salt: salt(executor) }, signer: executor, signature: sig }
}

function commitAll(state: TaskState, executors: Address[], now = 10, hashes: Hex[] = []): TaskState {
  return executors.reduce((s, e, i) => applyCommit(s, commit(e, hashes[i] ?? good), now, timing), state)
}

const rejectsWith = (fn: () => unknown, type: typeof CommitRejectedError | typeof RevealRejectedError, code: string) =>
  assert.throws(fn, (error: unknown) => error instanceof type && (error as { code: string }).code === code)

describe('task state machine: replicate with commit-reveal', () => {
  it('seats the first k of the ranking and verifies when every seat reveals the same result', () => {
    let s = open()
    assert.deepEqual(s.seats, [e1, e2, e3])
    assert.ok(isAwaitingCommit(s, e1) && !isAwaitingCommit(s, b1))
    s = commitAll(s, [e1, e2])
    assert.equal(s.phase, 'commit')
    s = applyCommit(s, commit(e3), 20, timing)
    assert.equal(s.phase, 'reveal')
    assert.equal(s.revealDeadline, 20 + timing.revealWindowMs)
    assert.ok(isAwaitingReveal(s, e1))
    s = applyReveal(s, reveal(e1), 30, timing)
    s = applyReveal(s, reveal(e3), 31, timing)
    s = applyReveal(s, reveal(e2), 32, timing)
    assert.equal(s.phase, 'decided')
    assert.deepEqual(s.verdict, { taskId, outcome: 'verified', resultHash: good, executors: [e1, e2, e3], dissenters: [] })
  })

  it('sends a 2–1 split to arbitration instead of slashing the minority; a majority of all the seats rules and only its losers dissent', () => {
    let s = commitAll(open(), [e1, e2, e3], 10, [bad, bad, good])
    s = applyReveal(s, reveal(e1, bad), 30, timing)
    s = applyReveal(s, reveal(e2, bad), 31, timing)
    s = applyReveal(s, reveal(e3), 32, timing)
    // Two seats against one prove nothing: a coalition that knows its seats lies where it holds two.
    assert.equal(s.phase, 'dispute')
    assert.equal(s.verdict, null)
    assert.equal(advanceTask(s, 5_000, timing).phase, 'dispute', 'a dispute waits for its arbiters, not for a deadline')
    // The arbiters: the holders of the arbitration's seats (here one each, drawn among the nodes that did not commit).
    s = openArbitration(s, seatsAmong(s, accounts, 193), 40, timing)
    assert.deepEqual(s.arbitration, { disputed: [e1, e2, e3], arbiters: [b1, b2], votes: new Map([[e1, 1], [e2, 1], [e3, 1], [b1, 1], [b2, 1]]), quorum: 3 })
    assert.equal(s.phase, 'commit')
    assert.ok(isAwaitingCommit(s, b1) && isAwaitingCommit(s, b2) && !isAwaitingCommit(s, e1))
    rejectsWith(() => applyReveal(s, reveal(e1, bad), 41, timing), RevealRejectedError, 'REVEAL_BEFORE_COMMIT_CLOSE')
    s = applyCommit(s, commit(b1), 50, timing)
    s = applyCommit(s, commit(b2), 51, timing)
    assert.equal(s.phase, 'reveal')
    s = applyReveal(s, reveal(b2), 60, timing)
    s = applyReveal(s, reveal(b1), 61, timing)
    assert.equal(s.phase, 'decided')
    assert.deepEqual(s.verdict, { taskId, outcome: 'verified', resultHash: good, executors: [e3, b1, b2], dissenters: [e1, e2] })
  })

  it('counts votes by the seats each node holds, not by node: more nodes on one side do not outvote more seats on the other', () => {
    // Seats are drawn by stake with replacement, so a node with a larger stake holds more of them;
    // votes are seats, whoever holds them. Here b1 holds three of five seats, b2 one and the
    // committer e3 one: against e1 and e2 (no seats) and b2, three nodes with one vote, e3 and b1
    // hold four, a strict majority.
    let s = commitAll(open(), [e1, e2, e3], 10, [bad, bad, good])
    for (const [i, e] of [e1, e2, e3].entries()) s = applyReveal(s, reveal(e, i < 2 ? bad : good), 30 + i, timing)
    s = openArbitration(s, [b1, b2, b1, e3, b1], 40, timing)
    assert.deepEqual(s.arbitration, { disputed: [e1, e2, e3], arbiters: [b1, b2], votes: new Map([[b1, 3], [b2, 1], [e3, 1]]), quorum: 3 })
    assert.deepEqual(s.seats, [e1, e2, e3, b1, b2], 'only the seat holders that did not commit run the task again')
    s = applyCommit(s, commit(b1), 50, timing)
    s = applyCommit(s, commit(b2, bad), 51, timing)
    s = applyReveal(s, reveal(b2, bad), 60, timing)
    s = applyReveal(s, reveal(b1), 61, timing)
    assert.deepEqual(s.verdict, { taskId, outcome: 'verified', resultHash: good, executors: [e3, b1], dissenters: [e1, e2, b2] })
  })

  it('holds an arbiter’s commit and reveal that come before this node has seen the dispute', () => {
    let s = commitAll(open(), [e1, e2, e3], 10, [bad, bad, good])
    s = applyReveal(s, reveal(e1, bad), 30, timing)
    s = applyReveal(s, reveal(e2, bad), 31, timing)
    // e3's reveal is late here; elsewhere the dispute is already arbitrated by b1.
    assert.deepEqual(judgeCommit(s, commit(b1), 32, timing), { kind: 'hold' })
    assert.deepEqual(judgeReveal(s, reveal(b1), 33, timing), { kind: 'hold' })
    // Once arbitration opens here, both fit.
    s = applyReveal(s, reveal(e3), 34, timing)
    s = openArbitration(s, seatsAmong(s, accounts, 193), 35, timing)
    const committed = judgeCommit(s, commit(b1), 36, timing)
    assert.equal(committed.kind, 'accept')
    // In the first commit phase, a commit from a node the ranking does not hold is still rejected.
    assert.equal(judgeCommit(open(), commit(testAccount('stranger').address), 11, timing).kind, 'reject')
  })

  it('lets an arbiter open its sent commit early only once more than a third of the arbiters revealed', () => {
    let s = commitAll(open(), [e1, e2, e3], 10, [bad, bad, good])
    for (const [e, h] of [[e1, bad], [e2, bad], [e3, good]] as const) s = applyReveal(s, reveal(e, h), 30, timing)
    assert.equal(mayRevealEarly(s, [b1, b2]), false, 'not outside an arbitration')
    s = openArbitration(s, seatsAmong(s, accounts, 193), 40, timing)
    assert.deepEqual(s.arbitration?.arbiters, [b1, b2])
    // With two arbiters one reveal is more than a third; the disputed seats' reveals count for nothing.
    assert.equal(mayRevealEarly(s, [e1, e2, e3]), false)
    assert.equal(mayRevealEarly(s, [b1]), true)
    const six = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((l) => testAccount(l).address)
    let wide = commitAll(openTask({ taskId, spec, ranking: [e1, e2, e3, ...six], timing, now: 0 }), [e1, e2, e3], 10, [bad, bad, good])
    for (const [e, h] of [[e1, bad], [e2, bad], [e3, good]] as const) wide = applyReveal(wide, reveal(e, h), 30, timing)
    wide = openArbitration(wide, seatsAmong(wide, [e1, e2, e3, ...six], 193), 40, timing)
    assert.equal(mayRevealEarly(wide, [six[0]!, six[1]!, e1, e2, e3]), false, 'two of six arbiters and the seats: not yet')
    assert.equal(mayRevealEarly(wide, [six[0]!, six[0]!, six[1]!]), false, 'a repeated signer counts once')
    assert.equal(mayRevealEarly(wide, [six[0]!, six[1]!, six[2]!]), true, 'three of six')
    // Once its commit phase closed here, the node reveals the ordinary way.
    for (const a of six) wide = applyCommit(wide, commit(a), 50, timing)
    assert.equal(wide.phase, 'reveal')
    assert.equal(mayRevealEarly(wide, six), false)
  })

  it('leaves a dispute unresolved, with nobody penalised, when no majority of its seats agrees', () => {
    let s = commitAll(open(), [e1, e2, e3], 10, [bad, bad, good])
    for (const [e, h] of [[e1, bad], [e2, bad], [e3, good]] as const) s = applyReveal(s, reveal(e, h), 30, timing)
    s = openArbitration(s, seatsAmong(s, accounts, 193), 40, timing)
    // One arbiter of two commits; the other's commit window passes, and no backup stands in.
    s = applyCommit(s, commit(b1), 50, timing)
    s = advanceTask(s, 40 + timing.commitWindowMs, timing)
    assert.equal(s.phase, 'reveal')
    s = applyReveal(s, reveal(b1), 60, timing)
    // Two against two of five seats: no strict majority.
    assert.equal(s.phase, 'decided')
    assert.deepEqual(s.verdict, { taskId, outcome: 'unresolved', resultHash: `0x${'0'.repeat(64)}`, executors: [], dissenters: [] })
    // A dispute that cannot be arbitrated before the spec's deadline ends the same way.
    let late = commitAll(open(), [e1, e2, e3], 10, [bad, bad, good])
    for (const [e, h] of [[e1, bad], [e2, bad], [e3, good]] as const) late = applyReveal(late, reveal(e, h), 30, timing)
    late = advanceTask(late, Number(spec.deadline), timing)
    assert.deepEqual(late.verdict?.dissenters, [])
    assert.equal(late.verdict?.outcome, 'unresolved')
  })

  it('rejects a commit from a node that holds no seat', () => {
    rejectsWith(() => applyCommit(open(), commit(b1), 10, timing), CommitRejectedError, 'COMMIT_NOT_ASSIGNED')
    rejectsWith(() => applyCommit(open(), commit(testAccount('stranger').address), 10, timing), CommitRejectedError, 'COMMIT_NOT_ASSIGNED')
  })

  it('rejects a second commit from the same executor, identical or not', () => {
    const s = commitAll(open(), [e1])
    rejectsWith(() => applyCommit(s, commit(e1), 11, timing), CommitRejectedError, 'COMMIT_DUPLICATE')
    rejectsWith(() => applyCommit(s, commit(e1, bad), 11, timing), CommitRejectedError, 'COMMIT_DUPLICATE')
    assert.equal(s.commits.length, 1)
  })

  it('rejects a commit once the commit phase has closed', () => {
    const s = commitAll(open(), [e1, e2, e3])
    assert.equal(s.phase, 'reveal')
    // e1 is seated and committed already; a backup that was never seated is refused as well.
    rejectsWith(() => applyCommit(s, commit(b1), 11, timing), CommitRejectedError, 'COMMIT_PHASE_CLOSED')
  })

  it('rejects a reveal before the commit phase closed, and keeps accepting commits', () => {
    const s = commitAll(open(), [e1, e2])
    rejectsWith(() => applyReveal(s, reveal(e1), 11, timing), RevealRejectedError, 'REVEAL_BEFORE_COMMIT_CLOSE')
    assert.equal(applyCommit(s, commit(e3), 12, timing).phase, 'reveal')
  })

  it('rejects a reveal that does not open its commit', () => {
    const s = commitAll(open(), [e1, e2, e3])
    rejectsWith(() => applyReveal(s, reveal(e1, bad), 11, timing), RevealRejectedError, 'REVEAL_MISMATCH')
    const wrongSalt = { ...reveal(e1), message: { ...reveal(e1).message, salt: salt(e2) } }
    rejectsWith(() => applyReveal(s, wrongSalt, 11, timing), RevealRejectedError, 'REVEAL_MISMATCH')
    const wrongStatus = reveal(e1, good, 'failed')
    rejectsWith(() => applyReveal(s, wrongStatus, 11, timing), RevealRejectedError, 'REVEAL_MISMATCH')
  })

  it('rejects a copied reveal: the commitment binds the executor', () => {
    const s = commitAll(open(), [e1, e2, e3])
    // e2 replays e1's reveal under its own name: the salt and result match e1's commit, not e2's.
    const copied = { ...reveal(e1), signer: e2 }
    rejectsWith(() => applyReveal(s, copied, 11, timing), RevealRejectedError, 'REVEAL_MISMATCH')
  })

  it('rejects a duplicate reveal, a reveal without commit and a reveal after the decision', () => {
    let s = commitAll(open(), [e1, e2, e3])
    s = applyReveal(s, reveal(e1), 11, timing)
    rejectsWith(() => applyReveal(s, reveal(e1), 12, timing), RevealRejectedError, 'REVEAL_DUPLICATE')
    rejectsWith(() => applyReveal(s, reveal(b1), 12, timing), RevealRejectedError, 'REVEAL_WITHOUT_COMMIT')
    s = applyReveal(applyReveal(s, reveal(e2), 12, timing), reveal(e3), 13, timing)
    assert.equal(s.phase, 'decided')
    rejectsWith(() => applyReveal(s, reveal(e1), 14, timing), RevealRejectedError, 'REVEAL_PHASE_CLOSED')
  })

  it('lets backups step in, in rank order, when executors miss the commit deadline', () => {
    let s = commitAll(open(0), [e1])
    assert.equal(nextTaskDeadline(s), 1_000)
    s = advanceTask(s, 1_000, timing)
    assert.deepEqual(s.seats, [e1, b1, b2])
    assert.deepEqual(s.missedCommit, [e2, e3])
    assert.equal(s.commitDeadline, 2_000)
    // A missed executor lost its seat; the backups now hold it.
    rejectsWith(() => applyCommit(s, commit(e2), 1_001, timing), CommitRejectedError, 'COMMIT_NOT_ASSIGNED')
    s = commitAll(s, [b1, b2], 1_100)
    assert.equal(s.phase, 'reveal')
    for (const e of [e1, b1, b2]) s = applyReveal(s, reveal(e), 1_200, timing)
    assert.equal(s.verdict?.outcome, 'verified')
    assert.deepEqual(s.verdict?.executors, [e1, b1, b2])
  })

  it('goes on with the commits it has when backups run out, if they can reach quorum', () => {
    const ranking = [e1, e2, e3]
    let s = openTask({ taskId, spec, ranking, timing, now: 0 })
    s = commitAll(s, [e1, e2])
    s = advanceTask(s, 1_000, timing)
    assert.equal(s.phase, 'reveal')
    assert.equal(s.revealDeadline, 1_500)
    s = applyReveal(applyReveal(s, reveal(e1), 1_010, timing), reveal(e2), 1_020, timing)
    assert.equal(s.verdict?.outcome, 'verified')
  })

  it('is unresolved when too few commit and no backups are left', () => {
    let s = openTask({ taskId, spec, ranking: [e1, e2, e3], timing, now: 0 })
    s = commitAll(s, [e1])
    s = advanceTask(s, 5_000, timing)
    assert.equal(s.phase, 'decided')
    assert.equal(s.verdict?.outcome, 'unresolved')
    assert.equal(nextTaskDeadline(s), null)
  })

  it('is disputed when the reveals at the reveal deadline disagree, and the committer that withheld stays a withholder', () => {
    let s = commitAll(open(), [e1, e2, e3], 10, [good, bad, keccak256(stringToBytes('third'))])
    s = applyReveal(s, reveal(e1), 11, timing)
    s = applyReveal(s, reveal(e2, bad), 12, timing)
    s = advanceTask(s, 10 + timing.revealWindowMs, timing)
    assert.equal(s.phase, 'dispute')
    s = openArbitration(s, seatsAmong(s, accounts, 193), 20, timing)
    for (const b of [b1, b2]) s = applyCommit(s, commit(b), 30, timing)
    for (const b of [b1, b2]) s = applyReveal(s, reveal(b), 40, timing)
    s = advanceTask(s, 30 + timing.revealWindowMs, timing)
    assert.deepEqual(s.verdict, { taskId, outcome: 'verified', resultHash: good, executors: [e1, b1, b2], dissenters: [e2] })
    assert.deepEqual(s.missedReveal, [e3])
  })

  it('decides `failed` when a quorum reports the same deterministic failure', () => {
    const outOfFuel = failureResultHash('out-of-fuel')
    let s = open()
    for (const e of [e1, e2, e3]) s = applyCommit(s, commit(e, outOfFuel, 'failed'), 10, timing)
    for (const e of [e1, e2, e3]) s = applyReveal(s, reveal(e, outOfFuel, 'failed'), 11, timing)
    assert.equal(s.verdict?.outcome, 'failed')
    assert.equal(s.verdict?.resultHash, outOfFuel)
  })

  it('is unresolved when the spec deadline passes first', () => {
    const short = openTask({ taskId, spec: makeSpec({ deadline: 700n }), ranking: accounts, timing, now: 0 })
    assert.equal(nextTaskDeadline(short), 700)
    assert.equal(advanceTask(short, 700, timing).verdict?.outcome, 'unresolved')
  })

  it('refuses to open a task with fewer eligible nodes than k', () => {
    assert.throws(
      () => openTask({ taskId, spec, ranking: [e1, e2], timing, now: 0 }),
      (e: unknown) => e instanceof SpecRejectedError && e.code === 'SPEC_NOT_ENOUGH_NODES',
    )
  })
})
