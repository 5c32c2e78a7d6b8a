// Runs every benchmark in turn: `npm run bench` (or `npm run bench -- --quick` for a short look).
// Each writes its JSON and markdown to bench/results/.
import { spawnSync } from 'node:child_process'

const scripts = ['bench/throughput.ts', 'bench/settlement-gas.ts', 'bench/adversaries.ts', 'bench/libp2p-gossip.ts']
const args = process.argv.slice(2)
let failed = 0
for (const script of scripts) {
  console.log(`\n== ${script} ${args.join(' ')}`)
  const run = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'inherit' })
  if (run.status !== 0) failed++
}
process.exitCode = failed === 0 ? 0 : 1
