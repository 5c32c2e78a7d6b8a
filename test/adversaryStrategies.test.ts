import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseAdversaries } from '../src/devnet/adversaries.ts'
import { runDevnet } from '../src/devnet/runDevnet.ts'
import { assertHonestUnharmed, byBehaviour, runCountingSeats } from './helpers/adversaries.ts'

// The strategies that use the roles after the seats (verifier, arbiters) and the transport
// (docs/devnet.md), one fast devnet each; bench/adversaries.ts runs them at 1,000 tasks. In a file
// of their own, beside test/adversaries.test.ts, so that each file stays well inside the runner's
// per-file timeout on a loaded machine.

describe('strategies that use the other roles and the transport (fixed seeds, settled on anvil)', () => {
  // Short windows: a withheld reveal holds its task until the reveal deadline.
  const params = { commitWindowMs: 2_000, revealWindowMs: 1_000 }

  it('a withholder that keeps its reveals back where revealing would lose is slashed and jailed, stalls only tasks it held a quorum of, and harms no honest node', async () => {
    // The coalition holds a quorum of a task's seats with probability 19/84: some of the first 40
    // with probability 1 − (65/84)⁴⁰ > 0.9999 (of the first 20 only 0.994: a flaky test).
    const tasks = 50
    const epochTasks = 40
    const { report, heldEverySeat, heldByTask } = await runCountingSeats(
      { nodes: 9, k: 3, tasks, epochTasks, seed: 'withholders', threads: 2, params, behaviours: parseAdversaries('withholder:3', 9) },
      'withholder',
    )
    // In the first epoch all three are eligible: the tasks where they hold a quorum of the seats are the ones they withhold in.
    const stallable = heldByTask.filter((t) => t.epoch === heldByTask[0]!.epoch && t.held >= t.quorum).length
    assert.ok(stallable > 0, 'the coalition held a quorum of some first-epoch task')
    assert.equal(report.verified + report.failed + report.unresolved, tasks, `every task got an outcome: rejected ${JSON.stringify(report.rejected)}`)
    assert.ok(report.wrongVerdicts <= heldEverySeat, `wrong results verified (${report.wrongVerdicts}) only where the coalition held every seat (${heldEverySeat})`)
    assert.equal(report.correct, report.verified - report.wrongVerdicts)
    const withholders = byBehaviour(report, 'withholder')
    assert.ok(withholders.reduce((sum, n) => sum + n.missed, 0) > 0, 'the withholders kept reveals back')
    assert.ok(report.unresolved > 0, 'a withheld quorum left tasks unresolved')
    assert.ok(report.unresolved <= heldByTask.filter((t) => t.held >= t.quorum).length, `tasks unresolved (${report.unresolved}) only where the coalition held a quorum of the seats`)
    assert.ok(withholders.some((n) => BigInt(n.slashed) > 0n), 'a withheld seat is slashed')
    for (const bad of withholders) {
      assert.equal(bad.dissented, 0, 'a withholder never reveals a losing lie')
      if (BigInt(bad.slashed) > 0n) {
        assert.equal(bad.jailed, true, `${bad.address} was slashed and is jailed`)
        assert.ok(BigInt(bad.net) < 0n, `${bad.address} ends with a loss`)
      }
    }
    assertHonestUnharmed(report)
    assert.equal(report.settlement?.epochs, 2, `${report.settlement?.epochs} of 2 epochs settled (a first of 40 tasks, a second of 10)`)
  })

  it('a colluding verifier gets a wrong result through only where it holds the seat and the verifier’s place (or the arbitration), even with every draw auditing, and is honest elsewhere', async () => {
    // 2 of 5 at k = 1: the seat and the verifier's place are both the coalition's with probability
    // 1/10 per task; its own audit agrees there. It never lies where an honest node commits, so it
    // is never disputed, except where it holds a strict majority of the 193 arbitration seats, a
    // certain win too: with 40 % of the stake, P(Binomial(193, 0.4) ≥ 97) = 0.25 % per task. The
    // epoch seeds come from the chain: some of 80 tasks hold the seat and the verifier with
    // probability 1 − 0.9⁸⁰ > 0.9997.
    const tasks = 80
    const epochTasks = 40
    const { report, heldEverySeatAndVerifier, certainWins } = await runCountingSeats(
      { nodes: 5, k: 1, auditPpm: 1_000_000, tasks, epochTasks, seed: 'colluding-verifiers', threads: 2, params, behaviours: parseAdversaries('colluding-verifier:2', 5) },
      'colluding-verifier',
    )
    assert.ok(heldEverySeatAndVerifier > 0, 'the coalition held the seat and the verifier of some task')
    assert.equal(report.verified + report.failed + report.unresolved, tasks)
    assert.equal(report.wrongVerdicts, certainWins, `wrong results verified (${report.wrongVerdicts}) exactly where the coalition held the seat and the verifier, or the arbitration (${certainWins})`)
    for (const bad of byBehaviour(report, 'colluding-verifier')) {
      assert.equal(bad.dissented, 0, 'never lies where it could be caught')
      assert.equal(bad.slashed, '0')
    }
    assertHonestUnharmed(report)
    assert.equal(report.settlement?.epochs, tasks / epochTasks)
  })

  it('bribed arbiters voting with a lying executor lose every arbitration at a third of the stake and are slashed; nothing wrong is verified', async () => {
    // 1 lying executor + 2 bribed arbiters = 3 of 9 votes; a strict majority of the 9 seats is 5.
    // The liar holds a seat of a task with probability 1/3: of some of the first 15 with probability 0.998.
    const tasks = 30
    const epochTasks = 15
    const report = await runDevnet({ nodes: 9, k: 3, tasks, epochTasks, seed: 'bribed-arbiters', threads: 2, params, behaviours: parseAdversaries('colluder:1,bribed-arbiter:2', 9) })
    assert.equal(report.verified + report.failed + report.unresolved, tasks)
    assert.equal(report.wrongVerdicts, 0, 'no wrong result verified')
    assert.equal(report.correct, report.verified)
    const [liar] = byBehaviour(report, 'colluder')
    assert.ok(liar!.dissented > 0, 'the lying executor was disputed')
    for (const bribed of byBehaviour(report, 'bribed-arbiter')) {
      assert.ok(bribed.dissented > 0, `${bribed.address} voted for the lie as an arbiter and lost`)
      assert.ok(BigInt(bribed.slashed) > 0n && bribed.jailed, `${bribed.address} is slashed and jailed`)
      assert.ok(BigInt(bribed.net) < 0n, 'the bribe ends in a loss (without the bribe itself)')
      assert.ok(bribed.agreed > 0, 'honest as an executor: its own seats agreed')
    }
    assertHonestUnharmed(report)
    assert.equal(report.settlement?.epochs, tasks / epochTasks)
  })
})
