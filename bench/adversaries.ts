// Per adversary type: tasks it was drawn for, how often it was caught (outvoted, or replaced for
// missing a deadline), and its net profit, next to the honest nodes of the same run.
// Each adversary type runs in its own devnet on anvil (9 nodes, k = 5), holding 1/3 of the stake
// (colluders and lazy nodes, whose identical guesses make them collude: 2 of 9, fewer than the
// quorum of 3 — see docs/economics.md for larger groups).
//
//   npx tsx bench/adversaries.ts [--quick]
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { formatUnits } from 'viem'
import { parseAdversaries } from '../src/devnet/adversaries.ts'
import type { Behaviour } from '../src/devnet/adversaries.ts'
import { runDevnet } from '../src/devnet/runDevnet.ts'

const quick = process.argv.includes('--quick')
const tasks = quick ? 30 : 90
const types: Array<{ behaviour: Exclude<Behaviour, 'honest'>; spec: string }> = [
  { behaviour: 'liar', spec: 'liar:3' },
  { behaviour: 'colluder', spec: 'colluder:2' },
  { behaviour: 'lazy', spec: 'lazy:2' },
  { behaviour: 'slow', spec: 'slow:3' },
  { behaviour: 'offline', spec: 'offline:3' },
  { behaviour: 'copier', spec: 'copier:3' },
  { behaviour: 'guesser', spec: 'guesser:2' },
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
}

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
  const vtt = (wei: bigint) => Number(formatUnits(wei, 18))
  const mean = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n) / BigInt(Math.max(1, xs.length))
  rows.push({
    adversary: spec,
    attempted: bad.reduce((sum, n) => sum + n.executions, 0),
    caught: bad.reduce((sum, n) => sum + n.dissented + n.missed, 0),
    wrongVerified: report.wrongVerdicts,
    adversaryNetVtt: vtt(mean(bad.map((n) => BigInt(n.net)))),
    honestNetVtt: vtt(mean(good.map((n) => BigInt(n.net)))),
    jailed: `${bad.filter((n) => n.jailed).length}/${bad.length}`,
    noOutcome: report.tasks - report.verified - report.failed - report.unresolved,
  })
  console.error(`${spec}: done`)
}

const header = '| adversaries (of 9 equal nodes) | tasks attempted | caught | wrong results verified | net per adversary (VTT) | net per honest node (VTT) | jailed | tasks without outcome |'
const table = [
  header,
  '|---|---:|---:|---:|---:|---:|---|---:|',
  ...rows.map(
    (r) =>
      `| ${r.adversary} | ${r.attempted} | ${r.caught} | ${r.wrongVerified} | ${r.adversaryNetVtt.toFixed(4)} | ${r.honestNetVtt.toFixed(4)} | ${r.jailed} | ${r.noOutcome} |`,
  ),
].join('\n')
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`
const markdown = `# Adversaries on the devnet\n\n${new Date().toISOString().slice(0, 10)}, ${machine}, ${quick ? 'quick' : 'full'} mode: 9 nodes with equal stake, 3 of them adversarial, replicate k = 5, quorum 3, ${tasks} tasks in 3 epochs settled on anvil; stake 1000 VTT per node, fee 0.001 VTT per task, 10 % of stake slashed per dissent.\n\n"caught" counts dissents (outvoted and slashed) and missed deadlines (seat handed to a backup). Net = fees earned − stake slashed.\n\n${table}\n`
console.log(table)
// --quick results go to bench/results/quick/ (not committed), so they never replace a full run's.
const dir = quick ? 'bench/results/quick' : 'bench/results'
await mkdir(dir, { recursive: true })
await writeFile(`${dir}/adversaries.md`, markdown)
await writeFile(`${dir}/adversaries.json`, `${JSON.stringify({ quick, tasks, rows }, null, 2)}\n`)
