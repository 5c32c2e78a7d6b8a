// Per adversary type: tasks it was drawn for, how often it was caught (outvoted, or replaced for
// missing a deadline), and its net profit, next to the honest nodes of the same run.
// Each adversary type runs in its own devnet on anvil (9 nodes, k = 5), holding 1/3 of the stake
// (colluders and lazy nodes, whose identical guesses make them collude: 2 of 9, fewer than the
// quorum of 3 — see docs/economics.md for larger groups).
//
// Then the coalitions that use public information (3 of 9 equal stakes, k = 3 and k = 5): each
// ranks every task's seats from the epoch's seed and stake snapshot as nodes do. A strategic
// colluder lies only where the coalition holds every seat; a quorum colluder wherever it holds a
// quorum of them (the attack on the first protocol). Any disagreement goes to arbitration by every
// other node, which 3 of 9 cannot win, so a lie is verified only where the coalition held all k
// seats (with probability C(3,k)/C(9,k) per task while it is eligible, hypergeometric) and the
// verifier's audit draw spared it (1 − p, p the default policy's audit rate: the verifier, the
// node ranked after the seats, is honest whenever 3 colluders hold all seats).
//
// Then the three strategies that use the other roles and the transport (3 of 9, default audit
// rate): a rational withholder, a coalition that also colludes as verifier and arbiter, and bribed
// arbiters beside a lying executor; each next to its analytic prediction (formulas in the markdown).
// Every row checks: no honest node slashed or jailed, wrong results only where the public ranking
// allowed them, every epoch settled, and the adversaries' net profit (a positive one is reported
// with its reason, not hidden).
//
//   npx tsx bench/adversaries.ts [--quick]
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { formatUnits } from 'viem'
import { defaultParams } from '../src/core/params.ts'
import { executorsOf } from '../src/core/task.ts'
import type { Address } from '../src/core/types.ts'
import { parseAdversaries } from '../src/devnet/adversaries.ts'
import type { Behaviour } from '../src/devnet/adversaries.ts'
import { runDevnet } from '../src/devnet/runDevnet.ts'
import type { DevnetNodeReport } from '../src/devnet/runDevnet.ts'

/** `--only=coalitions,strategies`: run only those sections (development; written with the quick results). */
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',')
const runs = (section: 'behaviours' | 'coalitions' | 'strategies') => only === undefined || only.includes(section)
const quick = process.argv.includes('--quick') || only !== undefined
const tasks = quick ? 30 : 90
/** Tasks per coalition run: enough for a 1/84 event to happen about a dozen times in full mode. */
const coalitionTasks = quick ? 60 : 1_000
const coalitionEpochTasks = quick ? 20 : 100
/** Tasks per strategy run: the withholder and the bribe play out in the first epochs; the colluding verifier's 1/84 needs many. */
const strategyTasks = quick ? 60 : 1_000
const strategyEpochTasks = quick ? 20 : 100
const types: Array<{ behaviour: Exclude<Behaviour, 'honest'>; spec: string }> = [
  { behaviour: 'liar', spec: 'liar:3' },
  { behaviour: 'colluder', spec: 'colluder:2' },
  { behaviour: 'lazy', spec: 'lazy:2' },
  { behaviour: 'slow', spec: 'slow:3' },
  { behaviour: 'offline', spec: 'offline:3' },
  { behaviour: 'copier', spec: 'copier:3' },
  { behaviour: 'guesser', spec: 'guesser:2' },
]
const coalitions: Array<{ behaviour: 'strategic-colluder' | 'grinding-requester' | 'quorum-colluder'; k: number }> = [
  { behaviour: 'strategic-colluder', k: 3 },
  { behaviour: 'strategic-colluder', k: 5 },
  { behaviour: 'grinding-requester', k: 3 },
  { behaviour: 'quorum-colluder', k: 3 },
  { behaviour: 'quorum-colluder', k: 5 },
]

