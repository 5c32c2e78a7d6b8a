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
//   npx tsx bench/adversaries.ts [--quick]
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { formatUnits } from 'viem'
import { defaultParams } from '../src/core/params.ts'
import { executorsOf, rankTask } from '../src/core/task.ts'
import type { Address } from '../src/core/types.ts'
import { parseAdversaries } from '../src/devnet/adversaries.ts'
import type { Behaviour } from '../src/devnet/adversaries.ts'
import { runDevnet } from '../src/devnet/runDevnet.ts'
import type { DevnetNodeReport } from '../src/devnet/runDevnet.ts'

const quick = process.argv.includes('--quick')
const tasks = quick ? 30 : 90
/** Tasks per coalition run: enough for a 1/84 event to happen about a dozen times in full mode. */
const coalitionTasks = quick ? 60 : 1_000
const coalitionEpochTasks = quick ? 20 : 100
const types: Array<{ behaviour: Exclude<Behaviour, 'honest'>; spec: string }> = [
  { behaviour: 'liar', spec: 'liar:3' },
  { behaviour: 'colluder', spec: 'colluder:2' },
  { behaviour: 'lazy', spec: 'lazy:2' },
  { behaviour: 'slow', spec: 'slow:3' },
  { behaviour: 'offline', spec: 'offline:3' },
  { behaviour: 'copier', spec: 'copier:3' },
  { behaviour: 'guesser', spec: 'guesser:2' },
]
const coalitions: Array<{ behaviour: 'strategic-colluder' | 'quorum-colluder'; k: number }> = [
  { behaviour: 'strategic-colluder', k: 3 },
  { behaviour: 'strategic-colluder', k: 5 },
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
}

const vtt = (wei: bigint) => Number(formatUnits(wei, 18))
const mean = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n) / BigInt(Math.max(1, xs.length))
const meanNet = (nodes: DevnetNodeReport[]) => vtt(mean(nodes.map((n) => BigInt(n.net))))

const rows: Row[] = []
for (const { behaviour, spec } of types) {
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
for (const { behaviour, k } of coalitions) {
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
    onSubmitted: ({ taskId, spec, snapshot }) => {
      if (snapshot !== undefined) seatsByTask.push(rankTask({ view: snapshot, taskId, spec, backups: 0 }).slice(0, executorsOf(spec.policy)))
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
  })
  console.error(`${behaviour}:3 k=${k}: done in ${seconds.toFixed(0)} s`)
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
  '| coalition (3 of 9) | k (quorum) | tasks | wrong results verified | predicted C(3,k)/C(9,k) × (1 − p) × tasks | held every seat (public ranking) | held a quorum, not all | predicted | dissents (slashed) | honest stake slashed (VTT) | net per adversary (VTT) | net per honest node (VTT) | jailed | tasks without outcome |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
  ...coalitionRows.map(
    (r) =>
      `| ${r.adversary} | ${r.k} (${r.quorum}) | ${r.tasks} | ${r.wrongVerified} | ${r.predictedWrong.toFixed(1)} | ${r.heldEverySeat} | ${r.heldQuorumNotAll} | ${r.predictedQuorumNotAll.toFixed(1)} | ${r.dissents} | ${r.honestSlashedVtt.toFixed(4)} | ${r.adversaryNetVtt.toFixed(4)} | ${r.honestNetVtt.toFixed(4)} | ${r.jailed} | ${noOutcome(r)} |`,
  ),
].join('\n')
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`
const markdown = `# Adversaries on the devnet

${new Date().toISOString().slice(0, 10)}, ${machine}, ${quick ? 'quick' : 'full'} mode; stake 1000 VTT per node, fee 0.001 VTT per task, 10 % of stake slashed per dissent. Net = fees earned − stake slashed.

## One behaviour at a time

9 nodes with equal stake, 3 of them adversarial, replicate k = 5, quorum 3, ${tasks} tasks in 3 epochs settled on anvil.

"caught" counts dissents (outvoted and slashed) and missed deadlines (seat handed to a backup).

${table}

## Coalitions that know the public seats

9 nodes with equal stake, 3 of them in the coalition, ${coalitionTasks} tasks per row in epochs of ${coalitionEpochTasks}, settled on anvil. Every node, the coalition included, can rank a task's seats from the epoch's seed and stake snapshot. Any disagreement among the seats goes to arbitration by every node that did not commit (up to 193), where a strict majority of all seats rules: 3 of 9 never wins it. So the coalition gets a wrong result verified only where it holds all k seats (probability C(3,k)/C(9,k) per task: 1/84 at k = 3, 0 at k = 5) and the verifier ranked after them, always honest then, draws no audit (1 − p, p = ${auditRate} the default policy's audit rate); an audited lie is a dispute the coalition loses. "held every seat" and "held a quorum, not all" count the tasks from the same public ranking; the predictions assume the coalition stays eligible for every task, which a colluder does not once caught: its first lost dispute slashes and jails it.

${coalitionTable}
`
console.log(`${table}\n\n${coalitionTable}`)
// --quick results go to bench/results/quick/ (not committed), so they never replace a full run's.
const dir = quick ? 'bench/results/quick' : 'bench/results'
await mkdir(dir, { recursive: true })
await writeFile(`${dir}/adversaries.md`, markdown)
await writeFile(`${dir}/adversaries.json`, `${JSON.stringify({ quick, tasks, rows, coalitionTasks, coalitionEpochTasks, coalitions: coalitionRows }, null, 2)}\n`)
