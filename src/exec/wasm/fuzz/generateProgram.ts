/**
 * A seeded generator of random, valid ABI programs in WebAssembly text, for fuzzing the sandbox:
 * type-directed expressions over every value type (arithmetic that may trap, conversions,
 * NaN-producing float operations, loads and stores in and out of bounds, bulk memory, tables and
 * indirect calls, globals, multi-value blocks, memory and table growth), loops that may never end
 * (out of fuel) and recursion that may go too deep (stack budget). `run` stores what it computed
 * as its output. The same seed gives the same program.
 */
import { createSeededRandom } from '../../../core/seededRandom.ts'

type T = 'i32' | 'i64' | 'f32' | 'f64'
const TYPES: readonly T[] = ['i32', 'i64', 'f32', 'f64']

const BINARY: Record<T, readonly string[]> = {
  i32: ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'],
  i64: ['add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u', 'rotl', 'rotr'],
  f32: ['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign'],
  f64: ['add', 'sub', 'mul', 'div', 'min', 'max', 'copysign'],
}
const UNARY: Record<T, readonly string[]> = {
  i32: ['clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s', 'eqz'],
  i64: ['clz', 'ctz', 'popcnt', 'extend8_s', 'extend16_s', 'extend32_s'],
  f32: ['abs', 'neg', 'sqrt', 'ceil', 'floor', 'trunc', 'nearest'],
  f64: ['abs', 'neg', 'sqrt', 'ceil', 'floor', 'trunc', 'nearest'],
}
const COMPARE: Record<T, readonly string[]> = {
  i32: ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'],
  i64: ['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u'],
  f32: ['eq', 'ne', 'lt', 'gt', 'le', 'ge'],
  f64: ['eq', 'ne', 'lt', 'gt', 'le', 'ge'],
}
/** Conversions producing each type: [instruction, operand type]. */
const CONVERT: Record<T, ReadonlyArray<readonly [string, T]>> = {
  i32: [['i32.wrap_i64', 'i64'], ['i32.trunc_f32_s', 'f32'], ['i32.trunc_f64_u', 'f64'], ['i32.trunc_sat_f32_u', 'f32'], ['i32.trunc_sat_f64_s', 'f64'], ['i32.reinterpret_f32', 'f32']],
  i64: [['i64.extend_i32_s', 'i32'], ['i64.extend_i32_u', 'i32'], ['i64.trunc_f64_s', 'f64'], ['i64.trunc_sat_f32_s', 'f32'], ['i64.trunc_sat_f64_u', 'f64'], ['i64.reinterpret_f64', 'f64']],
  f32: [['f32.convert_i32_s', 'i32'], ['f32.convert_i64_u', 'i64'], ['f32.demote_f64', 'f64'], ['f32.reinterpret_i32', 'i32']],
  f64: [['f64.convert_i32_u', 'i32'], ['f64.convert_i64_s', 'i64'], ['f64.promote_f32', 'f32'], ['f64.reinterpret_i64', 'i64']],
}
const LOAD: Record<T, readonly string[]> = {
  i32: ['i32.load', 'i32.load8_s', 'i32.load8_u', 'i32.load16_s', 'i32.load16_u'],
  i64: ['i64.load', 'i64.load8_u', 'i64.load16_s', 'i64.load32_u', 'i64.load32_s'],
  f32: ['f32.load'],
  f64: ['f64.load'],
}
const CONSTANTS: Record<T, readonly string[]> = {
  i32: ['0', '1', '-1', '7', '31', '32', '0x7fffffff', '0x80000000', '65535', '1024'],
  i64: ['0', '1', '-1', '63', '64', '0x7fffffffffffffff', '0x8000000000000000', '4294967296'],
  f32: ['0', '-0', '1.5', '-2.25', 'inf', '-inf', 'nan', '-nan:0x200000', '0x1p127', '3e9'],
  f64: ['0', '-0', '1.5', '-2.25', 'inf', '-inf', 'nan', 'nan:0x4000000000000', '0x1p1023', '1e19'],
}