interface Row {
  adversary: string
  attempted: number
  caught: number
  wrongVerified: number
  adversaryNetVtt: number
  honestNetVtt: number
  jailed: string
  noOutcome: number
  /** Why tasks got no outcome: the gateways' refusals by code. */
  rejected: Record<string, number>
  honestSlashedVtt: number
  epochsSettled: number
}

interface CoalitionRow {
  adversary: string
  k: number
  quorum: number
  tasks: number
  /** C(3,k)/C(9,k) × tasks: the coalition holds all k seats, were it eligible for every task. */
  predictedWrong: number
  /** Tasks whose k seats the coalition held, ranked from public data as the nodes do. */
  heldEverySeat: number
  /** Tasks where it held a quorum of the seats but not all: the old protocol's wins, now disputes. */
  heldQuorumNotAll: number
  /** C(3,q..k−1 of k)/C(9,k) × tasks, likewise. */
  predictedQuorumNotAll: number
  wrongVerified: number
  dissents: number
  honestSlashedVtt: number
  adversaryNetVtt: number
  honestNetVtt: number
  jailed: string
  noOutcome: number
  rejected: Record<string, number>
  seconds: number
  epochs: number
  epochsSettled: number
  /** A grinding requester's nonces per spec, tried until its guess of the draw seated the coalition everywhere; null for the others. */
  noncesPerSpec: number | null
}

type StrategyName = 'withholder' | 'colluding-verifier' | 'bribed-arbiter'
const strategies: Array<{ strategy: StrategyName; spec: string; k: number; tasks: number }> = [
  { strategy: 'withholder', spec: 'withholder:3', k: 3, tasks: strategyTasks },
  { strategy: 'colluding-verifier', spec: 'colluding-verifier:3', k: 2, tasks: strategyTasks },
  { strategy: 'colluding-verifier', spec: 'colluding-verifier:3', k: 3, tasks: quick ? strategyTasks : 300 },
  { strategy: 'bribed-arbiter', spec: 'colluder:1,bribed-arbiter:2', k: 3, tasks: strategyTasks },
]

interface StrategyRow {
  adversary: string
  k: number
  quorum: number
  tasks: number
  epochs: number
  epochsSettled: number
  wrongVerified: number
  predictedWrong: number
  /** Tasks whose places allowed a wrong result (every seat; for the colluding verifier every seat and the verifier's place). */
  allowedWrong: number
  unresolved: number
  predictedUnresolved: number
  /** Withheld reveals of the withholders (their missed deadlines). */
  withheld: number
  dissents: number
  predictedPenalties: number
  honestSlashedVtt: number
  honestJailed: number
  adversaryNetVtt: number
  predictedAdversaryNetVtt: number
  honestNetVtt: number
  jailed: string
  noOutcome: number
  rejected: Record<string, number>
  seconds: number
}

const vtt = (wei: bigint) => Number(formatUnits(wei, 18))
const mean = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n) / BigInt(Math.max(1, xs.length))
const meanNet = (nodes: DevnetNodeReport[]) => vtt(mean(nodes.map((n) => BigInt(n.net))))

const rows: Row[] = []
for (const { behaviour, spec } of runs('behaviours') ? types : []) {
  const report = await runDevnet({
    nodes: 9,
    k: 5,
    tasks,
    epochTasks: tasks / 3,
    seed: `bench-${behaviour}`,
    behaviours: parseAdversaries(spec, 9),
  })
  const bad = report.perNode.filter((n) => n.behaviour === behaviour)
  const good = report.perNode.filter((n) => n.behaviour === 'honest')
  rows.push({
    adversary: spec,
    attempted: bad.reduce((sum, n) => sum + n.executions, 0),
    caught: bad.reduce((sum, n) => sum + n.dissented + n.missed, 0),
    wrongVerified: report.wrongVerdicts,
    adversaryNetVtt: meanNet(bad),
    honestNetVtt: meanNet(good),
    jailed: `${bad.filter((n) => n.jailed).length}/${bad.length}`,
    noOutcome: report.tasks - report.verified - report.failed - report.unresolved,
    rejected: report.rejected,
    honestSlashedVtt: vtt(good.reduce((sum, n) => sum + BigInt(n.slashed), 0n)),
    epochsSettled: report.settlement?.epochs ?? 0,
  })
  console.error(`${spec}: done`)
}

