// Honest work under a gossip flood, side by side in one run: 5 in-process nodes verify the same
// honest workload twice, once quiet and once while a staked node's key floods the network with
// signed commits for tasks that do not exist (48 per batch, each batch new), replays of one of
// them, and oversized and malformed messages. Reported per run: honest throughput and p99 latency,
// the peak V8 heap, the most gossip any node held for unknown tasks, and what the nodes refused.
// The flood's commits are what the held buffer is for (a spec may lag its commits), so they reach
// it; its bounds (docs/operations.md) must keep memory flat while honest tasks keep verifying.
//
//   npx tsx bench/flood.ts [--quick]
import { keccak256, numberToHex } from 'viem'
import { signCommitBatch } from '../src/core/commit.ts'
import { devnetDomain } from '../src/core/eip712.ts'
import { encodeMessage } from '../src/core/messages.ts'
import { defaultParams } from '../src/core/params.ts'
import { topics } from '../src/ports/network.ts'
import { devnetAccount } from '../src/devnet/accounts.ts'
import { echoRuntime, runCluster } from './lib/cluster.ts'
import type { RunClusterOptions } from './lib/cluster.ts'
import { machine, quantile, today, writeResults } from './lib/report.ts'

const quick = process.argv.includes('--quick')
const tasks = quick ? 300 : 1_500
/** Flood messages per second, all kinds together. */
const FLOOD_RATE = 1_000
const COMMITS_PER_BATCH = 48
/** Distinct signed batches, made before the runs (the attacker's signing is its own CPU, not the nodes'); sent round-robin. */
const BATCHES = quick ? 200 : 600
const mib = (bytes: number) => bytes / 2 ** 20

interface Run {
  label: string
  tasksPerSecond: number
  p99Ms: number
  peakHeapMiB: number
  peakHeldPerNode: number
  floodMessages: number
  refused: Record<string, number>
}

/** The flood's messages, by the last node's key (a staked node turned attacker). */
async function floodMessagesOf(key: Parameters<typeof signCommitBatch>[0]): Promise<Uint8Array[]> {
  const batches: Uint8Array[] = []
  for (let b = 0; b < BATCHES; b++) {
    const commits = Array.from({ length: COMMITS_PER_BATCH }, (_, c) => {
      const taskId = keccak256(numberToHex((b << 8) | c, { size: 32 }))
      return { taskId, commitment: taskId }
    })
    batches.push(encodeMessage({ type: 'commits', ...(await signCommitBatch(key, commits, devnetDomain)) }))
  }
  return batches
}

async function run(label: string, flood: Uint8Array[] | undefined): Promise<Run> {
  let peakHeap = 0
  let peakHeld = 0
  let floodMessages = 0
  const refused: Record<string, number> = {}
  let nodesSeen: Parameters<NonNullable<RunClusterOptions['during']>>[0]['nodes'] = []
  const sample = () => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
    for (const node of nodesSeen) peakHeld = Math.max(peakHeld, node.stats().heldMessages)
  }
  const result = await runCluster({
    nodes: 5,
    tasks,
    runtime: echoRuntime,
    concurrency: 16,
    epochTasks: 300,
    seed: 'flood',
    task: (i) => ({ program: new Uint8Array([0, 97, 115, 109]), input: new Uint8Array(numberToHex(i, { size: 32 }).length).fill(i % 251), limits: { fuel: 1_000n, memoryPages: 1, outputBytes: 64 } }),
    sampleEvery: 25,
    onSample: sample,
    during: ({ hub, nodes }) => {
      nodesSeen = nodes
      const sampler = setInterval(sample, 50)
      if (flood === undefined) return async () => clearInterval(sampler)
      const attacker = hub.connect('flooder')
      let stopped = false
      let batch = 0
      const oversized = new Uint8Array(defaultParams.maxMessageBytes + 1)
      const malformed = new TextEncoder().encode('{"type":"commits",')
      const loop = (async () => {
        while (!stopped) {
          const started = performance.now()
          // Per 10 ms: mostly commit batches, a replay of the first, an oversized and a malformed message.
          for (let i = 0; i < FLOOD_RATE / 100 && !stopped; i++) {
            const bytes = i % 10 === 7 ? flood[0]! : i % 10 === 8 ? oversized : i % 10 === 9 ? malformed : flood[batch++ % flood.length]!
            await attacker.publish(topics.commits, bytes).catch(() => undefined)
            floodMessages++
          }
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, 10 - (performance.now() - started))))
        }
      })()
      return async () => {
        stopped = true
        await loop
        clearInterval(sampler)
        for (const node of nodes) for (const [code, count] of Object.entries(node.stats().rejected)) refused[code] = (refused[code] ?? 0) + count
      }
    },
  })
  if (result.verified !== tasks) throw new Error(`${label}: ${result.verified} of ${tasks} tasks verified`)
  return {
    label,
    tasksPerSecond: (tasks / result.durationMs) * 1000,
    p99Ms: quantile(result.latencies, 0.99),
    peakHeapMiB: mib(peakHeap),
    peakHeldPerNode: peakHeld,
    floodMessages,
    refused,
  }
}

const quiet = await run('quiet', undefined)
const flooded = await run('flood', await floodMessagesOf(devnetAccount('flood', 'node', 4)))
const ratio = flooded.tasksPerSecond / quiet.tasksPerSecond
const f = (x: number) => x.toFixed(1)
const table = [
  '| run | honest tasks/s | p99 submit → verdict (ms) | peak heap (MiB) | most held by a node | flood messages | refused by the nodes |',
  '|---|---:|---:|---:|---:|---:|---|',
  ...[quiet, flooded].map(
    (r) =>
      `| ${r.label} | ${f(r.tasksPerSecond)} | ${f(r.p99Ms)} | ${f(r.peakHeapMiB)} | ${r.peakHeldPerNode} | ${r.floodMessages} | ${
        Object.entries(r.refused)
          .sort(([, a], [, b]) => b - a)
          .map(([code, n]) => `${code} ${n}`)
          .join(', ') || '-'
      } |`,
  ),
].join('\n')
console.log(table)
console.log(`flood ÷ quiet throughput: ${ratio.toFixed(2)} (target ≥ 0.5)`)
await writeResults('flood', {
  quick,
  json: { quick, tasks, floodRate: FLOOD_RATE, commitsPerBatch: COMMITS_PER_BATCH, runs: [quiet, flooded], ratio },
  markdown: `# Honest work under a gossip flood

${today()}, ${machine()}, ${quick ? 'quick' : 'full'} mode. 5 in-process nodes on the memory transport (each checks every signature itself), ${tasks} tasks with an executor that returns its input (all protocol, no execution), replicate k = 3, 16 in flight. In the flood run a staked node's key publishes ${FLOOD_RATE} messages/s: signed batches of ${COMMITS_PER_BATCH} commits for tasks that do not exist (each batch new), a replay of the first, oversized and malformed messages. Every node receives all of it. Memory is sampled every 50 ms. \`npx tsx bench/flood.ts\`.

${table}

Honest throughput under the flood: **${ratio.toFixed(2)}** of the quiet run's (target ≥ 0.5). What a node holds for unknown tasks stays within its per-signer bound (256), however long the flood lasts; the rest is refused and counted, never relayed.
`,
})
