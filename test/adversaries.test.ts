import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseAdversaries } from '../src/devnet/adversaries.ts'
import { runDevnet } from '../src/devnet/runDevnet.ts'
import { UsageError } from '../src/core/errors.ts'
import { assertHonestUnharmed, byBehaviour, runCountingSeats } from './helpers/adversaries.ts'

// Adversaries hold a third of the stake (3 of 9 equal nodes). With k = 5 and quorum 3, two
// colluders can never form a quorum, so no wrong result may ever be verified.

describe('adversaries on the devnet (fixed seeds, settled on anvil)', () => {
  it('liars and colluders never get a wrong result verified, are slashed and jailed; honest nodes profit', async () => {
    const report = await runDevnet({
      nodes: 9,
      k: 5,
      tasks: 40,
      epochTasks: 20,
      seed: 'adversaries-1',
      threads: 2,
      behaviours: parseAdversaries('liar:1,colluder:2', 9),
    })
    assert.equal(report.verified + report.failed + report.unresolved, 40, 'every task got an outcome')
    assert.equal(report.correct, report.verified, 'every verified result is the true one')
    assert.equal(report.failed, 0)
    assert.ok(report.verified >= 30, `${report.verified} verified`)
    assert.equal(report.wrongVerdicts, 0, 'no node verified a wrong result')
    for (const bad of [...byBehaviour(report, 'liar'), ...byBehaviour(report, 'colluder')]) {
      assert.ok(bad.dissented > 0, `${bad.behaviour} was drawn and outvoted`)
      assert.ok(BigInt(bad.slashed) > 0n, `${bad.behaviour} was slashed`)
      assert.equal(bad.jailed, true, `${bad.behaviour} is jailed`)
      assert.ok(BigInt(bad.net) < 0n, `${bad.behaviour} ends with a loss`)
    }
    for (const good of byBehaviour(report, 'honest')) {
      assert.equal(good.slashed, '0')
      assert.equal(good.jailed, false)
      assert.ok(BigInt(good.net) > 0n, 'an honest node ends with more tokens than it started with')
    }
  })

  it('offline, slow and copying nodes are replaced by backups, a lazy node is slashed, and every task gets an outcome', async () => {
    const report = await runDevnet({
      nodes: 9,
      k: 3,
      tasks: 24,
      epochTasks: 12,
      seed: 'adversaries-2',
      threads: 2,
      params: { commitWindowMs: 2_000, revealWindowMs: 1_000 },
      behaviours: parseAdversaries('offline:1,slow:1,lazy:1,copier:1', 9),
    })
    assert.equal(report.verified + report.failed + report.unresolved, 24)
    assert.equal(report.correct, report.verified)
    assert.equal(report.wrongVerdicts, 0)
    assert.equal(report.settlement?.epochs, 2, 'both epochs settled despite late and missing commits')
    const [offline] = byBehaviour(report, 'offline')
    const [slow] = byBehaviour(report, 'slow')
    const [lazy] = byBehaviour(report, 'lazy')
    assert.ok(offline!.missed + slow!.missed > 0, 'late or absent executors missed deadlines and backups took their seats')
    if (lazy!.dissented > 0) assert.ok(BigInt(lazy!.slashed) > 0n)
    assert.ok(lazy!.agreed === 0, 'a lazy guess never matches the real result')
    const [copier] = byBehaviour(report, 'copier')
    // Results become public only after the commit phase: a copier is too late to commit in its own
    // seats. (As an arbiter of the lazy node's disputes it may still copy a ruling another node
    // reached first and be counted by a slower aggregator: docs/economics.md, "Known limits".)
    assert.equal(copier!.agreed, 0)
    assert.equal(copier!.dissented, 0)
    assert.equal(copier!.slashed, '0')
  })
})