/** C(n, r). */
function choose(n: number, r: number): number {
  if (r < 0 || r > n) return 0
  let c = 1
  for (let i = 1; i <= r; i++) c = (c * (n - r + i)) / i
  return c
}
/** P(a coalition of `m` among `n` equal stakes holds exactly `j` of `k` seats), hypergeometric. */
const holds = (n: number, m: number, k: number, j: number) => (choose(m, j) * choose(n - m, k - j)) / choose(n, k)

/** The default replicate policy's audit rate: how often the verifier's draw audits unanimous seats. */
const auditRate = (defaultParams.defaultPolicy.auditPpm ?? 0) / 1_000_000
const coalitionRows: CoalitionRow[] = []
for (const { behaviour, k } of runs('coalitions') ? coalitions : []) {
  const quorum = Math.floor(k / 2) + 1
  const seatsByTask: Address[][] = []
  const started = performance.now()
  const report = await runDevnet({
    nodes: 9,
    k,
    tasks: coalitionTasks,
    epochTasks: coalitionEpochTasks,
    seed: `bench-${behaviour}-k${k}`,
    behaviours: parseAdversaries(`${behaviour}:3`, 9),
    onSeated: ({ spec, places }) => {
      seatsByTask.push(places.slice(0, executorsOf(spec.policy)))
    },
  })
  const seconds = (performance.now() - started) / 1000
  const bad = report.perNode.filter((n) => n.behaviour === behaviour)
  const good = report.perNode.filter((n) => n.behaviour === 'honest')
  const coalition = new Set(bad.map((n) => n.address))
  const held = seatsByTask.map((seats) => seats.filter((a) => coalition.has(a)).length)
  let quorumNotAll = 0
  for (let j = quorum; j < k; j++) quorumNotAll += holds(9, 3, k, j)
  coalitionRows.push({
    adversary: `${behaviour}:3`,
    k,
    quorum,
    tasks: report.tasks,
    predictedWrong: holds(9, 3, k, k) * (1 - auditRate) * report.tasks,
    heldEverySeat: held.filter((h) => h === k).length,
    heldQuorumNotAll: held.filter((h) => h >= quorum && h < k).length,
    predictedQuorumNotAll: quorumNotAll * report.tasks,
    wrongVerified: report.wrongVerdicts,
    dissents: bad.reduce((sum, n) => sum + n.dissented, 0),
    honestSlashedVtt: vtt(good.reduce((sum, n) => sum + BigInt(n.slashed), 0n)),
    adversaryNetVtt: meanNet(bad),
    honestNetVtt: meanNet(good),
    jailed: `${bad.filter((n) => n.jailed).length}/${bad.length}`,
    noOutcome: report.tasks - report.verified - report.failed - report.unresolved,
    rejected: report.rejected,
    seconds: Math.round(seconds),
    epochs: Math.ceil(report.tasks / coalitionEpochTasks),
    epochsSettled: report.settlement?.epochs ?? 0,
    noncesPerSpec: report.grinding === null ? null : report.grinding.nonces / report.grinding.specs,
  })
  console.error(`${behaviour}:3 k=${k}: done in ${seconds.toFixed(0)} s`)
}

