import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { wat } from '../../../test/helpers/wat.ts'
import { createWasmRuntime } from './createWasmRuntime.ts'
import { fuzzSandbox } from './fuzz/fuzzSandbox.ts'
import { generateProgram } from './fuzz/generateProgram.ts'

/** A fixed-seed sample; `npm run bench:wasm-fuzz` runs 10,000 (bench/wasm-fuzz.ts). */
const SEED = 0x5eed_0021
const COUNT = 300

describe('fuzzing: generated programs end the same in-thread and in the worker pool', () => {
  const pool = createWasmRuntime({ threads: 2 })
  after(() => pool.close())

  it('generates the same valid program from the same seed', () => {
    const a = generateProgram(SEED)
    assert.deepEqual(generateProgram(SEED), a)
    assert.ok(WebAssembly.validate(wat(a.text)))
  })

  it(`${COUNT} programs from seed ${SEED}: same outcome and fuel, and the pool never aborts`, async (t) => {
    const result = await fuzzSandbox({ seed: SEED, count: COUNT, pool, compile: (text) => wat(text) })
    t.diagnostic(`fuzz seed ${SEED}, ${COUNT} programs: ${JSON.stringify(result.outcomes)}, ${result.divergences.length} divergences`)
    assert.deepEqual(result.divergences, [])
    // The generator reaches the interesting outcomes, not only one.
    for (const outcome of ['ok', 'trap', 'out-of-fuel']) assert.ok((result.outcomes[outcome] ?? 0) > 0, `no ${outcome} outcome`)
  })
})