describe('coalitions that know the public seats (3 of 9 equal stakes, k = 3, unless named)', () => {
  // Any disagreement among a task's seats goes to arbitration by every other node here (9 seats,
  // majority 5): the coalition's 3 votes lose it. Only a task whose every seat it holds is never
  // disputed by the seats; its verifier's draw then audits it at the policy's audit rate.
  it('a quorum of the seats no longer wins: every lie where an honest node holds a seat is arbitrated and slashed', async () => {
    // The coalition holds 2 of 3 seats with probability 18/84 per task: it lies on about 10 of 45.
    const tasks = 45
    const epochTasks = 15
    const { report, heldEverySeat } = await runCountingSeats(
      { nodes: 9, k: 3, tasks, epochTasks, seed: 'quorum-colluders', threads: 2, behaviours: parseAdversaries('quorum-colluder:3', 9) },
      'quorum-colluder',
    )
    const outcomes = report.verified + report.failed + report.unresolved
    assert.equal(outcomes, tasks, `every task got an outcome: ${report.verified} verified, ${report.failed} failed, ${report.unresolved} unresolved, rejected ${JSON.stringify(report.rejected)}`)
    // Where it held every seat the verifier's draw may still audit it (p = 10 %): at most those are wrong.
    assert.ok(
      report.wrongVerdicts <= heldEverySeat,
      `wrong results verified (${report.wrongVerdicts}) only where the coalition held every seat (${heldEverySeat} tasks): none where an honest node held one`,
    )
    assert.equal(report.correct, report.verified - report.wrongVerdicts, `${report.correct} of ${report.verified} verified results are true`)
    assertHonestUnharmed(report)
    const colluders = byBehaviour(report, 'quorum-colluder')
    assert.ok(colluders.some((n) => n.dissented > 0), `the coalition lied on a disputed task: dissents ${colluders.map((n) => n.dissented).join(', ')}`)
    for (const bad of colluders) {
      if (bad.dissented > 0) assert.ok(BigInt(bad.slashed) > 0n, `${bad.address} dissented ${bad.dissented} times and was slashed ${bad.slashed} wei`)
    }
    assert.equal(report.settlement?.epochs, tasks / epochTasks, `${report.settlement?.epochs} of ${tasks / epochTasks} epochs settled`)
  })

  it('a coalition that lies only where it holds every seat wins there only when the audit draw spares it', async () => {
    // It holds all 3 seats with probability 1/84 per task (the epoch seeds come from the chain):
    // about one task in 90, audited at the default rate. src/devnet/adversaries.test.ts pins the behaviour itself.
    const tasks = 90
    const epochTasks = 30
    const { report, heldEverySeat } = await runCountingSeats(
      { nodes: 9, k: 3, tasks, epochTasks, seed: 'strategic-colluders', threads: 2, behaviours: parseAdversaries('strategic-colluder:3', 9) },
      'strategic-colluder',
    )
    assert.equal(report.verified + report.failed + report.unresolved, tasks, `every task got an outcome: ${report.verified} verified, ${report.failed} failed, ${report.unresolved} unresolved, rejected ${JSON.stringify(report.rejected)}`)
    // Each lie is verified wrong, or audited, arbitrated and slashed in every colluder at once.
    const colluders = byBehaviour(report, 'strategic-colluder')
    const caught = colluders[0]!.dissented
    for (const bad of colluders) {
      assert.equal(bad.dissented, caught, `${bad.address} dissents exactly where its coalition was audited`)
      assert.equal(BigInt(bad.slashed) > 0n, caught > 0, `${bad.address} is slashed iff caught`)
    }
    assert.equal(report.wrongVerdicts + caught, heldEverySeat, `wrong results verified (${report.wrongVerdicts}) + audited lies (${caught}) = tasks whose every seat the coalition held (${heldEverySeat})`)
    assertHonestUnharmed(report)
    assert.equal(report.settlement?.epochs, tasks / epochTasks, `${report.settlement?.epochs} of ${tasks / epochTasks} epochs settled`)
  })

  it('a requester that grinds its nonces for its coalition’s seats gets them at the honest rate: its tasks are drawn from a block it had not seen', async () => {
    // Under its guess of the draw every one of its specs seats the coalition (about 84 nonces a
    // spec); the real draw does so with probability 1/84: 0.7 of 60 expected, 7 or more with probability 7.5·10⁻⁶.
    const tasks = 60
    const { report, heldEverySeat } = await runCountingSeats(
      { nodes: 9, k: 3, tasks, epochTasks: tasks, seed: 'grinding-requester', threads: 2, behaviours: parseAdversaries('grinding-requester:3', 9) },
      'grinding-requester',
    )
    // A spec whose anchor came too late for its draw block is ground and signed again.
    assert.ok(report.grinding!.specs >= tasks, `${report.grinding!.specs} specs ground`)
    assert.equal(report.grinding?.predictedEverySeat, report.grinding?.specs, 'the requester found a nonce seating its coalition under its guess for every spec')
    assert.ok(report.grinding!.nonces > tasks * 10, `it ground (${report.grinding!.nonces} nonces)`)
    assert.ok(heldEverySeat <= 6, `the coalition held every seat of ${heldEverySeat} of ${tasks} tasks`)
    assert.ok(report.wrongVerdicts <= heldEverySeat)
    assert.equal(report.verified + report.failed + report.unresolved, tasks)
    assertHonestUnharmed(report)
    assert.equal(report.settlement?.epochs, 1)
  })

  it('audited at every draw (2 of 5, k = 2), a coalition holding every seat gets nothing wrong verified and is slashed', async () => {
    // 2 of 5 at k = 2: it holds both seats with probability 1/10 per task (about 10 of 105 while
    // eligible; none at all has probability e^-10.5), and loses every arbitration (3 of 5 rule).
    const tasks = 105
    const epochTasks = 35
    const { report, heldEverySeat } = await runCountingSeats(
      { nodes: 5, k: 2, auditPpm: 1_000_000, tasks, epochTasks, seed: 'audited-colluders', threads: 2, behaviours: parseAdversaries('strategic-colluder:2', 5) },
      'strategic-colluder',
    )
    assert.ok(heldEverySeat > 0, 'the coalition held every seat of some task')
    assert.equal(report.wrongVerdicts, 0, 'no wrong result verified')
    assert.equal(report.verified + report.failed + report.unresolved, tasks)
    for (const bad of byBehaviour(report, 'strategic-colluder')) {
      assert.ok(bad.dissented > 0 && BigInt(bad.slashed) > 0n, `${bad.address} was audited, arbitrated and slashed (dissented ${bad.dissented})`)
      assert.ok(BigInt(bad.net) < 0n, 'the strategy ends in a loss')
    }
    assertHonestUnharmed(report)
    assert.equal(report.settlement?.epochs, tasks / epochTasks)
  })
})