interface Helper {
  name: string
  params: T[]
  result: T
}

export interface GeneratedProgram {
  seed: number
  text: string
  /** Fuel limit to run it with, drawn with it. */
  fuel: bigint
  memoryPages: number
}

export function generateProgram(seed: number): GeneratedProgram {
  const random = createSeededRandom(seed)
  const int = (n: number) => Math.floor(random() * n)
  const pick = <X>(items: readonly X[]): X => items[int(items.length)] as X
  const chance = (p: number) => random() < p

  const globals: T[] = Array.from({ length: 1 + int(4) }, () => pick(TYPES))
  const helpers: Helper[] = Array.from({ length: int(4) }, (_, i) => ({
    name: `$h${i}`,
    params: Array.from({ length: int(3) }, () => pick(TYPES)),
    result: pick(TYPES),
  }))
  const initialPages = 1 + int(2)
  const tableSize = 1 + int(4)

  /** Generates an expression of `type` using `locals` (name → type), with a depth budget. */
  function expr(type: T, locals: ReadonlyArray<readonly [string, T]>, depth: number, helperIndex: number): string {
    const leaf = depth <= 0 || chance(0.2)
    const ofType = locals.filter(([, t]) => t === type)
    if (leaf) {
      if (ofType.length > 0 && chance(0.5)) return `(local.get ${pick(ofType)[0]})`
      const g = globals.findIndex((t) => t === type)
      if (g >= 0 && chance(0.3)) return `(global.get $g${g})`
      return `(${type}.const ${pick(CONSTANTS[type])})`
    }
    const sub = (t: T) => expr(t, locals, depth - 1, helperIndex)
    const address = () => (chance(0.9) ? `(i32.and ${sub('i32')} (i32.const 0xfff8))` : sub('i32'))
    switch (int(13)) {
      case 0:
        return `(${type}.${pick(BINARY[type])} ${sub(type)} ${sub(type)})`
      case 1: {
        const op = pick(UNARY[type])
        return op === 'eqz' ? `(i32.eqz ${sub('i32')})` : `(${type}.${op} ${sub(type)})`
      }
      case 2: {
        const [op, from] = pick(CONVERT[type])
        return `(${op} ${sub(from)})`
      }
      case 3: {
        if (type !== 'i32') return `(${type}.${pick(BINARY[type])} ${sub(type)} ${sub(type)})`
        const t = pick(TYPES)
        return `(${t}.${pick(COMPARE[t])} ${sub(t)} ${sub(t)})`
      }
      case 4:
        return `(${pick(LOAD[type])} offset=${pick([0, 4, 65532])} ${address()})`
      case 5:
        return `(if (result ${type}) ${sub('i32')} (then ${sub(type)}) (else ${sub(type)}))`
      case 6:
        return `(select ${sub(type)} ${sub(type)} ${sub('i32')})`
      case 7:
        // A block that may leave early with br_if, or a multi-value block.
        return chance(0.5)
          ? `(block $b${depth} (result ${type}) (drop (br_if $b${depth} ${sub(type)} ${sub('i32')})) ${sub(type)})`
          : `(block (result ${type} i32) ${sub(type)} ${sub('i32')}) (drop)`
      case 8: {
        // Calls only go to helpers defined after this one, so calls between helpers cannot cycle.
        const callable = helpers.filter((h, i) => i > helperIndex && h.result === type)
        if (callable.length === 0) return sub(type)
        const h = pick(callable)
        return `(call ${h.name} ${h.params.map((p) => sub(p)).join(' ')})`
      }
      case 9:
        if (type !== 'i32') return sub(type)
        return pick([
          '(memory.size)',
          `(memory.grow (i32.and ${sub('i32')} (i32.const ${pick([3, 15, 0x7fffffff])})))`,
          `(table.grow $t (ref.null func) (i32.and ${sub('i32')} (i32.const 0xff)))`,
          '(table.size $t)',
          `(call_indirect $t (type $ri) (i32.and ${sub('i32')} (i32.const 7)))`,
          `(call $rec ${sub('i32')})`,
        ])
      case 10: {
        const g = globals.findIndex((t) => t === type)
        if (g < 0) return sub(type)
        return `(block (result ${type}) (global.set $g${g} ${sub(type)}) (global.get $g${g}))`
      }
      case 11: {
        // A store or bulk operation, then a value.
        const effect = pick([
          `(${type}.store ${address()} ${sub(type)})`,
          `(memory.fill ${address()} ${sub('i32')} (i32.and ${sub('i32')} (i32.const 0x1ffff)))`,
          `(memory.copy ${address()} ${address()} (i32.and ${sub('i32')} (i32.const 0xffff)))`,
          `(table.fill $t (i32.const 0) (ref.func $k) (i32.and ${sub('i32')} (i32.const 3)))`,
        ])
        return `(block (result ${type}) ${effect} ${sub(type)})`
      }
      default: {
        // A counted loop; a rare one counts to a huge bound and runs out of fuel.
        const bound = chance(0.1) ? '0x7fffffff' : String(int(50))
        return `(block (result ${type}) (local.set $i (i32.const 0))
          (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const ${bound}))))
          ${sub(type)})`
      }
    }
  }

  const helperText = helpers
    .map((h, i) => {
      const locals = h.params.map((t, j) => [`$p${j}`, t] as const)
      return `(func ${h.name} ${h.params.map((t, j) => `(param $p${j} ${t})`).join(' ')} (result ${h.result}) (local $i i32)
        ${expr(h.result, locals, 4, i)})`
    })
    .join('\n')

  const outputs: T[] = Array.from({ length: 1 + int(4) }, () => pick(TYPES))
  const runLocals = [['$ptr', 'i32'], ['$len', 'i32']] as const
  // Output at 0x10000 - 64: [u32 length][values], each value 8 bytes.
  const base = 65_536 - 64
  const stores = outputs
    .map((t, k) => {
      const value = expr(t, runLocals, 5, -1)
      const at = base + 4 + 8 * k
      return `(${t}.store (i32.const ${at}) ${value})`
    })
    .join('\n')
  const text = `(module
    (type $ri (func (result i32)))
    (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
    (memory (export "memory") ${initialPages} ${chance(0.5) ? 64 : ''})
    (table $t ${tableSize} funcref)
    (elem (table $t) (i32.const 0) func $k)
    (elem declare func $k)
    ${globals.map((t, i) => `(global $g${i} (mut ${t}) (${t}.const ${pick(CONSTANTS[t])}))`).join(' ')}
    ${chance(0.5) ? `(data (i32.const ${int(65_000)}) "\\de\\ad\\be\\ef fuzz")` : ''}
    ${chance(0.2) ? '(start $init) (func $init (global.set $g0 (global.get $g0)))' : ''}
    (func $k (result i32) (i32.const 11))
    (func $rec (param $n i32) (result i32)
      (if (result i32) (i32.le_s (local.get $n) (i32.const 0)) (then (i32.const 0))
        (else (i32.add (i32.const 1) (call $rec (i32.sub (local.get $n) (i32.const 1)))))))
    ${helperText}
    (func (export "alloc") (param i32) (result i32) (i32.const 1024))
    (func (export "run") (param $ptr i32) (param $len i32) (result i32) (local $i i32)
      ${chance(0.05) ? '(call $abort (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))' : ''}
      ${stores}
      (i32.store (i32.const ${base}) (i32.const ${outputs.length * 8}))
      (i32.const ${base})))`
  const fuel = BigInt(pick([1_000, 20_000, 300_000, 5_000_000]))
  return { seed, text, fuel, memoryPages: pick([1, 2, 16, 64]) }
}
