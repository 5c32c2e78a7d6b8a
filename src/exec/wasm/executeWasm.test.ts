import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { abiProgram as program, wat } from '../../../test/helpers/wat.ts'
import type { ExecutionLimits, ExecutionResult } from '../../ports/runtime.ts'
import { createProgramCache, executeWasm } from './executeWasm.ts'

/** Copies the input to address 0 as [len][bytes] and returns 0. */
const ECHO = program(`
  (i32.store (i32.const 0) (local.get $len))
  (memory.copy (i32.const 4) (local.get $ptr) (local.get $len))
  (i32.const 0)`)

const LIMITS: ExecutionLimits = { fuel: 1_000_000n, memoryPages: 16, outputBytes: 1024 }

function exec(bytes: Uint8Array, input: Uint8Array = new Uint8Array(), limits: Partial<ExecutionLimits> = {}): ExecutionResult {
  return executeWasm({ programId: '0x00', program: bytes, input, limits: { ...LIMITS, ...limits } })
}

function reasonOf(result: ExecutionResult): string {
  return result.status === 'ok' ? 'ok' : result.reason
}

function outputOf(result: ExecutionResult): Uint8Array {
  assert.equal(result.status, 'ok', `expected ok, got ${reasonOf(result)}`)
  return (result as { output: Uint8Array }).output
}

/** Runs a program whose output is one little-endian u32 (stored at address 0 by `body`). */
function u32Result(body: string, extra = '', limits: Partial<ExecutionLimits> = {}): number {
  const out = outputOf(exec(program(`(i32.store (i32.const 0) (i32.const 4)) ${body} (i32.const 0)`, extra), undefined, limits))
  return new DataView(out.buffer, out.byteOffset).getUint32(0, true)
}

