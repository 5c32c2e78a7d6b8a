import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import type { ExampleProgramName } from '../../programs/index.ts'
import {
  hashChainInput,
  loadExampleProgram,
  matmulInput,
  runExampleReference,
  wordCountInput,
} from '../../programs/index.ts'
import type { ExecutionRequest, ExecutionResult } from '../../ports/runtime.ts'
import { createWasmRuntime } from './createWasmRuntime.ts'
import { createProgramCache, executeWasm } from './executeWasm.ts'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const limits = { fuel: 10n ** 10n, memoryPages: 256, outputBytes: 1 << 20 }
const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 7)

const cases: [ExampleProgramName, Uint8Array][] = [
  ['hash-chain', hashChainInput(seed, 0)],
  ['hash-chain', hashChainInput(seed, 1)],
  ['hash-chain', hashChainInput(seed, 500)],
  ['matmul', matmulInput(0, 1)],
  ['matmul', matmulInput(1, 0)],
  ['matmul', matmulInput(17, 0xffff_ffff)],
  ['matmul', matmulInput(48, 42)],
  ['word-count', wordCountInput('')],
  ['word-count', wordCountInput('The cat and THE hat; the 2nd cat.\nCafé, naïve—x2 x2 X2 ½ a_b')],
  ['word-count', wordCountInput('lorem ipsum dolor sit amet '.repeat(400) + 'Zebra zebra 007 7 07')],
]

const programs = new Map<ExampleProgramName, Uint8Array>()

function request(name: ExampleProgramName, input: Uint8Array, fuel = limits.fuel): ExecutionRequest {
  return { programId: `0x${Buffer.from(name).toString('hex')}`, program: programs.get(name) as Uint8Array, input, limits: { ...limits, fuel } }
}

function outputOf(result: ExecutionResult): Uint8Array {
  assert.equal(result.status, 'ok', result.status === 'failed' ? result.reason : '')
  return (result as { output: Uint8Array }).output
}

describe('example programs', () => {
  before(async () => {
    // programs/build is not checked in; compile whatever is missing or out of date.
    const build = spawnSync(process.execPath, ['scripts/build-programs.mjs', '--if-stale'], { cwd: root, encoding: 'utf8' })
    assert.equal(build.status, 0, build.stderr)
    for (const name of ['hash-chain', 'matmul', 'word-count'] as const) programs.set(name, await loadExampleProgram(name))
  })

  it('produce the outputs of their reference implementations', () => {
    const cache = createProgramCache(4)
    for (const [name, input] of cases) {
      const output = outputOf(executeWasm(request(name, input), { cache }))
      assert.deepEqual(Buffer.from(output), Buffer.from(runExampleReference(name, input)), name)
    }
  })

  it('use the same fuel on every run, and run out one unit short of it', () => {
    const cache = createProgramCache(4)
    for (const [name, input] of cases) {
      const first = executeWasm(request(name, input), { cache })
      assert.deepEqual(executeWasm(request(name, input), { cache }), first)
      const needed = first.fuelUsed
      assert.equal(executeWasm(request(name, input, needed), { cache }).status, 'ok')
      assert.deepEqual(executeWasm(request(name, input, needed - 1n), { cache }), {
        status: 'failed',
        reason: 'out-of-fuel',
        fuelUsed: needed - 1n,
      })
    }
  })

  it('trap on malformed input', () => {
    assert.equal(executeWasm(request('hash-chain', new Uint8Array(35))).status, 'failed')
    const tooBig = new Uint8Array(8)
    new DataView(tooBig.buffer).setUint32(0, 100_000, true)
    assert.deepEqual(executeWasm(request('matmul', tooBig)).status, 'failed')
    assert.throws(() => runExampleReference('matmul', tooBig), RangeError)
  })

  describe('through the worker pool', () => {
    const runtime = createWasmRuntime({ threads: 2 })
    after(() => runtime.close())

    it('give the same results as in-thread execution', async () => {
      const results = await Promise.all(cases.map(([name, input]) => runtime.execute(request(name, input))))
      results.forEach((result, i) => {
        const [name, input] = cases[i] as [ExampleProgramName, Uint8Array]
        assert.deepEqual(result, executeWasm(request(name, input)))
      })
    })
  })
})
