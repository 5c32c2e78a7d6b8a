// Sandbox fuzzing: 10,000 generated WebAssembly programs (src/exec/wasm/fuzz/generateProgram.ts),
// each run in the calling thread and in a two-thread worker pool. Reports the seed, the count, how
// the runs ended, and every divergence (different result or fuel, or the pool aborting); exits 1
// if there is any. The same seed replays the same programs.
//
//   npx tsx bench/wasm-fuzz.ts [--seed N] [--count N]
import { createWasmRuntime } from '../src/exec/wasm/createWasmRuntime.ts'
import { fuzzSandbox } from '../src/exec/wasm/fuzz/fuzzSandbox.ts'
import { wat } from '../test/helpers/wat.ts'

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  return at >= 0 ? Number(process.argv[at + 1]) : fallback
}

const seed = flag('seed', 0x5eed_0021)
const count = flag('count', 10_000)
const pool = createWasmRuntime({ threads: 2 })
await pool.start()
const started = performance.now()
try {
  const result = await fuzzSandbox({ seed, count, pool, compile: (text) => wat(text), concurrency: 4 })
  const seconds = (performance.now() - started) / 1000
  console.log(JSON.stringify({ seed, count, seconds: Number(seconds.toFixed(1)), outcomes: result.outcomes, divergences: result.divergences.length }))
  for (const d of result.divergences.slice(0, 20)) console.log(`divergence at seed ${d.seed}: in-thread ${d.inThread}; pool ${d.pool}`)
  process.exitCode = result.divergences.length === 0 ? 0 : 1
} finally {
  await pool.close()
}