describe('executeWasm', () => {
  it('runs a program through the ABI and returns its output', () => {
    const result = exec(ECHO, Uint8Array.of(1, 2, 3))
    assert.deepEqual(outputOf(result), Uint8Array.of(1, 2, 3))
    assert.ok(result.fuelUsed > 0n)
  })

  it('uses the same fuel on every run, with and without a cache', () => {
    const input = new Uint8Array(100).fill(9)
    const cache = createProgramCache(4)
    const runs = [exec(ECHO, input), exec(ECHO, input)]
    for (let i = 0; i < 3; i++) runs.push(executeWasm({ programId: '0x01', program: ECHO, input, limits: LIMITS }, { cache }))
    assert.equal(new Set(runs.map((r) => r.fuelUsed)).size, 1)
  })

  it('runs out of fuel exactly one unit below the fuel a run needs', () => {
    const loop = program(`
      (local $i i32)
      (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 1000))))
      (i32.store (i32.const 0) (i32.const 0))
      (i32.const 0)`)
    const needed = exec(loop).fuelUsed
    assert.deepEqual(exec(loop, undefined, { fuel: needed }), { status: 'ok', output: new Uint8Array(), fuelUsed: needed })
    assert.deepEqual(exec(loop, undefined, { fuel: needed - 1n }), {
      status: 'failed',
      reason: 'out-of-fuel',
      fuelUsed: needed - 1n,
    })
  })

  it('stops an infinite loop with out-of-fuel', () => {
    const result = exec(program('(loop $l (br $l)) (i32.const 0)'), undefined, { fuel: 5_000_000n })
    assert.deepEqual(result, { status: 'failed', reason: 'out-of-fuel', fuelUsed: 5_000_000n })
  })

  it('charges bulk memory operations by length', () => {
    const fill = program('(memory.fill (i32.const 0) (i32.const 0) (i32.const 65536)) (i32.const 0)')
    assert.equal(reasonOf(exec(fill, undefined, { fuel: 500n })), 'out-of-fuel')
    assert.ok(exec(fill, undefined, { fuel: 2000n }).fuelUsed >= 65536n / 64n)
  })

  it('caps memory at the task limit, so growing past it fails deterministically', () => {
    const grow = '(loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) (i32.store (i32.const 4) (memory.size))'
    assert.equal(u32Result(grow, '', { memoryPages: 7 }), 7)
    // A declared maximum above the limit is lowered too.
    const declared = program(`(i32.store (i32.const 0) (i32.const 4)) ${grow} (i32.const 0)`, '', '(memory (export "memory") 1 65536)')
    assert.equal(new DataView(outputOf(exec(declared, undefined, { memoryPages: 3 })).buffer).getUint32(0, true), 3)
  })

  it('refuses a module whose initial memory exceeds the limit', () => {
    assert.equal(reasonOf(exec(program('(i32.const 0)', '', '(memory (export "memory") 64)'), undefined, { memoryPages: 16 })), 'memory-limit')
  })

  it('caps tables', () => {
    assert.equal(u32Result('(i32.store (i32.const 4) (table.grow $t (ref.null func) (i32.const 100000)))', '(table $t 1 funcref)'), 0xffff_ffff)
  })

  it('reports traps', () => {
    assert.equal(reasonOf(exec(program('unreachable'))), 'trap')
    assert.equal(reasonOf(exec(program('(i32.div_u (i32.const 1) (i32.const 0))'))), 'trap')
    assert.equal(reasonOf(exec(program('(i32.load (i32.const -1))'))), 'trap')
    const abort = program(
      '(call $abort (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)) (i32.const 0)',
      '',
      '(import "env" "abort" (func $abort (param i32 i32 i32 i32))) (memory (export "memory") 1)',
    )
    assert.equal(reasonOf(exec(abort)), 'trap')
  })

  it('reports the fuel used up to a trap, the same on every run', () => {
    const trap = program('(local $i i32) (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 50)))) unreachable')
    const first = exec(trap)
    assert.equal(reasonOf(first), 'trap')
    assert.ok(first.fuelUsed > 50n && first.fuelUsed < LIMITS.fuel)
    assert.deepEqual(exec(trap), first)
  })

  it('traps deep recursion at a deterministic depth instead of overflowing the engine stack', () => {
    const recursion = (locals: number) =>
      program(
        '(drop (call $f (i32.const 0))) (i32.const 0)',
        `(func $f (param $n i32) (result i32) ${'(local i64)'.repeat(locals)}
          (call $f (i32.add (local.get $n) (i32.const 1))))`,
      )
    for (const locals of [0, 1000]) {
      const bytes = recursion(locals)
      const first = exec(bytes, undefined, { fuel: 10n ** 12n })
      assert.equal(reasonOf(first), 'trap')
      assert.deepEqual(exec(bytes, undefined, { fuel: 10n ** 12n }), first)
    }
  })

  it('allows moderately deep recursion', () => {
    const depth = 2000
    const sum = u32Result(
      `(i32.store (i32.const 4) (call $sum (i32.const ${depth})))`,
      `(func $sum (param $n i32) (result i32)
        (if (result i32) (i32.eqz (local.get $n)) (then (i32.const 0))
          (else (i32.add (local.get $n) (call $sum (i32.sub (local.get $n) (i32.const 1)))))))`,
    )
    assert.equal(sum, (depth * (depth + 1)) / 2)
  })

  it('enforces the output limit', () => {
    const big = program('(i32.store (i32.const 0) (i32.const 5000)) (i32.const 0)')
    assert.equal(reasonOf(exec(big, undefined, { outputBytes: 4096 })), 'output-limit')
    assert.equal(reasonOf(exec(big, undefined, { outputBytes: 5000 })), 'ok')
  })

  it('reports ABI violations', () => {
    assert.equal(reasonOf(exec(program('(i32.const -2)'))), 'abi-violation') // output header out of bounds
    assert.equal(reasonOf(exec(program('(i32.store (i32.const 0) (i32.const 65533)) (i32.const 0)'), undefined, { outputBytes: 1 << 20 })), 'abi-violation')
    const badAlloc = wat(`(module (memory (export "memory") 1)
      (func (export "alloc") (param i32) (result i32) i32.const 65535)
      (func (export "run") (param i32 i32) (result i32) i32.const 0))`)
    assert.equal(reasonOf(exec(badAlloc, new Uint8Array(2))), 'abi-violation')
    const noRun = wat('(module (memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) i32.const 0))')
    assert.equal(reasonOf(exec(noRun)), 'abi-violation')
    const wrongType = wat(`(module (memory (export "memory") 1)
      (func (export "alloc") (param i32) (result i32) i32.const 0)
      (func (export "run") (param i32) (result i32) i32.const 0))`)
    assert.equal(reasonOf(exec(wrongType)), 'abi-violation')
    const noMemory = wat(`(module (memory 1)
      (func (export "alloc") (param i32) (result i32) i32.const 0)
      (func (export "run") (param i32 i32) (result i32) i32.const 0))`)
    assert.equal(reasonOf(exec(noMemory)), 'abi-violation')
  })

  it('refuses invalid and unsupported modules', () => {
    assert.equal(reasonOf(exec(new Uint8Array())), 'invalid-module')
    assert.equal(reasonOf(exec(Uint8Array.of(0, 0x61, 0x73, 0x6d, 2, 0, 0, 0))), 'invalid-module')
    assert.equal(reasonOf(exec(ECHO.subarray(0, ECHO.length - 3))), 'invalid-module')
    assert.equal(reasonOf(exec(program('(drop (i32x4.splat (i32.const 1))) (i32.const 0)'))), 'invalid-module')
    assert.equal(reasonOf(exec(program('(i32.const 0)', '', '(memory (export "memory") 1 1 shared)'))), 'invalid-module')
    assert.equal(reasonOf(exec(program('(drop (i32.atomic.load (i32.const 0))) (i32.const 0)'))), 'invalid-module')
  })

  it('refuses imports outside the ABI', () => {
    const fdWrite = program(
      '(i32.const 0)',
      '',
      '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32))) (memory (export "memory") 1)',
    )
    assert.equal(reasonOf(exec(fdWrite)), 'import-not-allowed')
    const importedMemory = wat(`(module (import "env" "memory" (memory 1)) (export "memory" (memory 0))
      (func (export "alloc") (param i32) (result i32) i32.const 0)
      (func (export "run") (param i32 i32) (result i32) i32.const 0))`)
    assert.equal(reasonOf(exec(importedMemory)), 'import-not-allowed')
  })

  it('refuses modules over the size cap', () => {
    const result = executeWasm({ programId: '0x02', program: ECHO, input: new Uint8Array(), limits: LIMITS }, { maxModuleBytes: ECHO.length - 1 })
    assert.deepEqual(result, { status: 'failed', reason: 'module-too-large', fuelUsed: 0n })
  })

  it('traps on data segments outside memory at instantiation, having used no fuel', () => {
    assert.deepEqual(exec(program('(i32.const 0)', '(data (i32.const 65535) "xy")')), { status: 'failed', reason: 'trap', fuelUsed: 0n })
  })

  it('runs the start function, metered, before alloc', () => {
    const started = u32Result('(i32.store (i32.const 4) (global.get $g))', '(global $g (mut i32) (i32.const 0)) (func $s (global.set $g (i32.const 42))) (start $s)')
    assert.equal(started, 42)
    const endless = program('(i32.const 0)', '(func $s (loop $l (br $l))) (start $s)')
    assert.equal(reasonOf(exec(endless)), 'out-of-fuel')
  })

  it('canonicalises NaNs', () => {
    assert.equal(u32Result('(i32.store (i32.const 4) (i32.reinterpret_f32 (f32.div (f32.const 0) (f32.const 0))))'), 0x7fc0_0000)
    assert.equal(u32Result('(i32.store (i32.const 4) (i32.reinterpret_f32 (f32.add (f32.const -nan:0x1234) (f32.const 1))))'), 0x7fc0_0000)
    assert.equal(
      u32Result('(i32.store (i32.const 4) (i32.wrap_i64 (i64.shr_u (i64.reinterpret_f64 (f64.sqrt (f64.const -1))) (i64.const 32))))'),
      0x7ff8_0000,
    )
    // Ordinary values pass through untouched.
    assert.equal(u32Result('(i32.store (i32.const 4) (i32.reinterpret_f32 (f32.add (f32.const 1.5) (f32.const 1))))'), 0x4020_0000)
  })

  it('gives every execution fresh memory, even when memories are reused', () => {
    // Outputs the byte at 2000, then dirties it.
    const peek = program(`
      (i32.store (i32.const 0) (i32.const 1))
      (i32.store8 (i32.const 4) (i32.load8_u (i32.const 2000)))
      (i32.store8 (i32.const 2000) (i32.const 255))
      (i32.const 0)`)
    const cache = createProgramCache(4)
    for (let i = 0; i < 4; i++) {
      const result = executeWasm({ programId: '0x03', program: peek, input: new Uint8Array(), limits: LIMITS }, { cache })
      assert.deepEqual(outputOf(result), Uint8Array.of(0))
    }
  })

  it('supports multi-value, reference types, bulk memory, sign extension and saturating truncation', () => {
    const extra = `
      (type $pair (func (result i32 i32)))
      (type $ri (func (result i32)))
      (table $t 2 funcref)
      (elem (table $t) (i32.const 0) func $two $three)
      (func $two (result i32) (i32.const 2))
      (func $three (result i32) (i32.const 3))
      (func $swap (param i32 i32) (result i32 i32) (local.get 1) (local.get 0))
      (func $pick (param $k i32) (result i32)
        (block $b2 (block $b1 (block $b0 (br_table $b0 $b1 $b2 (local.get $k)))
          (return (i32.const 10)))
          (return (i32.const 20)))
        (i32.const 30))`
    const body = `
      (i32.store (i32.const 4)
        (i32.add
          (i32.add
            (block (type $pair) (call $swap (i32.const 1) (i32.const 100)))
            (drop) ;; keeps 100, drops 1
            (call_indirect $t (type $ri) (i32.const 1)))
          (i32.add
            (i32.add (i32.extend8_s (i32.const 0xff)) (i32.trunc_sat_f32_s (f32.const 1e20)))
            (i32.add (call $pick (i32.const 1))
              (select (result i32) (i32.const 7) (i32.const 8) (ref.is_null (ref.null extern)))))))`
    // 100 + 3 + (-1 + 2147483647) + 20 + 7, wrapping
    assert.equal(u32Result(body, extra), (100 + 3 - 1 + 2147483647 + 20 + 7) >>> 0)
  })
})
