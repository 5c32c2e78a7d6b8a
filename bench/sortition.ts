// Sortition benchmark: ranking one task's seats and backups (k = 3, 3 backups: 6 places) among N
// eligible nodes, for N = 100, 1,000 and 10,000, with the Efraimidis–Spirakis ranking sortition
// used before (one keccak and one logarithm per node and task: O(N)) and the cumulative-stake
// table it uses now (src/core/sortition.ts: O(k log N) per task, the table built once per epoch
// snapshot), side by side in one run on the same nodes and tasks.
//
// Usage: npm run bench:sortition [-- --quick]   (npx tsx bench/sortition.ts [--quick])
// Prints a table and writes bench/results/sortition.json and .md. The baseline below keeps the
// old rule in its floating-point form (its exact tie-breaking ran for near-ties only), so it is
// the old cost, not its bit-exact order; both draw stake-weighted without replacement.
import { getAddress } from 'viem'
import { keccak256Hex } from '../src/core/keccak.ts'
import { writeHex } from '../src/core/hexBytes.ts'
import { rankCandidates } from '../src/core/sortition.ts'
import type { Candidate } from '../src/core/sortition.ts'
import type { Address, Hex } from '../src/core/types.ts'
import { machine, median, quickFlag, today, writeResults } from './lib/report.ts'

const quick = quickFlag('npm run bench:sortition [-- --quick]')
const SIZES = quick ? [100, 1_000] : [100, 1_000, 10_000]
const PLACES = 6
const REPEATS = quick ? 3 : 7

const encoder = new TextEncoder()
const hashOf = (label: string): Hex => keccak256Hex(encoder.encode(label))
const seed = hashOf('bench seed')

/** The old ranking: every candidate keyed by −ln(u)/w from keccak(seed ‖ taskId ‖ address). */
function rankBefore(taskId: Hex, candidates: readonly Candidate[], count: number): Address[] {
  const packed = new Uint8Array(84)
  writeHex(packed, 0, seed, 32, 'seed')
  writeHex(packed, 32, taskId, 32, 'taskId')
  const keyed = candidates.map((c) => {
    writeHex(packed, 64, c.address, 20, 'address')
    const h = BigInt(keccak256Hex(packed))
    return { address: c.address, key: (256 - Math.log2(Number(h + 1n))) / Number(c.weight) }
  })
  keyed.sort((a, b) => a.key - b.key)
  return keyed.slice(0, count).map((k) => k.address)
}

interface Row {
  nodes: number
  tasks: number
  beforeUsPerTask: number
  nowUsPerTask: number
  tableBuildMs: number
  speedup: number
}

const rows: Row[] = []
for (const n of SIZES) {
  const candidates: Candidate[] = Array.from({ length: n }, (_, i) => ({
    address: getAddress(hashOf(`node ${i}`).slice(0, 42)),
    weight: BigInt(1 + (i % 10)) * 10n ** 21n,
  }))
  const tasks = Math.max(200, Math.round(2_000_000 / n))
  const ids = Array.from({ length: tasks }, (_, i) => hashOf(`task ${n} ${i}`))
  const before: number[] = []
  const now: number[] = []
  const builds: number[] = []
  for (let r = 0; r < REPEATS; r++) {
    // A fresh list each repetition: the first ranking against it builds its table.
    const list = [...candidates]
    let t = performance.now()
    rankCandidates({ seed, taskId: ids[0]!, candidates: list, count: PLACES })
    builds.push(performance.now() - t)
    t = performance.now()
    for (const id of ids) rankCandidates({ seed, taskId: id, candidates: list, count: PLACES })
    now.push(((performance.now() - t) * 1000) / tasks)
    t = performance.now()
    for (const id of ids) rankBefore(id, list, PLACES)
    before.push(((performance.now() - t) * 1000) / tasks)
  }
  const row = {
    nodes: n,
    tasks,
    beforeUsPerTask: median(before),
    nowUsPerTask: median(now),
    tableBuildMs: median(builds),
    speedup: median(before) / median(now),
  }
  rows.push(row)
  console.log(`${n} nodes: before ${row.beforeUsPerTask.toFixed(1)} µs/task, now ${row.nowUsPerTask.toFixed(1)} µs/task (×${row.speedup.toFixed(1)}), table ${row.tableBuildMs.toFixed(1)} ms`)
}

const table = rows
  .map((r) => `| ${r.nodes.toLocaleString('en')} | ${r.beforeUsPerTask.toFixed(1)} | ${r.nowUsPerTask.toFixed(1)} | ×${r.speedup.toFixed(0)} | ${r.tableBuildMs.toFixed(2)} |`)
  .join('\n')
await writeResults('sortition', {
  quick,
  json: { date: today(), machine: machine(), places: PLACES, repeats: REPEATS, rows },
  markdown: `# Sortition: one task's places among N nodes

${today()}, ${machine()}, ${quick ? 'quick' : 'full'} mode. ${PLACES} places per task (k = 3 seats and 3 backups), stakes of 1 to 10 units, medians of ${REPEATS} repetitions; both rules timed in the same run on the same tasks. \`npm run bench:sortition\`.

| nodes | before: µs per task (O(N)) | now: µs per task (O(k log N)) | faster | now: table per snapshot (ms, once) |
|---:|---:|---:|---:|---:|
${table}

Before, every node ranked all N nodes for every task it saw: at 10,000 nodes that alone is milliseconds per task per node. Now a task costs ${PLACES} keccaks and ${PLACES} descents of a Fenwick tree over the stake line, and the line is built once per epoch snapshot and runtime.
`,
})