describe('parseAdversaries', () => {
  it('puts adversaries on the last nodes and rejects bad specs with a usage error', () => {
    assert.deepEqual(parseAdversaries('liar:1,lazy:2', 5), ['honest', 'honest', 'liar', 'lazy', 'lazy'])
    assert.deepEqual(parseAdversaries('', 2), ['honest', 'honest'])
    assert.deepEqual(parseAdversaries('guesser:1,copier:1', 3), ['honest', 'guesser', 'copier'])
    // A share of the nodes keeps a coalition's share across a sweep: a third of 9, 30 and 100.
    assert.deepEqual(
      [9, 30, 100].map((n) => parseAdversaries('strategic-colluder:33%', n).filter((b) => b === 'strategic-colluder').length),
      [3, 10, 33],
    )
    assert.deepEqual(parseAdversaries('liar:1%', 5), ['honest', 'honest', 'honest', 'honest', 'liar'])
    for (const bad of ['wizard:1', 'liar:0', 'liar:x', 'honest:1', 'liar:6', 'liar:0%', 'liar:101%', 'liar:%', 'liar:1.5', 'liar:60%,lazy:60%']) {
      assert.throws(() => parseAdversaries(bad, 5), UsageError, bad)
    }
  })
})

describe('sample policy on the devnet', () => {
  it('audits a lazy executor, slashes and jails it, and it ends the run with a loss', async () => {
    // The lazy node executes a task with probability 1/7 and is audited there with probability 1/2:
    // it escapes every audit of 130 tasks with probability (1 − 0.5/7)^130 = 6.6·10⁻⁵ (of 40, as
    // this test once ran, 5 %).
    const tasks = 130
    const report = await runDevnet({
      nodes: 7,
      tasks,
      epochTasks: tasks / 2,
      seed: 'sample-lazy',
      threads: 2,
      sampleRatePpm: 500_000,
      behaviours: parseAdversaries('lazy:1', 7),
    })
    assert.deepEqual(report.policy, { kind: 'sample', ratePpm: 500_000 })
    assert.equal(report.verified + report.failed + report.unresolved, tasks)
    // One executor per task, plus the audits (and the lazy node's disputes): far fewer executions than replication would need.
    const executions = report.perNode.reduce((sum, n) => sum + n.executions, 0)
    assert.ok(executions < tasks * 3, `${executions} executions`)
    const [lazy] = byBehaviour(report, 'lazy')
    assert.ok(lazy!.dissented > 0, 'the lazy executor was audited and outvoted at least once')
    assert.ok(BigInt(lazy!.net) < 0n, 'laziness ends in a loss')
    assert.equal(lazy!.jailed, true)
    for (const good of byBehaviour(report, 'honest')) {
      assert.equal(good.slashed, '0')
      assert.ok(BigInt(good.net) >= 0n)
    }
    // Unaudited lazy results may be verified wrongly: sampling trades certainty for cost, and the
    // slash makes that trade a loss for the cheater (docs/economics.md).
    assert.ok(report.wrongVerdicts <= lazy!.agreed)
  })
})
