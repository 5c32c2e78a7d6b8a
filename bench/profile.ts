// Where the protocol's time goes: a CPU profile of the main thread (where all five in-process nodes
// run; the worker threads only execute tasks) during a devnet run without a chain, ~0.2 ms
// hash-chain tasks, replicate k = 3, summed by category from the functions' own (self) time.
//
//   npx tsx bench/profile.ts [--quick]
import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { runDevnet } from '../src/devnet/runDevnet.ts'
import { calibrate, threads, workload } from './lib/hashChainTasks.ts'
import { machine, today, writeResults } from './lib/report.ts'

const quick = process.argv.includes('--quick')
const tasks = quick ? 300 : 2_000

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string }
}
interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Categories, first match wins: [name, test on "function url"]. */
const categories: Array<[string, RegExp]> = [
  ['idle', /^\(idle\) /],
  ['the profiler itself', /^dispatch $/],
  ['garbage collection', /^\(garbage collector\) /],
  ['keccak-256', /src\/core\/keccak\.ts|@noble\/hashes\/.*sha3|viem\/.*keccak256/],
  ['secp256k1 recover / sign (native)', /^ecdsa\w+ .*secp256k1|^Secp256k1Addon |src\/crypto\/secp256k1\.ts/],
  ['EIP-712 encoding', /src\/core\/(typedDataHash|hexBytes|eip712)\.ts/],
  ['message decoding and schema checks (JSON, zod)', /zod\/|src\/core\/messages\.ts|^parse |^stringify |^(encode|decode|encodeInto|encodeUtf8String) /],
  ['sortition (ranking, log2)', /src\/core\/(sortition|log2)\.ts/],
  ['task state machine, verdicts (core)', /src\/core\//],
  ['node: gossip handling, timers, stores', /src\/(node|store)\//],
  ['memory transport', /src\/net\/memory\//],
  ['worker pool messaging', /src\/exec\/|^(postMessage|receiveMessageOnPort|MessageChannel) |node:internal\/worker/],
  ['devnet driver (submitting, bookkeeping)', /src\/devnet\/|bench\//],
  ['viem helpers (hex, addresses)', /viem\//],
  ['promises, microtasks, event loop', /^(runMicrotasks|processImmediate|processTicksAndRejections|runNextTicks) |node:internal\/(timers|process\/task_queues)/],
]

const OTHER = 'other (Node internals, libraries)'

/** Self time by category, and the largest functions in 'other', in ms. */
function summarize(profile: Profile): { totals: Map<string, number>; others: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const totals = new Map<string, number>()
  const others = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame
    const key = `${frame?.functionName || '(anonymous)'} ${frame?.url ?? ''}`
    const category = categories.find(([, test]) => test.test(key))?.[0] ?? OTHER
    const ms = (profile.timeDeltas[i] ?? 0) / 1000
    totals.set(category, (totals.get(category) ?? 0) + ms)
    if (category === OTHER) {
      const name = key.replace(/^(\S+) .*node_modules\/((?:@[^/]+\/)?[^/]+).*$/, '$1 ($2)').replace(/ file:\/\/.*$/, '')
      others.set(name, (others.get(name) ?? 0) + ms)
    }
  })
  return { totals, others }
}

const { rounds, perTaskMs } = await calibrate(0.2)
const items = workload(rounds, tasks)
const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.setSamplingInterval', { interval: 500 })
await session.post('Profiler.start')
const cpu0 = process.cpuUsage()
const report = await runDevnet({ nodes: 5, tasks, chain: false, threads, concurrency: 16, seed: 'profile', workload: items })
const cpu = process.cpuUsage(cpu0)
const { profile } = (await session.post('Profiler.stop')) as { profile: Profile }
session.disconnect()
// VERITASK_PROFILE_OUT=<file> keeps the raw profile (open it in Chrome DevTools).
if (process.env.VERITASK_PROFILE_OUT !== undefined) await writeFile(process.env.VERITASK_PROFILE_OUT, JSON.stringify(profile))
if (report.verified !== tasks) throw new Error(`devnet run incomplete: ${report.verified} of ${tasks} verified`)

const { totals, others } = summarize(profile)
const busy = [...totals].filter(([name]) => name !== 'idle').reduce((sum, [, ms]) => sum + ms, 0)
const rows = [...totals].filter(([name]) => name !== 'idle').sort((a, b) => b[1] - a[1])
const table = [
  '| where | share of main-thread busy time | ms per task (all 5 nodes) |',
  '|---|---:|---:|',
  ...rows.map(([name, ms]) => `| ${name} | ${((ms / busy) * 100).toFixed(1)} % | ${(ms / tasks).toFixed(3)} |`),
  `| **total busy** | 100 % | **${(busy / tasks).toFixed(3)}** |`,
].join('\n')
const summary = `${tasks} tasks at ${report.throughputPerSecond} tasks/s; main thread busy ${(busy / 1000).toFixed(1)} s of ${(report.durationMs / 1000).toFixed(1)} s; process CPU (all threads) ${((cpu.user + cpu.system) / 1000 / tasks).toFixed(2)} ms per task, of which execution is about ${(3 * perTaskMs).toFixed(2)} ms (3 × ${perTaskMs.toFixed(2)} ms)`
const topOthers = [...others].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([name, ms]) => `\`${name.trim()}\` ${((ms / busy) * 100).toFixed(1)} %`).join(', ')
console.log(table)
console.log(summary)
console.log(`largest in other: ${topOthers}`)

await writeResults('profile', {
  quick,
  json: { quick, tasks, rounds, perTaskMs, busyMs: busy, durationMs: report.durationMs, categories: Object.fromEntries(rows) },
  markdown: `# Where the protocol's time goes

${today()}, ${machine()}, ${quick ? 'quick' : 'full'} mode. A CPU profile (V8 sampling profiler, 0.5 ms interval) of the main thread during a devnet run: 5 in-process nodes, no chain, hash-chain tasks of ${perTaskMs.toFixed(2)} ms, replicate k = 3, 16 in flight, the nodes sharing one signature cache (as \`veritask devnet\` does). The main thread runs all five nodes; the ${threads} worker threads only execute tasks. Functions' self time, by category.

${table}

${summary}.

Largest functions in "other": ${topOthers}.
`,
})
