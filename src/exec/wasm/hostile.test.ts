import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { abiProgram, wat } from '../../../test/helpers/wat.ts'
import type { ExecutionLimits, ExecutionRequest, ExecutionResult } from '../../ports/runtime.ts'
import { createWasmRuntime } from './createWasmRuntime.ts'
import { executeWasm } from './executeWasm.ts'
import { MAX_INITIAL_TABLE_ELEMENTS, MAX_TABLES } from './instrument.ts'
import { MAX_LOCALS } from './meterFunction.ts'

const LIMITS: ExecutionLimits = { fuel: 10_000_000n, memoryPages: 256, outputBytes: 1024 }
/** U+FEFF as the UTF-8 bytes of a WebAssembly text string. */
const BOM = '\\ef\\bb\\bf'
/** Returns an empty output: [u32 0] at address 0. */
const EMPTY = '(i32.store (i32.const 0) (i32.const 0)) (i32.const 0)'

let nextId = 0
function request(program: Uint8Array, limits: Partial<ExecutionLimits> = {}): ExecutionRequest {
  return { programId: `0x${(++nextId).toString(16).padStart(4, '0')}`, program, input: new Uint8Array(), limits: { ...LIMITS, ...limits } }
}

/**
 * The hostile modules of the sandbox issue. Each must end in one outcome — the same result, or the
 * same failure with the same fuel — in the calling thread and in the worker pool, and never make
 * a node abstain (`ExecutionAbortedError`) for a reason another node would not share.
 */
