// Verified throughput against the physical limit, measured side by side in one run:
//   1. the bare limit: the same WebAssembly tasks on the same worker pool, with no protocol;
//   2. the in-process devnet (no chain) with replicate k = 3 and with sample p = 0.05.
// Ratios are to the ideal: limit ÷ k for replicate, limit ÷ (1 + p) for sample. Latency is submit →
// verdict at the gateway, from the same devnet runs.
//
//   npx tsx bench/throughput.ts [--quick]
import { runDevnet } from '../src/devnet/runDevnet.ts'
import type { DevnetReport } from '../src/devnet/runDevnet.ts'
import { bareRate, calibrate, threads, workload } from './lib/hashChainTasks.ts'
import { machine, today, writeResults } from './lib/report.ts'

const quick = process.argv.includes('--quick')
/** Tasks in flight in the devnet: enough to keep every worker busy, few enough for low latency. */
const CONCURRENCY = 16

interface PolicyResult {
  rate: number
  ideal: number
  ratio: number
  latencyMs: DevnetReport['latencyMs']
  messagesPerTask: number
  /** Process CPU per task during the run, all threads. */
  cpuMsPerTask: number
  /** Executions per task (k for replicate; 1 plus audits and arbitrations for sample). */
  executionsPerTask: number
  /** CPU per task not spent executing: cpuMsPerTask − executionsPerTask × the bare pool's CPU per task. */
  protocolCpuMsPerTask: number
}

interface Row {
  size: string
  rounds: number
  perTaskMs: number
  limit: number
  /** The bare pool's rate right before and right after the devnet runs (their mean is `limit`). */
  limitBefore: number
  limitAfter: number
  /** The bare pool's process CPU per task (mean of before and after). */
  bareCpuMsPerTask: number
  replicate: PolicyResult
  sample: PolicyResult
}

async function devnet(rounds: number, count: number, size: string, sampleRatePpm?: number): Promise<DevnetReport> {
  const report = await runDevnet({
    nodes: 5,
    tasks: count,
    chain: false,
    threads,
    concurrency: CONCURRENCY,
    seed: `throughput-${size}`,
    workload: workload(rounds, count),
    ...(sampleRatePpm === undefined ? {} : { sampleRatePpm }),
  })
  if (report.correct !== report.verified || report.verified !== count) throw new Error(`devnet run incomplete: ${JSON.stringify(report)}`)
  return report
}

const rows: Row[] = []
for (const [size, ms, count] of [
  ['~0.2 ms', 0.2, quick ? 300 : 2_000],
  ['~5 ms', 5, quick ? 120 : 600],
] as const) {
  const { rounds, perTaskMs } = await calibrate(ms)
  // The limit is measured right before and after the devnet runs; the mean of the two counts.
  const before = await bareRate(rounds, count)
  const replicate = await devnet(rounds, count, size)
  const sample = await devnet(rounds, count, size, 50_000)
  const after = await bareRate(rounds, count)
  const limit = (before.rate + after.rate) / 2
  const bareCpuMsPerTask = (before.cpuMsPerTask + after.cpuMsPerTask) / 2
  const result = (report: DevnetReport, ideal: number): PolicyResult => {
    const cpuMsPerTask = report.cpuMs / count
    const executionsPerTask = report.perNode.reduce((sum, n) => sum + n.executions, 0) / count
    return {
      rate: report.throughputPerSecond,
      ideal,
      ratio: report.throughputPerSecond / ideal,
      latencyMs: report.latencyMs,
      messagesPerTask: report.gossip.messagesPerTask,
      cpuMsPerTask,
      executionsPerTask,
      protocolCpuMsPerTask: cpuMsPerTask - executionsPerTask * bareCpuMsPerTask,
    }
  }
  rows.push({
    size,
    rounds,
    perTaskMs,
    limit,
    limitBefore: before.rate,
    limitAfter: after.rate,
    bareCpuMsPerTask,
    replicate: result(replicate, limit / 3),
    sample: result(sample, limit / 1.05),
  })
  console.error(`${size}: done`)
}

