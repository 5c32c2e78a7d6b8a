import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { wabt, wat as watWith } from '../../../test/helpers/wat.ts'
import { FUEL_EXPORT, MEMORY_IMPORT, START_EXPORT } from './abi.ts'
import { ByteReader } from './binary.ts'
import type { InstrumentLimits, InstrumentResult } from './instrument.ts'
import { instrumentModule } from './instrument.ts'

const wat = (source: string, features: Record<string, boolean> = {}) => watWith(source, { features, debugNames: true })

function toText(bytes: Uint8Array): string {
  const module = wabt.readWasm(bytes, { readDebugNames: false })
  try {
    return module.toText({})
  } finally {
    module.destroy()
  }
}

const ABI = `
  (func (export "alloc") (param i32) (result i32) i32.const 1024)
  (func (export "run") (param i32 i32) (result i32) i32.const 0)`

const LIMITS: InstrumentLimits = { memoryPages: 16, maxModuleBytes: 1 << 20 }

function instrumented(result: InstrumentResult): Uint8Array {
  assert.ok(result.ok, result.ok ? '' : `${result.reason}: ${result.message}`)
  return result.bytes
}

function reasonOf(bytes: Uint8Array, limits = LIMITS): string {
  const result = instrumentModule(bytes, limits)
  return result.ok ? 'ok' : result.reason
}

function sectionIds(bytes: Uint8Array): number[] {
  const r = new ByteReader(bytes, 8)
  const ids: number[] = []
  while (!r.done) {
    ids.push(r.u8())
    r.skip(r.u32())
  }
  return ids
}

/** Exercises every instruction family the instrumenter accepts. */
const KITCHEN_SINK = wat(`(module
  (type $pair (func (result i32 i32)))
  (type $ri (func (result i32)))
  (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
  (memory (export "memory") 1 2)
  (table $t 4 funcref)
  (table $x 1 externref)
  (global $g (mut i64) (i64.const -5))
  (global $f (mut f64) (f64.const 1.5))
  (elem (table $t) (i32.const 0) func $pair $leaf)
  (elem $passive func $leaf)
  (data $d "hello")
  (func $leaf (result i32) (i32.const 1))
  (func $pair (result i32 i32) (i32.const 1) (i32.const 2))
  (func $floats (param f32 f64) (result f64)
    (f64.add (f64.promote_f32 (f32.sqrt (local.get 0))) (f64.min (local.get 1) (global.get $f))))
  (func $control (param $k i32) (result i32) (local $i i64)
    (block $b (result i32)
      (loop $l
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br_if $l (i64.lt_s (local.get $i) (i64.const 10))))
      (if (result i32) (local.get $k) (then (i32.const 1)) (else (i32.const 2)))
      (br_table $b $b (local.get $k))))
  (func (export "alloc") (param i32) (result i32) i32.const 1024)
  (func (export "run") (param $p i32) (param $n i32) (result i32)
    (memory.init $d (i32.const 0) (i32.const 0) (i32.const 5))
    (data.drop $d)
    (memory.copy (i32.const 8) (i32.const 0) (i32.const 5))
    (memory.fill (i32.const 16) (i32.const 0) (i32.const 5))
    (table.init $t $passive (i32.const 2) (i32.const 0) (i32.const 1))
    (elem.drop $passive)
    (table.copy $t $t (i32.const 3) (i32.const 0) (i32.const 1))
    (drop (table.grow $t (ref.null func) (i32.const 1)))
    (table.fill $t (i32.const 0) (ref.func $leaf) (i32.const 1))
    (drop (table.size $t))
    (table.set $x (i32.const 0) (table.get $x (i32.const 0)))
    (drop (ref.is_null (ref.null extern)))
    (drop (select (result i32) (i32.const 1) (i32.const 2) (i32.const 0)))
    (drop (i64.extend32_s (i64.const 5)))
    (drop (i32.trunc_sat_f64_u (f64.const -1)))
    (drop (memory.grow (i32.const 0)))
    (global.set $g (i64.const 7))
    (drop (call_indirect $t (type $ri) (i32.const 1)))
    (drop (call $floats (f32.const 2) (f64.const 3)))
    (drop (call $control (i32.const 0)))
    (block (type $pair) (call $pair)) (drop) (drop)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
    (call $abort (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (i32.const 0))
  (func $start)
  (start $start))`)