describe('hostile modules: one outcome in-thread and in the worker pool', () => {
  const pool = createWasmRuntime({ threads: 1 })
  after(() => pool.close())

  async function outcome(program: Uint8Array, limits: Partial<ExecutionLimits> = {}): Promise<ExecutionResult> {
    const req = request(program, limits)
    const inThread = executeWasm(req)
    assert.deepEqual(await pool.execute(req), inThread, 'the worker pool reaches the in-thread outcome')
    return inThread
  }
  const reason = (result: ExecutionResult) => (result.status === 'ok' ? 'ok' : result.reason)

  describe('names are decoded exactly: a leading U+FEFF is part of the name', () => {
    it('exports "" and "\\uFEFF" are two names, and the program runs', async () => {
      const program = abiProgram(EMPTY, `(func (export "") nop) (func (export "${BOM}") nop)`)
      const result = await outcome(program)
      assert.equal(reason(result), 'ok')
      assert.deepEqual((result as { output: Uint8Array }).output, new Uint8Array())
    })

    it('"\\uFEFFrun" is not `run`: the ABI export is missing', async () => {
      const program = wat(`(module (memory (export "memory") 1)
        (func (export "alloc") (param i32) (result i32) i32.const 1024)
        (func (export "${BOM}run") (param i32 i32) (result i32) ${EMPTY}))`)
      assert.deepEqual(await outcome(program), { status: 'failed', reason: 'abi-violation', fuelUsed: 0n })
    })

    it('an import env."\\uFEFFabort" is refused as an import, not linked and aborted', async () => {
      const program = wat(`(module (import "env" "${BOM}abort" (func (param i32 i32 i32 i32)))
        (memory (export "memory") 1)
        (func (export "alloc") (param i32) (result i32) i32.const 1024)
        (func (export "run") (param i32 i32) (result i32) ${EMPTY}))`)
      assert.deepEqual(await outcome(program), { status: 'failed', reason: 'import-not-allowed', fuelUsed: 0n })
    })
  })

  describe('tables are capped in all, not only each', () => {
    it(`refuses ${MAX_TABLES + 1} tables (and 300, which exhausted a worker's heap) before instantiating any`, async () => {
      for (const count of [MAX_TABLES + 1, 300]) {
        const tables = Array.from({ length: count }, () => '(table 65536 funcref)').join(' ')
        assert.deepEqual(await outcome(abiProgram(EMPTY, tables)), { status: 'failed', reason: 'memory-limit', fuelUsed: 0n })
      }
    })

    it(`refuses more than ${MAX_INITIAL_TABLE_ELEMENTS} initial elements over all tables`, async () => {
      const tables = '(table 40000 funcref) (table 40000 funcref)'
      assert.deepEqual(await outcome(abiProgram(EMPTY, tables)), { status: 'failed', reason: 'memory-limit', fuelUsed: 0n })
    })

    it("charges a table's initial elements before the first instruction", async () => {
      const bare = await outcome(abiProgram(EMPTY))
      const withTables = await outcome(abiProgram(EMPTY, '(table 30000 funcref) (table 30000 funcref)'))
      assert.equal(reason(withTables), 'ok')
      assert.equal(withTables.fuelUsed - bare.fuelUsed, 60_000n)
      assert.deepEqual(await outcome(abiProgram(EMPTY, '(table 30000 funcref) (table 30000 funcref)'), { fuel: 59_999n }), {
        status: 'failed',
        reason: 'out-of-fuel',
        fuelUsed: 59_999n,
      })
    })
  })

  describe('memory costs fuel by size', () => {
    /** Grows the memory one page at a time, `pages` times. */
    const grower = (pages: number) =>
      abiProgram(`(local $i i32)
        (block $done (loop $l
          (br_if $done (i32.ge_u (local.get $i) (i32.const ${pages})))
          (drop (memory.grow (i32.const 1)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $l)))
        ${EMPTY}`)

    /** The charge of growing one page at a time from 1 page to 1 + pages: 1,024 × each new size. */
    const stepwise = (pages: number) => 1_024n * BigInt(((pages + 1) * (pages + 2)) / 2 - 1)

    it('memory.grow pays 1,024 fuel per page of the memory it leaves, so growing a page at a time costs the sum of the sizes', async () => {
      const none = await outcome(grower(0))
      const many = await outcome(grower(200), { fuel: 100_000_000n })
      assert.equal(reason(many), 'ok')
      // 200 grows of one page, from 1 page to 201: 1,024 × (2 + 3 + … + 201), plus the loop's own instructions.
      const loop = many.fuelUsed - none.fuelUsed - stepwise(200)
      assert.ok(loop > 0n && loop < 200n * 20n, `loop overhead ${loop}`)
      // One grow of 200 pages, from 1 to 201: 1,024 × 201, plus its three instructions (const, grow, drop).
      const bare = await outcome(abiProgram(EMPTY))
      const once = await outcome(abiProgram(`(drop (memory.grow (i32.const 200))) ${EMPTY}`))
      assert.equal(once.fuelUsed - bare.fuelUsed - 201n * 1_024n, 3n)
    })

    it('a grow past the cap returns -1 and costs only its instruction', async () => {
      const bare = await outcome(abiProgram(EMPTY))
      const refused = await outcome(abiProgram(`(if (i32.ne (memory.grow (i32.const -1)) (i32.const -1)) (then unreachable)) ${EMPTY}`))
      assert.equal(reason(refused), 'ok')
      // i32.const, memory.grow, i32.const, i32.ne, if — and nothing for the pages.
      assert.equal(refused.fuelUsed - bare.fuelUsed, 5n)
    })

    it('a program that cannot pay for its pages runs out of fuel at the same point everywhere', async () => {
      assert.deepEqual(await outcome(grower(200), { fuel: 100_000n }), { status: 'failed', reason: 'out-of-fuel', fuelUsed: 100_000n })
    })

    it('growing a page at a time to 4,096 pages (25 s in a worker at 1,024 per page) costs more than 8.5e9 fuel', async () => {
      // The case at a raised cap: with the fuel the run would need it is out of reach of
      // any sane task; with a sane fuel limit it stops early, at the same point in both paths.
      assert.ok(stepwise(4_095) > 8_500_000_000n)
      assert.deepEqual(await outcome(grower(4_095), { fuel: 50_000_000n, memoryPages: 4_096 }), {
        status: 'failed',
        reason: 'out-of-fuel',
        fuelUsed: 50_000_000n,
      })
    })

    it('its initial pages are paid before the first instruction', async () => {
      const small = await outcome(abiProgram(EMPTY, '', '(memory (export "memory") 1)'))
      const large = await outcome(abiProgram(EMPTY, '', '(memory (export "memory") 65)'))
      assert.equal(large.fuelUsed - small.fuelUsed, 64n * 1_024n)
    })
  })

  describe('locals', () => {
    const withLocals = (count: number) => {
      // `run` has two parameters; the rest are declared locals.
      const locals = Array.from({ length: count - 2 }, () => 'i32').join(' ')
      return abiProgram(`(local ${locals}) ${EMPTY}`)
    }

    it(`runs a function with ${MAX_LOCALS} locals, parameters included (the instrumenter's scratch locals fit)`, async () => {
      assert.equal(reason(await outcome(withLocals(MAX_LOCALS))), 'ok')
    })

    it('refuses one more, and the 50,000 that left no room for them, as an invalid module before compiling', async () => {
      for (const count of [MAX_LOCALS + 1, 50_000]) {
        assert.deepEqual(await outcome(withLocals(count)), { status: 'failed', reason: 'invalid-module', fuelUsed: 0n })
      }
    })
  })
})