// ── strategies that use the other roles and the transport ────────────────────────────────────
const stake = 1_000
/** δ·s: stake lost per dissent or withheld seat (dissentSlashBps 10 % of 1,000 VTT on the devnet). */
const slashPerPenalty = 100
/** What the slashes of `penalties` (spread over `members`) take from each member: at most its stake. */
const slashedEach = (penalties: number, members: number) => Math.min(stake, (slashPerPenalty * penalties) / members)
/** P(`m` colluders among `n` equal stakes hold all of the first `places` places of a ranking). */
const holdsFirst = (n: number, m: number, places: number) => choose(m, places) / choose(n, places)

const strategyRows: StrategyRow[] = []
for (const { strategy, spec, k, tasks: taskCount } of runs('strategies') ? strategies : []) {
  const quorum = Math.floor(k / 2) + 1
  const placesByTask: Address[][] = []
  /** Each task's eligible nodes in its epoch's snapshot: a penalised node leaves from the snapshot after its penalty settles. */
  const eligibleByTask: Array<ReadonlySet<Address>> = []
  const started = performance.now()
  const report = await runDevnet({
    nodes: 9,
    k,
    tasks: taskCount,
    epochTasks: strategyEpochTasks,
    seed: `bench-${strategy}-k${k}`,
    behaviours: parseAdversaries(spec, 9),
    onSeated: ({ spec: taskSpec, snapshot, places }) => {
      // The seats, then the verifier's place: the ranking every node computes.
      placesByTask.push(places.slice(0, executorsOf(taskSpec.policy) + 1))
      eligibleByTask.push(new Set(snapshot.eligibleNodes(taskSpec.runtime).map((c) => c.address)))
    },
  })
  const seconds = (performance.now() - started) / 1000
  const bad = report.perNode.filter((n) => n.behaviour !== 'honest')
  const good = report.perNode.filter((n) => n.behaviour === 'honest')
  const coalition = new Set(report.perNode.filter((n) => n.behaviour === strategy).map((n) => n.address))
  const heldAll = placesByTask.filter((places) => places.slice(0, k).every((a) => coalition.has(a))).length
  const heldAllAndVerifier = placesByTask.filter((places) => places.every((a) => coalition.has(a))).length
  const epochs = Math.ceil(report.tasks / strategyEpochTasks)
  // Predictions (the markdown states them), task by task over the nodes eligible in its snapshot:
  // n eligible nodes, m of them the coalition's. A penalised node stays eligible until the
  // snapshot after the batch that penalises it settles, so the measured eligibility goes in.
  const eligibleCounts = eligibleByTask.map((eligible) => ({ n: eligible.size, m: [...coalition].filter((a) => eligible.has(a)).length, eligible }))
  let predictedWrong = 0
  let predictedUnresolved = 0
  let predictedPenalties = 0
  let predictedAdversaryNetVtt = 0
  if (strategy === 'withholder') {
    for (const { n, m } of eligibleCounts) {
      const all = holds(n, m, k, k)
      predictedWrong += all * (1 - auditRate)
      predictedUnresolved += all * auditRate
      predictedPenalties += k * all * auditRate
      for (let j = quorum; j < k; j++) {
        predictedUnresolved += holds(n, m, k, j)
        predictedPenalties += j * holds(n, m, k, j)
      }
    }
    predictedAdversaryNetVtt = -slashedEach(predictedPenalties, 3)
  } else if (strategy === 'colluding-verifier') {
    // Certain wins only: every seat and the verifier's place (k + 1 places); never disputed, never caught.
    for (const { n, m } of eligibleCounts) predictedWrong += holdsFirst(n, m, k + 1)
  } else {
    // The lying executor, while eligible, is seated in k/n of the tasks and disputes each (the
    // honest seats disagree); each eligible bribed node arbitrates it unless it holds one of the
    // other k − 1 seats (the audited verifier, which commits as a seat, is neglected).
    const liar = report.perNode.find((node) => node.behaviour === 'colluder')!.address
    const bribed = report.perNode.filter((node) => node.behaviour === 'bribed-arbiter').map((node) => node.address)
    let disputes = 0
    let votes = 0
    for (const { n, eligible } of eligibleCounts) {
      if (!eligible.has(liar)) continue
      disputes += k / n
      votes += (k / n) * bribed.filter((a) => eligible.has(a)).length * (1 - (k - 1) / (n - 1))
    }
    predictedPenalties = disputes + votes
    predictedAdversaryNetVtt = -(slashedEach(disputes, 1) + 2 * slashedEach(votes / 2, 1)) / 3
  }
  strategyRows.push({
    adversary: spec,
    k,
    quorum,
    tasks: report.tasks,
    epochs,
    epochsSettled: report.settlement?.epochs ?? 0,
    wrongVerified: report.wrongVerdicts,
    predictedWrong,
    allowedWrong: strategy === 'colluding-verifier' ? heldAllAndVerifier : strategy === 'withholder' ? heldAll : 0,
    unresolved: report.unresolved,
    predictedUnresolved,
    withheld: strategy === 'withholder' ? bad.reduce((sum, n) => sum + n.missed, 0) : 0,
    dissents: bad.reduce((sum, n) => sum + n.dissented, 0),
    predictedPenalties,
    honestSlashedVtt: vtt(good.reduce((sum, n) => sum + BigInt(n.slashed), 0n)),
    honestJailed: good.filter((n) => n.jailed).length,
    adversaryNetVtt: meanNet(bad),
    predictedAdversaryNetVtt,
    honestNetVtt: meanNet(good),
    jailed: `${bad.filter((n) => n.jailed).length}/${bad.length}`,
    noOutcome: report.tasks - report.verified - report.failed - report.unresolved,
    rejected: report.rejected,
    seconds: Math.round(seconds),
  })
  console.error(`${spec} k=${k}: done in ${seconds.toFixed(0)} s`)
}