const f = (x: number) => x.toFixed(1)
const table = [
  '| task size | rounds | compute per task (1 thread) | bare pool (tasks/s; before / after) | replicate k=3 (tasks/s) | ÷ ideal (limit/3) | sample p=0.05 (tasks/s) | ÷ ideal (limit/1.05) |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.size} | ${r.rounds} | ${r.perTaskMs.toFixed(2)} ms | ${f(r.limit)} (${f(r.limitBefore)} / ${f(r.limitAfter)}) | ${f(r.replicate.rate)} | ${r.replicate.ratio.toFixed(2)} | ${f(r.sample.rate)} | ${r.sample.ratio.toFixed(2)} |`,
  ),
].join('\n')
const latencyTable = [
  '| task size | policy | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | messages per task |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...rows.flatMap((r) =>
    (['replicate', 'sample'] as const).map((p) => {
      const l = r[p].latencyMs
      return `| ${r.size} | ${p} | ${f(l.p50)} | ${f(l.p95)} | ${f(l.p99)} | ${f(l.max)} | ${r[p].messagesPerTask} |`
    }),
  ),
].join('\n')
const cpuTable = [
  '| task size | policy | process CPU per task (ms) | executions per task | of which executing (ms) | protocol (ms) | cores busy |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...rows.flatMap((r) =>
    (['replicate', 'sample'] as const).map((p) => {
      const x = r[p]
      return `| ${r.size} | ${p} | ${x.cpuMsPerTask.toFixed(2)} | ${x.executionsPerTask.toFixed(2)} | ${(x.executionsPerTask * r.bareCpuMsPerTask).toFixed(2)} | ${x.protocolCpuMsPerTask.toFixed(2)} | ${((x.cpuMsPerTask * x.rate) / 1000).toFixed(2)} |`
    }),
  ),
].join('\n')
const targets = rows
  .map((r) => {
    const need = r.size === '~5 ms' ? 0.9 : 0.6
    const check = (name: string, ratio: number) =>
      ratio >= need ? `${name} meets ≥ ${need} (${ratio.toFixed(2)})` : `${name} MISSES ≥ ${need} by ${(need - ratio).toFixed(2)} (${ratio.toFixed(2)})`
    const p99 = r.replicate.latencyMs.p99
    const latency = r.size === '~5 ms' ? `; p99 submit → verified ${f(p99)} ms (target ≤ 250: ${p99 <= 250 ? 'met' : `MISSED by ${f(p99 - 250)} ms`})` : ''
    return `- ${r.size}: ${check('replicate', r.replicate.ratio)}; ${check('sample', r.sample.ratio)}${latency}`
  })
  .join('\n')
console.log(table)
console.log(latencyTable)
console.log(cpuTable)
console.log(targets)

await writeResults('throughput', {
  quick,
  json: { quick, threads, concurrency: CONCURRENCY, rows },
  markdown: `# Verified throughput vs the bare worker pool

${today()}, ${machine()}, ${quick ? 'quick' : 'full'} mode. Hash-chain tasks calibrated to the size shown; 5 in-process nodes on the memory transport sharing one pool of ${threads} worker threads; no chain; ${CONCURRENCY} tasks in flight. The bare pool runs the same tasks right before and after the devnet runs (the mean counts; the two differ when other work competes for the cores). On ${threads} cores the bare pool should reach about ${threads} ÷ (compute per task); a lower figure means the machine was busy during that run, which also flatters the ratios.

${table}

Latency, submit → verdict at the gateway, from the same runs:

${latencyTable}

Where the CPU goes: the process's CPU time per task during each devnet run (all threads: five nodes, task execution, garbage collection), split into execution (executions per task × the bare pool's CPU per task, ${rows.map((r) => `${r.bareCpuMsPerTask.toFixed(2)} ms for ${r.size}`).join(', ')}) and the rest, the protocol. On ${threads} cores the ideal leaves no CPU for the protocol; every millisecond of it per task lowers the ratio.

${cpuTable}

Targets (issue 9):
${targets}
`,
})
