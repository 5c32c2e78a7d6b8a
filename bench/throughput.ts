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
}

interface Row {
  size: string
  rounds: number
  perTaskMs: number
  limit: number
  /** The bare pool's rate right before and right after the devnet runs (their mean is `limit`). */
  limitBefore: number
  limitAfter: number
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
  const limit = (before + after) / 2
  const result = (report: DevnetReport, ideal: number): PolicyResult => ({
    rate: report.throughputPerSecond,
    ideal,
    ratio: report.throughputPerSecond / ideal,
    latencyMs: report.latencyMs,
    messagesPerTask: report.gossip.messagesPerTask,
  })
  rows.push({ size, rounds, perTaskMs, limit, limitBefore: before, limitAfter: after, replicate: result(replicate, limit / 3), sample: result(sample, limit / 1.05) })
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
console.log(targets)

await writeResults('throughput', {
  quick,
  json: { quick, threads, concurrency: CONCURRENCY, rows },
  markdown: `# Verified throughput vs the bare worker pool

${today()}, ${machine()}, ${quick ? 'quick' : 'full'} mode. Hash-chain tasks calibrated to the size shown; 5 in-process nodes on the memory transport sharing one pool of ${threads} worker threads; no chain; ${CONCURRENCY} tasks in flight. The bare pool runs the same tasks right before and after the devnet runs (the mean counts; the two differ when other work competes for the cores). On ${threads} cores the bare pool should reach about ${threads} ÷ (compute per task); a lower figure means the machine was busy during that run, which also flatters the ratios.

${table}

Latency, submit → verdict at the gateway, from the same runs:

${latencyTable}

Targets (issue 9):
${targets}
`,
})
