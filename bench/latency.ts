// Latency from submit to verified and from submit to settled on-chain: the devnet with anvil, 5 nodes,
// ~5 ms tasks, replicate k = 3, epochs of 50 tasks each settled in one committee-signed batch.
//
//   npx tsx bench/latency.ts [--quick]
import { runDevnet } from '../src/devnet/runDevnet.ts'
import { calibrate, threads, workload } from './lib/hashChainTasks.ts'
import { machine, today, writeResults } from './lib/report.ts'

const quick = process.argv.includes('--quick')
const CONCURRENCY = 16
const EPOCH_TASKS = 50
const tasks = quick ? 100 : 500

const { rounds, perTaskMs } = await calibrate(5)
const report = await runDevnet({
  nodes: 5,
  tasks,
  threads,
  concurrency: CONCURRENCY,
  epochTasks: EPOCH_TASKS,
  seed: 'latency',
  workload: workload(rounds, tasks),
})
if (report.correct !== tasks || report.settlement === null || report.settlementLatencyMs === null) {
  throw new Error(`devnet run incomplete: ${JSON.stringify({ ...report, perNode: undefined })}`)
}
const verified = report.latencyMs
const settled = report.settlementLatencyMs
const f = (x: number) => x.toFixed(1)
const table = [
  '| from submit to | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) |',
  '|---|---:|---:|---:|---:|',
  `| verified (verdict at the gateway) | ${f(verified.p50)} | ${f(verified.p95)} | ${f(verified.p99)} | ${f(verified.max)} |`,
  `| settled (the epoch's batch accepted on-chain) | ${f(settled.p50)} | ${f(settled.p95)} | ${f(settled.p99)} | ${f(settled.max)} |`,
].join('\n')
const summary = `${tasks} tasks in ${report.settlement.epochs} epochs, ${f(report.throughputPerSecond)} tasks/s overall (settlement included), ${report.settlement.gasPerEpoch} gas per epoch`
console.log(table)
console.log(summary)

await writeResults('latency', {
  quick,
  json: { quick, rounds, perTaskMs, concurrency: CONCURRENCY, epochTasks: EPOCH_TASKS, tasks, verified, settled, throughputPerSecond: report.throughputPerSecond, settlement: report.settlement },
  markdown: `# Latency: submit → verified → settled

${today()}, ${machine()}, ${quick ? 'quick' : 'full'} mode. The devnet on anvil: 5 in-process nodes on the memory transport sharing ${threads} worker threads, hash-chain tasks of ${perTaskMs.toFixed(2)} ms each (${rounds} rounds), replicate k = 3, ${CONCURRENCY} tasks in flight, ${EPOCH_TASKS} tasks per epoch.

${table}

${summary}.

A task is settled when the batch of its epoch is: the devnet submits an epoch's tasks, waits for their verdicts, then has the committee sign the batch and submits it (one transaction). So settlement latency is about an epoch's length plus one batch: it falls with shorter epochs, at the price of more batches (gas per task: [settlement-gas.md](settlement-gas.md)).
`,
})
