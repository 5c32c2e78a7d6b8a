import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseAdversaries } from '../devnet/adversaries.ts'
import { defaultTaskTerms } from '../sdk/actions/submitTask.ts'
import { runSim } from './runSim.ts'
import { simPlots } from './simPlots.ts'

describe('runSim', () => {
  it('runs the real nodes to a verdict for every task over several epochs, all settled, and is repeatable', async () => {
    const options = { nodes: 6, tasks: 40, epochMs: 1_500, seed: 'sim-test' }
    const report = await runSim(options)
    assert.deepEqual(report.outcomes, { verified: 40, failed: 0, unresolved: 0, undecided: 0, refused: 0 })
    assert.ok(report.epochs.length >= 2, `the tasks span ${report.epochs.length} epochs`)
    assert.equal(report.epochs.reduce((sum, e) => sum + e.tasks, 0), 40)
    for (const e of report.epochs) assert.notEqual(e.settledAtMs, null, `epoch ${e.epoch} settled`)
    assert.deepEqual(report.objections, {}, 'no member objected to a proposal')
    // Every node carries every task today: at least the spec, three commits and three reveals reach it.
    assert.ok(report.messagesPerNodePerTask >= 5, `${report.messagesPerNodePerTask} messages per node per task`)
    assert.ok(report.latencyMs.p50 > 0 && report.latencyMs.p50 <= report.latencyMs.p99)
    // Three executions per task of 5 ms (four when audited), on nodes of speed 1, 1 and 2.
    assert.ok(report.cpu.executionMs >= 40 * 3 * 5 && report.cpu.executionMs <= 40 * 4 * 10, `${report.cpu.executionMs} ms executing`)

    const again = await runSim(options)
    assert.deepEqual(
      [again.latencyQuantiles, again.simulatedMs, again.messagesPerNodePerTask, again.epochs],
      [report.latencyQuantiles, report.simulatedMs, report.messagesPerNodePerTask, report.epochs],
      'the same seed gives the same simulated run',
    )

    const plots = simPlots([report])
    assert.deepEqual(Object.keys(plots).sort(), ['coordination.svg', 'cpu.svg', 'latency.svg', 'messages.svg', 'settlement.svg', 'throughput.svg'])
    for (const svg of Object.values(plots)) assert.match(svg, /^<svg [^>]*>[\s\S]*<\/svg>\n$/)
  })

  it('settles every epoch despite churn: members that missed tasks are answered with evidence and vouches', async () => {
    // A quarter of the nodes offline each epoch, a different quarter the next: each member missed
    // some tasks, reveals or specs, and gossip never resends them. Before evidence and vouches,
    // members objected to every round's proposal and no epoch settled.
    const report = await runSim({ nodes: 8, tasks: 24, epochMs: 1_500, seed: 'sim-churn', churn: 0.25 })
    assert.deepEqual(report.faults, { churn: 0.25, partition: null })
    assert.equal(report.outcomes.undecided, 0)
    assert.equal(report.outcomes.refused, 0)
    assert.equal(report.outcomes.verified + report.outcomes.unresolved, 24)
    for (const e of report.epochs) assert.notEqual(e.settledAtMs, null, `epoch ${e.epoch} settled`)
    assert.ok(Object.keys(report.objections).length > 0, 'views differed: members objected to some proposals')
  })

  it('settles every epoch after a partition heals, the two sides’ views merged', async () => {
    const report = await runSim({ nodes: 8, tasks: 24, epochMs: 1_500, seed: 'sim-partition', partition: { fromMs: 500, toMs: 2_500 } })
    assert.equal(report.outcomes.undecided, 0)
    for (const e of report.epochs) assert.notEqual(e.settledAtMs, null, `epoch ${e.epoch} settled`)
    assert.ok(report.convergence.evidencePublished + report.convergence.signedOnVouches > 0, JSON.stringify(report.convergence))
  })

  it('runs the devnet’s liars: they are slashed and jailed, and no honest node is, not even the slowest arbiter whose commit left after its own deadline', async () => {
    // Every task the three liars sit in is disputed and arbitrated by all the others. An arbiter on
    // a slow node finishes after its own commit deadline; peers whose deadline came later count the
    // commit, so the node must open it at once, or it is slashed as a withholder.
    const report = await runSim({ nodes: 9, tasks: 60, k: 3, epochMs: 2_000, seed: 'sim-adv', adversaries: parseAdversaries('liar:3', 9) })
    const adversaries = report.adversaries!
    assert.equal(adversaries.wrongVerified, 0)
    assert.equal(report.outcomes.verified, 60)
    for (const e of report.epochs) assert.notEqual(e.settledAtMs, null, `epoch ${e.epoch} settled`)
    const [honest, liars] = ['honest', 'liar'].map((b) => adversaries.behaviours.find((o) => o.behaviour === b)!)
    assert.deepEqual([honest!.nodes, honest!.slashed, honest!.jailed], [6, '0', 0], 'no honest node slashed or jailed')
    assert.ok(BigInt(honest!.net) > 0n, 'honest nodes earn')
    assert.deepEqual([liars!.nodes, liars!.jailed], [3, 3])
    assert.ok(BigInt(liars!.net) < 0n, `liars lose (${liars!.net} wei each)`)
  })

  it('slashes no honest arbiter that missed an arbitration commit: a peer’s reveal lets it open its own', async () => {
    // 4 liars of 12, seed "sA": an arbiter's commit reached one honest node while that node still
    // waited for the seats' commits, and was refused there. Before a peer's reveal let the node
    // open its own commit, it waited out its arbitration commit window, revealed after its peers had
    // decided, and was slashed as a withholder (one honest node jailed in this run).
    const report = await runSim({ nodes: 12, tasks: 60, k: 3, epochMs: 2_000, seed: 'sA', adversaries: parseAdversaries('liar:4', 12) })
    const honest = report.adversaries!.behaviours.find((o) => o.behaviour === 'honest')!
    assert.deepEqual([honest.nodes, honest.slashed, honest.jailed], [8, '0', 0], 'no honest node slashed or jailed')
    assert.equal(report.outcomes.verified, 60)
    for (const e of report.epochs) assert.notEqual(e.settledAtMs, null, `epoch ${e.epoch} settled`)
  })

  it('settles every epoch when liars meet churn: a dispute long after its epoch opened is still arbitrated, and a late dissent is evidence', async () => {
    // 4 liars of 12 and one node offline per epoch (2 s epochs), seed "s5". Disputes came after
    // backups' windows, when the nodes kept the epoch's snapshot no longer: nobody arbitrated them,
    // and they waited for their deadline. Nodes whose arbitration deadline came before the ruling
    // reveal decided unresolved and held liars' reveals that the others' certificates did not take:
    // no proposal was ever signed.
    const report = await runSim({ nodes: 12, tasks: 36, k: 3, epochMs: 2_000, seed: 's5', churn: 0.1, adversaries: parseAdversaries('liar:4', 12) })
    assert.equal(report.outcomes.undecided, 0)
    assert.ok(report.latencyMs.max < defaultTaskTerms.deadlineMs, 'no task waited for its deadline: every dispute was arbitrated')
    for (const e of report.epochs) assert.notEqual(e.settledAtMs, null, `epoch ${e.epoch} settled`)
    const liars = report.adversaries!.behaviours.find((o) => o.behaviour === 'liar')!
    assert.ok(BigInt(liars.slashed) > 0n, 'the liars lost stake')
  })

  it('settles every epoch when liars meet a partition: a node counted among the seats in one view and the arbiters in another counts in both', async () => {
    // 5 liars of 15 at k = 5, the odd and even nodes apart from 1.5 s to 3.5 s, seed "s1". One side
    // seated a late liar, the other its backup (and saw the audit the other did not): two valid
    // certificates of each dispute whose arbitrations counted the same commits in other places, and
    // members objected to each other's proposals for good.
    const report = await runSim({
      nodes: 15,
      tasks: 45,
      k: 5,
      epochMs: 2_000,
      seed: 's1',
      partition: { fromMs: 1_500, toMs: 3_500 },
      adversaries: parseAdversaries('liar:5', 15),
    })
    assert.equal(report.outcomes.undecided, 0)
    for (const e of report.epochs) assert.notEqual(e.settledAtMs, null, `epoch ${e.epoch} settled`)
  })

  it('runs strategic colluders: a lie gets through only where the coalition holds every seat, near the analytic rate', async () => {
    // 3 of 9 at k = 2: the coalition holds both seats of C(3,2)/C(9,2) = 1/12 of the tasks, and the audit (p = 0.1) catches some.
    const report = await runSim({ nodes: 9, tasks: 120, k: 2, epochMs: 2_000, seed: 'sim-adv', adversaries: parseAdversaries('strategic-colluder:3', 9) })
    const adversaries = report.adversaries!
    assert.equal(adversaries.predictedWrong, 9)
    assert.ok(adversaries.heldEverySeat > 0)
    assert.ok(adversaries.wrongVerified <= adversaries.heldEverySeat, `wrong results (${adversaries.wrongVerified}) only where the coalition held every seat (${adversaries.heldEverySeat})`)
    const honest = adversaries.behaviours.find((o) => o.behaviour === 'honest')!
    assert.deepEqual([honest.slashed, honest.jailed], ['0', 0])

    // The run's adversary charts: wrong results per 1,000 tasks beside the prediction, and each
    // behaviour's net beside an honest node's.
    const plots = simPlots([report])
    assert.match(plots['adversaries.svg']!, /measured[\s\S]*analytic prediction/)
    assert.match(plots['adversary-net.svg']!, /honest \(the bound\)[\s\S]*strategic-colluder/)
    assert.equal(simPlots([{ ...report, adversaries: null }])['adversaries.svg'], undefined, 'no adversary charts for a run without adversaries')
  })

  it('does not let a third of the stake split over many small nodes outvote fewer, larger honest ones in arbitration', async () => {
    // Four honest nodes with 3,000 VTT each and twelve colluders with 500 each, a third of the stake,
    // all answering the same wrong result. With one vote per arbitrating node the twelve won every
    // dispute: 39 of 48 wrong results verified, and every honest node slashed to nothing and jailed.
    // Arbitration seats drawn by stake with replacement give the coalition a third of the votes.
    const VTT = 10n ** 18n
    const stakes = [...Array<bigint>(4).fill(3_000n * VTT), ...Array<bigint>(12).fill(500n * VTT)]
    const report = await runSim({ nodes: 16, tasks: 48, k: 3, epochMs: 2_000, seed: 'sybil', stakes, adversaries: parseAdversaries('colluder:12', 16) })
    const adversaries = report.adversaries!
    const honest = adversaries.behaviours.find((o) => o.behaviour === 'honest')!
    const colluders = adversaries.behaviours.find((o) => o.behaviour === 'colluder')!
    assert.deepEqual([honest.slashed, honest.jailed], ['0', 0], 'no honest node slashed or jailed')
    assert.ok(BigInt(colluders.slashed) > 0n, 'the colluders lost their disputes')
    assert.ok(adversaries.wrongVerified <= adversaries.heldEverySeat, `wrong results (${adversaries.wrongVerified}) only where the coalition held every seat (${adversaries.heldEverySeat})`)
    for (const e of report.epochs) assert.notEqual(e.settledAtMs, null, `epoch ${e.epoch} settled`)
  })

  it('refuses a behaviour the simulator does not model', async () => {
    await assert.rejects(runSim({ nodes: 5, tasks: 1, adversaries: parseAdversaries('slow:1', 5) }), /does not model "slow"/)
  })
})
