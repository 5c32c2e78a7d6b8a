// What `npm start` runs — the in-process devnet settling every epoch on anvil — against the bare
// worker pool, side by side in one run: ~5 ms hash-chain tasks, 5 nodes, replicate k = 3, epochs
// of 50 tasks. The ratio is to the ideal (limit ÷ k); the run must verify and settle every task.
//
//   npx tsx bench/settled-devnet.ts [--quick] [--label before|after]
import { readFile } from 'node:fs/promises'
import { runDevnet } from '../src/devnet/runDevnet.ts'
import { bareRate, calibrate, threads, workload } from './lib/hashChainTasks.ts'
import { machine, today, writeResults } from './lib/report.ts'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const labelAt = args.indexOf('--label')
const label = labelAt >= 0 ? (args[labelAt + 1] ?? 'run') : 'run'
const count = quick ? 100 : 200
const epochTasks = 50

interface Run {
  label: string
  date: string
  tasks: number
  limit: number
  rate: number
  ratio: number
  verified: number
  settledTasks: number
  epochs: number
  p99Ms: number
  settlementP99Ms: number | null
}

const { rounds } = await calibrate(5)
const before = await bareRate(rounds, count)
const report = await runDevnet({ nodes: 5, tasks: count, epochTasks, threads, concurrency: 16, seed: 'settled-devnet', workload: workload(rounds, count) })
const after = await bareRate(rounds, count)
const limit = (before.rate + after.rate) / 2
const settledTasks = report.settlement?.settledTasks ?? 0
if (report.verified !== count || settledTasks !== count) throw new Error(`not every task verified and settled: ${report.verified} verified, ${settledTasks} settled of ${count}`)
const run: Run = {
  label,
  date: today(),
  tasks: count,
  limit,
  rate: report.throughputPerSecond,
  ratio: report.throughputPerSecond / (limit / 3),
  verified: report.verified,
  settledTasks,
  epochs: report.settlement?.epochs ?? 0,
  p99Ms: report.latencyMs.p99,
  settlementP99Ms: report.settlementLatencyMs?.p99 ?? null,
}

// Earlier runs (another label, e.g. before a change) stay in the file beside this one.
const dir = quick ? 'bench/results/quick' : 'bench/results'
const earlier: Run[] = await readFile(`${dir}/settled-devnet.json`, 'utf8')
  .then((text) => (JSON.parse(text) as { runs: Run[] }).runs.filter((r) => r.label !== label))
  .catch(() => [])
const runs = [...earlier, run]
const f = (x: number) => x.toFixed(1)
const table = [
  '| run | date | tasks | bare pool (tasks/s) | devnet, settled (tasks/s) | ÷ ideal (limit/3) | verified | settled | epochs | p99 submit → verified (ms) | p99 submit → settled (ms) |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...runs.map(
    (r) =>
      `| ${r.label} | ${r.date} | ${r.tasks} | ${f(r.limit)} | ${f(r.rate)} | ${r.ratio.toFixed(2)} | ${r.verified} | ${r.settledTasks} | ${r.epochs} | ${f(r.p99Ms)} | ${r.settlementP99Ms === null ? '-' : f(r.settlementP99Ms)} |`,
  ),
].join('\n')
console.log(table)
await writeResults('settled-devnet', {
  quick,
  json: { runs },
  markdown: `# The devnet as \`npm start\` runs it, against the bare pool

${machine()}. ~5 ms hash-chain tasks, 5 in-process nodes, replicate k = 3, epochs of ${epochTasks} tasks settled on anvil; the bare pool runs the same tasks right before and after, and the ratio is the devnet's rate over a third of the pool's (the mean of the two). Each row is one run of \`npx tsx bench/settled-devnet.ts --label <run>\`; its throughput counts from the first submission until every epoch is settled. (The \`before\` row, taken with the devnet's own settlement driver, also counted the claims, receipts and shutdown that follow, about 1 s of the run at this size; \`after\` counts what this sentence says.)

${table}
`,
})