/** What every row must show, checked here and printed with the table. */
const checks: string[] = []
const failedChecks: string[] = []
const check = (ok: boolean, text: string) => (ok ? checks : failedChecks).push(text)
for (const r of rows) {
  check(r.honestSlashedVtt === 0, `${r.adversary}: no honest stake slashed (${r.honestSlashedVtt} VTT)`)
  check(r.epochsSettled === 3, `${r.adversary}: settlement never stopped (${r.epochsSettled} of 3 epochs settled)`)
}
for (const r of coalitionRows) {
  check(r.honestSlashedVtt === 0, `${r.adversary} k=${r.k}: no honest stake slashed (${r.honestSlashedVtt} VTT)`)
  check(r.wrongVerified <= r.heldEverySeat, `${r.adversary} k=${r.k}: wrong results (${r.wrongVerified}) only where the coalition held every seat (${r.heldEverySeat})`)
  check(r.epochsSettled === r.epochs, `${r.adversary} k=${r.k}: settlement never stopped (${r.epochsSettled} of ${r.epochs} epochs settled)`)
}
for (const r of strategyRows) {
  check(r.honestSlashedVtt === 0 && r.honestJailed === 0, `${r.adversary} k=${r.k}: no honest node slashed (${r.honestSlashedVtt} VTT) or jailed (${r.honestJailed})`)
  check(r.wrongVerified <= r.allowedWrong, `${r.adversary} k=${r.k}: wrong results (${r.wrongVerified}) only where its places allowed one (${r.allowedWrong})`)
  check(r.epochsSettled === r.epochs, `${r.adversary} k=${r.k}: settlement never stopped (${r.epochsSettled} of ${r.epochs} epochs settled)`)
}
/** Net profit per adversary row: negative, or reported with its reason. */
const profits: string[] = []
/** Why a row did not end in a loss: what the strategy did, and which parameter would change it. */
function whyNotALoss(label: string, wrong: number): string {
  if (wrong === 0) return 'no lie of it was ever verified or caught (it does not lie, or never where it could be caught): its net is fees for the work it did, at most what an honest node earns, so it gained nothing over honesty'
  if (label.startsWith('colluding-verifier'))
    return `its ${wrong} lies were certain wins (every seat and the verifier's place were its own, so its own audit agreed): no audit rate can reach them; only k can, since m colluders fill k + 1 places with probability C(m,k+1)/C(N,k+1) (≈ f^(k+1)), 0 for 3 of 9 at k ≥ 3`
  if (label.startsWith('strategic-colluder') || label.startsWith('grinding-requester'))
    return `every one of its ${wrong} lies escaped the audit (chance (1 − p)^${wrong} = ${((1 - auditRate) ** wrong).toFixed(2)} at p = ${auditRate}); in expectation a lie is worth (1 − p)·V − p·k·δ·s, a loss for V < 33 VTT at these defaults; a higher auditPpm (the requester's own) lowers both the chance and the bound`
  return `${wrong} wrong results verified without a penalty`
}
for (const r of [...rows.map((r) => ({ label: r.adversary, net: r.adversaryNetVtt, honest: r.honestNetVtt, wrong: r.wrongVerified })), ...coalitionRows.map((r) => ({ label: `${r.adversary} k=${r.k}`, net: r.adversaryNetVtt, honest: r.honestNetVtt, wrong: r.wrongVerified })), ...strategyRows.map((r) => ({ label: `${r.adversary} k=${r.k}`, net: r.adversaryNetVtt, honest: r.honestNetVtt, wrong: r.wrongVerified }))]) {
  if (r.net < 0) continue
  profits.push(`${r.label}: net ${r.net >= 0 ? '+' : ''}${r.net.toFixed(4)} VTT per adversary (honest nodes: ${r.honest.toFixed(4)}), ${r.wrong} wrong results verified: ${whyNotALoss(r.label, r.wrong)}.`)
}

