// Runs the benchmarks in turn: `npm run bench` (full figures, written to bench/results/), or
// `npm run bench -- --quick` for a short look of about two minutes (written to bench/results/quick/).
// The adversaries benchmark waits out real protocol deadlines (seconds each), so the quick look
// leaves it out: run it with `npm run bench:adversaries -- --quick`.
import { spawnSync } from 'node:child_process'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const scripts = [
  'bench/throughput.ts',
  'bench/processes.ts',
  'bench/latency.ts',
  'bench/coordination.ts',
  'bench/memory.ts',
  'bench/profile.ts',
  'bench/settlement-gas.ts',
  ...(quick ? [] : ['bench/adversaries.ts']),
  'bench/libp2p-gossip.ts',
]
let failed = 0
for (const script of scripts) {
  console.log(`\n== ${script} ${args.join(' ')}`)
  const started = performance.now()
  const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', script, ...args], { stdio: 'inherit' })
  console.log(`== ${script}: ${run.status === 0 ? 'done' : `FAILED (exit ${run.status})`} in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  if (run.status !== 0) failed++
}
process.exitCode = failed === 0 ? 0 : 1
