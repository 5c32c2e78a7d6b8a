// Verified throughput with every node in its own process over libp2p (`veritask devnet
// --processes`): five `veritask node` processes on loopback, anvil, and this process as the
// requester submitting over HTTP. The same ~5 ms hash-chain tasks as bench/throughput.ts, replicate
// k = 3, against the bare worker pool measured in the same run. Each node process has its own
// worker pool, so here too every task's protocol work and its three executions share the cores.
//
// The node processes run the built CLI (dist/): `npm run bench:processes` builds it first.
//
//   npx tsx bench/processes.ts [--quick]        BENCH_CONCURRENCY=<n> sets the tasks in flight (16)
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { runProcessDevnet } from '../src/cli/devnet/processes.ts'
import { bareRate, calibrate, threads, workload } from './lib/hashChainTasks.ts'
import { machine, median, today, writeResults } from './lib/report.ts'

const quick = process.argv.includes('--quick')
/** Worker threads each node process runs (`startProcessNetwork` gives each its share of the cores). */
const nodeThreads = Math.max(1, Math.floor(availableParallelism() / 5))
/** What changed since the previous committed figures (issue 19). */
const changes =
  'Since the previous figures (10.2 tasks/s, 0.08 of the ideal, p99 2.7 s; `veritask node` started in 5.8–6.2 s, five at once): the CLI runs as one esbuild bundle (`scripts/build-cli.mjs`), so a node process no longer spends a second resolving and compiling some 1,400 ES modules before it serves. Throughput and latency still follow the draw wait: every task id is anchored on-chain before its draw block, so each task waits 2–4 blocks of 250 ms, and with 16 in flight that wait, not the nodes, sets the throughput. See docs/processes.md.'
const count = quick ? 60 : 240
/** Enough in flight to cover gossip hops between processes and HTTP polling. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16)

/** Whole-process start of `veritask --version` (built CLI), median of 7 runs, in ms. */
function versionStartMs(): number {
  const times = Array.from({ length: 7 }, () => {
    const start = performance.now()
    const run = spawnSync(process.execPath, ['bin/veritask.js', '--version'], { encoding: 'utf8' })
    if (run.status !== 0) throw new Error(`veritask --version failed: ${run.stderr}`)
    return performance.now() - start
  })
  return median(times)
}
const versionMs = versionStartMs()

const { rounds, perTaskMs } = await calibrate(5)
const items = workload(rounds, count)
const before = await bareRate(rounds, count)
const context = { stdout: () => {}, stderr: () => {}, setExitCode: () => {}, signal: new AbortController().signal, env: {} }
const report = await runProcessDevnet(context, {
  nodes: 5,
  tasks: count,
  k: 3,
  quorum: 2,
  seed: 'bench-processes',
  concurrency: CONCURRENCY,
  dir: mkdtempSync(join(tmpdir(), 'veritask-bench-processes-')),
  progress: undefined,
  workload: items,
  checkReceipts: false,
})
const after = await bareRate(rounds, count)
// A wrong verified result is a bug; an unresolved task (requester refunded) is a figure to report.
if (report.correct !== report.verified) throw new Error(`wrong results verified: ${JSON.stringify(report)}`)
const limit = (before.rate + after.rate) / 2
const ratio = report.throughputPerSecond / (limit / 3)

const table = [
  '| task size | compute per task (1 thread) | bare pool (tasks/s; before / after) | 5 node processes, replicate k=3 (tasks/s) | ÷ ideal (limit/3) | p50 / p99 submit → verdict (ms) | verified / unresolved |',
  '|---|---:|---:|---:|---:|---:|---:|',
  `| ~5 ms | ${perTaskMs.toFixed(2)} ms | ${limit.toFixed(1)} (${before.rate.toFixed(1)} / ${after.rate.toFixed(1)}) | ${report.throughputPerSecond} | ${ratio.toFixed(2)} | ${report.latencyMs.p50} / ${report.latencyMs.p99} | ${report.verified} / ${report.unresolved} |`,
].join('\n')
const starts = `Whole-process start: \`veritask --version\` ${versionMs.toFixed(0)} ms (median of 7); \`veritask node\` from spawn to its API serving, five started at once with anvil running: ${report.nodeStartMs.join(', ')} ms.`
console.log(table)
console.log(starts)
console.log(`- libp2p processes: replicate ${ratio >= 0.5 ? 'meets' : 'MISSES'} ≥ 0.5 of the ideal (${ratio.toFixed(2)}); p99 submit → verdict ${report.latencyMs.p99 <= 500 ? 'meets' : 'MISSES'} ≤ 500 ms (${report.latencyMs.p99} ms)`)

await writeResults('processes', {
  quick,
  json: { quick, threads, nodeThreads, concurrency: CONCURRENCY, rounds, perTaskMs, limit, limitBefore: before.rate, limitAfter: after.rate, ratio, versionMs, report },
  markdown: `# Verified throughput over libp2p, one process per node

${today()}, ${machine()}, ${quick ? 'quick' : 'full'} mode. Five \`veritask node\` processes (each with ${nodeThreads} worker thread${nodeThreads === 1 ? '' : 's'}: they share the machine's ${availableParallelism()} cores) on loopback over libp2p, anvil mining a block every 250 ms, and this process submitting ${count} hash-chain tasks over HTTP, ${CONCURRENCY} in flight, and reading verdicts from the first node's event stream. The bare pool (${threads} threads) runs the same tasks in this process right before and after.

${table}

${starts}

Submit → verdict here includes HTTP submission, gossip between processes and the event stream; the in-process figures are in [throughput.md](throughput.md).

${changes}
`,
})