/** Tasks without outcome, with the gateways' reasons when there are any. */
const noOutcome = (r: { noOutcome: number; rejected: Record<string, number> }) =>
  Object.keys(r.rejected).length === 0 ? String(r.noOutcome) : `${r.noOutcome} (${Object.entries(r.rejected).map(([code, n]) => `${code} ${n}`).join(', ')})`

const table = [
  '| adversaries (of 9 equal nodes) | tasks attempted | caught | wrong results verified | net per adversary (VTT) | net per honest node (VTT) | jailed | tasks without outcome |',
  '|---|---:|---:|---:|---:|---:|---|---:|',
  ...rows.map(
    (r) =>
      `| ${r.adversary} | ${r.attempted} | ${r.caught} | ${r.wrongVerified} | ${r.adversaryNetVtt.toFixed(4)} | ${r.honestNetVtt.toFixed(4)} | ${r.jailed} | ${noOutcome(r)} |`,
  ),
].join('\n')
const coalitionTable = [
  '| coalition (3 of 9) | k (quorum) | tasks | nonces ground per spec | wrong results verified | predicted C(3,k)/C(9,k) × (1 − p) × tasks | held every seat (public ranking) | held a quorum, not all | predicted | dissents (slashed) | honest stake slashed (VTT) | net per adversary (VTT) | net per honest node (VTT) | jailed | tasks without outcome |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  ...coalitionRows.map(
    (r) =>
      `| ${r.adversary} | ${r.k} (${r.quorum}) | ${r.tasks} | ${r.noncesPerSpec === null ? '—' : r.noncesPerSpec.toFixed(1)} | ${r.wrongVerified} | ${r.predictedWrong.toFixed(1)} | ${r.heldEverySeat} | ${r.heldQuorumNotAll} | ${r.predictedQuorumNotAll.toFixed(1)} | ${r.dissents} | ${r.honestSlashedVtt.toFixed(4)} | ${r.adversaryNetVtt.toFixed(4)} | ${r.honestNetVtt.toFixed(4)} | ${r.jailed} | ${noOutcome(r)} |`,
  ),
].join('\n')
const strategyTable = [
  '| strategy (3 of 9) | k (quorum) | tasks | epochs settled | wrong results verified | predicted | places allowed a wrong result | unresolved | predicted | withheld reveals | dissents | predicted penalties | honest stake slashed (VTT) | honest jailed | net per adversary (VTT) | predicted | net per honest node (VTT) | jailed | tasks without outcome |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  ...strategyRows.map(
    (r) =>
      `| ${r.adversary} | ${r.k} (${r.quorum}) | ${r.tasks} | ${r.epochsSettled}/${r.epochs} | ${r.wrongVerified} | ${r.predictedWrong.toFixed(1)} | ${r.allowedWrong} | ${r.unresolved} | ${r.predictedUnresolved.toFixed(1)} | ${r.withheld} | ${r.dissents} | ${r.predictedPenalties.toFixed(1)} | ${r.honestSlashedVtt.toFixed(4)} | ${r.honestJailed} | ${r.adversaryNetVtt.toFixed(4)} | ${r.predictedAdversaryNetVtt.toFixed(1)} | ${r.honestNetVtt.toFixed(4)} | ${r.jailed} | ${noOutcome(r)} |`,
  ),
].join('\n')
const checkList = [...failedChecks.map((c) => `- **FAILED**: ${c}`), ...checks.map((c) => `- ok: ${c}`)].join('\n')
const profitList = profits.length === 0 ? '- none: every adversary row ends with a net loss.' : profits.map((p) => `- ${p}`).join('\n')
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`
const markdown = `# Adversaries on the devnet