describe('instrumentModule', () => {
  it('produces a valid module from one using every supported feature', () => {
    const bytes = instrumented(instrumentModule(KITCHEN_SINK, LIMITS))
    assert.ok(WebAssembly.validate(bytes))
  })

  it('is a pure function of its inputs', () => {
    const a = instrumented(instrumentModule(KITCHEN_SINK, LIMITS))
    const b = instrumented(instrumentModule(KITCHEN_SINK.slice(), LIMITS))
    assert.deepEqual(a, b)
  })

  it('drops custom sections', () => {
    assert.ok(sectionIds(KITCHEN_SINK).includes(0), 'the fixture has a name section')
    assert.ok(!sectionIds(instrumented(instrumentModule(KITCHEN_SINK, LIMITS))).includes(0))
  })

  it('imports the memory with its maximum capped, and exports fuel and the start function', () => {
    const text = toText(instrumented(instrumentModule(KITCHEN_SINK, { ...LIMITS, memoryPages: 8 })))
    assert.match(text, new RegExp(`\\(import "${MEMORY_IMPORT.module}" "${MEMORY_IMPORT.name}" \\(memory \\(;0;\\) 1 2\\)\\)`))
    assert.match(text, new RegExp(`\\(export "${FUEL_EXPORT}" \\(global \\d+\\)\\)`))
    assert.match(text, new RegExp(`\\(export "${START_EXPORT}" \\(func \\d+\\)\\)`))
    assert.doesNotMatch(text, /\(start /)

    const unbounded = wat(`(module (memory (export "memory") 1) ${ABI})`)
    const capped = instrumentModule(unbounded, { ...LIMITS, memoryPages: 8 })
    assert.ok(capped.ok)
    assert.deepEqual(capped.memory, { initial: 1, maximum: 8 })
    const lower = instrumentModule(wat(`(module (memory (export "memory") 1 4) ${ABI})`), { ...LIMITS, memoryPages: 8 })
    assert.ok(lower.ok)
    assert.deepEqual(lower.memory, { initial: 1, maximum: 4 })
  })

  it('charges fuel at every function entry and after control flow', () => {
    const text = toText(
      instrumented(
        instrumentModule(
          wat(`(module (memory (export "memory") 1)
            (func (export "alloc") (param i32) (result i32) i32.const 1024)
            (func (export "run") (param i32 i32) (result i32)
              (loop $l (br_if $l (local.get 0)))
              (i32.const 0)))`),
          LIMITS,
        ),
      ),
    )
    // alloc: 1 (i32.const); run: loop (1), then local.get + br_if (2), then i32.const (1).
    const charges = [...text.matchAll(/i64\.const (\d+)\s+i64\.sub/g)].map((m) => Number(m[1]))
    assert.deepEqual(charges, [1, 1, 2, 1])
  })

  it('refuses what it does not support', () => {
    const cases: [string, Uint8Array][] = [
      ['SIMD instruction', wat(`(module (memory (export "memory") 1) ${ABI} (func (drop (i32x4.splat (i32.const 0)))))`)],
      ['SIMD global', wat(`(module (memory (export "memory") 1) ${ABI} (global v128 (v128.const i64x2 0 0)))`)],
      ['SIMD local', wat(`(module (memory (export "memory") 1) ${ABI} (func (local v128)))`)],
      ['shared memory', wat(`(module (memory (export "memory") 1 1 shared) ${ABI})`)],
      ['atomics', wat(`(module (memory (export "memory") 1) ${ABI} (func (drop (i32.atomic.load (i32.const 0)))))`)],
      ['exceptions', wat(`(module (memory (export "memory") 1) ${ABI} (tag $e) (func (throw $e)))`, { exceptions: true })],
      ['memory64', wat(`(module (memory (export "memory") i64 1) ${ABI})`, { memory64: true })],
      ['two memories', wat(`(module (memory (export "memory") 1) (memory 1) ${ABI})`, { multi_memory: true })],
      ['garbage', Uint8Array.of(1, 2, 3, 4)],
    ]
    for (const [name, bytes] of cases) assert.equal(reasonOf(bytes), 'invalid-module', name)
  })

  it('refuses imports outside the ABI', () => {
    const cases = [
      '(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))',
      '(import "env" "abort" (func (param i32)))',
      '(import "env" "abort" (global i32))',
      '(import "env" "table" (table 1 funcref))',
      '(import "env" "seed" (func (result f64)))',
    ]
    for (const imp of cases) assert.equal(reasonOf(wat(`(module ${imp} (memory (export "memory") 1) ${ABI})`)), 'import-not-allowed', imp)
    const abort = '(import "env" "abort" (func (param i32 i32 i32 i32)))'
    assert.equal(reasonOf(wat(`(module ${abort} (memory (export "memory") 1) ${ABI})`)), 'ok')
  })

  it('checks limits and the ABI', () => {
    assert.equal(reasonOf(wat(`(module (memory (export "memory") 17) ${ABI})`)), 'memory-limit')
    assert.equal(reasonOf(wat(`(module (memory (export "memory") 16) ${ABI})`)), 'ok')
    assert.equal(reasonOf(wat(`(module (memory (export "memory") 1) (table 70000 funcref) ${ABI})`)), 'memory-limit')
    assert.equal(reasonOf(wat(`(module (memory (export "memory") 1) ${ABI})`), { ...LIMITS, maxModuleBytes: 10 }), 'module-too-large')
    assert.equal(reasonOf(wat(`(module (memory (export "memory") 1) ${ABI} (global (export "${FUEL_EXPORT}") i32 (i32.const 0)))`)), 'abi-violation')
    assert.equal(reasonOf(wat(`(module (memory (export "mem") 1) ${ABI})`)), 'abi-violation')
    assert.equal(
      reasonOf(wat('(module (memory (export "memory") 1) (func (export "alloc") (param i32) (result i32) i32.const 0))')),
      'abi-violation',
    )
    assert.equal(
      reasonOf(wat(`(module (memory (export "memory") 1)
        (func (export "alloc") (param i64) (result i32) i32.const 0)
        (func (export "run") (param i32 i32) (result i32) i32.const 0))`)),
      'abi-violation',
    )
  })
})