${new Date().toISOString().slice(0, 10)}, ${machine}, ${quick ? 'quick' : 'full'} mode; stake 1000 VTT per node, fee 0.001 VTT per task, 10 % of stake slashed per dissent. Net = fees earned − stake slashed.

## One behaviour at a time

9 nodes with equal stake, 3 of them adversarial, replicate k = 5, quorum 3, ${tasks} tasks in 3 epochs settled on anvil.

"caught" counts dissents (outvoted and slashed) and missed deadlines (seat handed to a backup).

${table}

## Coalitions that know the public seats

9 nodes with equal stake, 3 of them in the coalition, ${coalitionTasks} tasks per row in epochs of ${coalitionEpochTasks}, settled on anvil. Every node, the coalition included, can rank a task's seats from the epoch's seed, the task's draw block and the stake snapshot, once the draw block is mined. The grinding requester's coalition lies as the strategic one does, and its requester tries nonces before signing each spec until the coalition holds every seat under its guess of the draw (the newest block's hash): the draw block comes after it signs, so its prediction is the strategic coalition's. Any disagreement among the seats goes to arbitration: 193 seats drawn by stake with replacement, a strict majority of them rules, whoever holds them, and 3 of 9 hold about 64 (they need 97: probability 9·10⁻⁷). So the coalition gets a wrong result verified only where it holds all k seats (probability C(3,k)/C(9,k) per task: 1/84 at k = 3, 0 at k = 5) and the verifier ranked after them, always honest then, draws no audit (1 − p, p = ${auditRate} the default policy's audit rate); an audited lie is a dispute the coalition loses. "held every seat" and "held a quorum, not all" count the tasks from the same public ranking; the predictions assume the coalition stays eligible for every task, which a colluder does not once caught: its first lost dispute slashes and jails it.

${coalitionTable}

## Strategies that use the other roles and the transport

9 nodes with equal stake, 3 adversarial (a third of the stake), default policy (quorum ⌊k/2⌋ + 1, audit rate p = ${auditRate}), epochs of ${strategyEpochTasks} tasks settled on anvil. Every strategy ranks each task's places from public data (\`src/devnet/publicSeats.ts\`): the k executor seats, the verifier's place right after them, then the arbiters. The predictions are computed here task by task over the nodes eligible in the task's snapshot (n of them, m the coalition's; a penalised node stays eligible until the snapshot after the batch that penalises it has settled, usually one or two more epochs), with H(j) = C(m,j)·C(n−m,k−j)/C(n,k) the chance that the coalition holds j of the k seats, δ·s = 100 VTT the slash per dissent or withheld seat and s = 1,000 VTT the stake:

- **withholder:3** (\`--adversary withholder:3\`). Commits the coalition's shared lie in tasks whose every seat it holds, the true result elsewhere; its transport (the node code is the honest one; its \`Network\` is wrapped, \`src/devnet/withholdingNetwork.ts\`) then keeps its own reveal back where revealing would lose: every seat held and the verifier's public challenge called an audit (the lie would lose the arbitration; withheld, the auditor alone is short of the quorum and the task ends unresolved instead of verifying the true result), and a quorum of the seats held but not all (the honest seats alone stay below the quorum: the task ends unresolved, the only harm a minority of the seats can do). Elsewhere it reveals. That is its best shot: a withheld seat is slashed δ·s exactly as a dissent is, so silence only pays where it changes the outcome. Predicted: wrong = Σ H(k)·(1 − p), unresolved = Σ (Σ_{q≤j<k} H(j) + H(k)·p), withheld seats = Σ (Σ_{q≤j<k} j·H(j) + k·H(k)·p), net per member ≈ −min(s, δ·s · withheld seats / 3), the sums over tasks.
- **colluding-verifier:3**. Lies, in every role (executor, auditor, arbiter), only where its places make the lie certain: every executor seat *and* the verifier's place (no honest node commits; an audit, drawn or not by the VRF, is its own member's and agrees), or a strict majority of the arbitration's 193 seats (3 of 9 hold about 64 of the 97 they need). Predicted wrong = Σ C(m, k+1)/C(n, k+1): 1/84 per task at k = 2, 0 at k ≥ 3 (3 members cannot fill k + 1 places). Never disputed, never slashed: its net is honest fees plus V per wrong result, V what the result is worth to it (not counted in VTT here).
- **colluder:1,bribed-arbiter:2**. A briber's lying executor (\`colluder\`) and two nodes that are honest as executors and auditors but vote its shared wrong answer whenever a dispute seats them as arbiters. While eligible, the executor is seated in k/n of the tasks and disputes each; 193 arbitration seats are drawn by stake with replacement, every seat holder that did not commit arbitrates, and a strict majority of the seats rules, whoever holds them: the coalition holds about a third of the seats, against the 97 a ruling needs. Predicted: wrong = 0, disputes D = Σ k/n, bribed votes lost V_b = Σ (k/n)·(eligible bribed)·(1 − (k−1)/(n−1)), net per adversary ≈ −(min(s, δ·s·D) + 2·min(s, δ·s·V_b/2))/3.

"places allowed a wrong result" counts the tasks whose ranked places (every seat; for the colluding verifier every seat and the verifier) were the coalition's; "withheld reveals" counts the withholders' missed deadlines (each a withheld reveal here); "dissents" the adversaries' lost votes; predicted penalties are withheld seats (withholder) or dissents (bribe).

${strategyTable}

### Checks

${checkList}

### Adversary rows that did not end with a net loss

${profitList}
`
console.log(`${table}\n\n${coalitionTable}\n\n${strategyTable}\n\n${checkList}\n\n${profitList}`)
// --quick results go to bench/results/quick/ (not committed), so they never replace a full run's.
const dir = quick ? 'bench/results/quick' : 'bench/results'
await mkdir(dir, { recursive: true })
await writeFile(`${dir}/adversaries.md`, markdown)
await writeFile(`${dir}/adversaries.json`, `${JSON.stringify({ quick, tasks, rows, coalitionTasks, coalitionEpochTasks, coalitions: coalitionRows, strategyEpochTasks, strategies: strategyRows, checks, failedChecks, profits }, null, 2)}\n`)
