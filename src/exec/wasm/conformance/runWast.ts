/**
 * Runs a conformance script twice in step: on the original module (the control) and on the
 * module `instrumentAnyModule` makes of it, with the same calls in the same order. Each call's
 * outcome — values, or a trap with the engine's message — must be equal in both, except where the
 * instrumenter changes behaviour on purpose, which is classified:
 *
 * - `nan`: both results are NaNs (as floats, or as the bits of a reinterpreted float) that differ
 *   only in sign or payload: the instrumenter canonicalises NaNs, the control keeps the CPU's.
 * - `fuel`: the instrumented call ran out of fuel; the control is not run (it might not end).
 * - `stack`: the instrumented call trapped on its stack budget; the control overflowed the
 *   engine's stack or finished deeper than the budget allows.
 *
 * Everything else that differs is a divergence. The control's outcome is also checked against the
 * script's expectation, which checks the corpus and this harness.
 */
import { FUEL_EXPORT, MEMORY_IMPORT, STACK_EXPORT, START_EXPORT } from '../abi.ts'
import { instrumentAnyModule, STACK_BUDGET_SLOTS } from '../instrument.ts'
import type { Constant, Expected, Invoke, ValueType } from './parseWast.ts'
import { parseWast } from './parseWast.ts'
import type { Signatures } from './readSignatures.ts'
import { readSignatures } from './readSignatures.ts'

export interface ConformanceCounts {
  modules: number
  /** Commands of the script: assertions and actions. */
  commands: number
  /** Extra calls of every numeric export on edge-case arguments. */
  edgeCalls: number
  equal: number
  nan: number
  fuel: number
  stack: number
  /** `assert_invalid` modules that the engine and the instrumenter both refused. */
  refused: number
  divergences: string[]
  /** The control disagreed with the script's expectation. */
  expectationMismatches: string[]
}

export function emptyCounts(): ConformanceCounts {
  return { modules: 0, commands: 0, edgeCalls: 0, equal: 0, nan: 0, fuel: 0, stack: 0, refused: 0, divergences: [], expectationMismatches: [] }
}

/** Compiles module text to bytes (wabt), injected so this file does not depend on a devDependency. */
export type CompileWat = (text: string) => Uint8Array

/** Fuel for each call of the instrumented module. */
const CALL_FUEL = 20_000_000n
/** Memory cap the instrumenter applies: the most a 32-bit memory may have, so that nothing is lowered. */
const MEMORY_PAGES = 65_536

type Outcome =
  | { kind: 'values'; values: unknown[] }
  | { kind: 'trap'; message: string }
  | { kind: 'exhausted' } // the engine's own stack overflow (control)
  | { kind: 'fuel' }
  | { kind: 'stack' }

type Fn = (...args: unknown[]) => unknown

/** An instance's exports, or why there is no instance. */
type Side = { ok: true; exports: WebAssembly.Exports } | { ok: false; outcome: Outcome }

interface Pair {
  control: Side
  instrumented: Side
  signatures: Signatures
}

function call(run: () => unknown): Outcome {
  try {
    const result = run()
    return { kind: 'values', values: result === undefined ? [] : Array.isArray(result) ? result : [result] }
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) return { kind: 'trap', message: error.message }
    if (error instanceof RangeError) return { kind: 'exhausted' }
    throw error
  }
}

function toJs(c: Constant): unknown {
  return c.value
}

/** Instantiates the control; a trap in its start function is its outcome. */
function instantiateControl(bytes: Uint8Array): Side {
  let exports: WebAssembly.Exports | undefined
  const outcome = call(() => {
    exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports
  })
  return exports === undefined ? { ok: false, outcome } : { ok: true, exports }
}

function budgets(exports: WebAssembly.Exports): { fuel: WebAssembly.Global; stack: WebAssembly.Global } {
  return { fuel: exports[FUEL_EXPORT] as WebAssembly.Global, stack: exports[STACK_EXPORT] as WebAssembly.Global }
}

/** Runs one call of the instrumented module with fresh fuel, and restores the stack budget after it. */
function callInstrumented(exports: WebAssembly.Exports, run: () => unknown): Outcome {
  const { fuel, stack } = budgets(exports)
  fuel.value = CALL_FUEL
  const outcome = call(run)
  const exhausted = (fuel.value as bigint) < 0n ? 'fuel' : (stack.value as number) < 0 ? 'stack' : undefined
  const leaked = outcome.kind === 'values' && stack.value !== STACK_BUDGET_SLOTS
  stack.value = STACK_BUDGET_SLOTS
  if (leaked) throw new Error('the stack budget did not return to full after a call')
  if (outcome.kind === 'trap' && exhausted !== undefined) return { kind: exhausted }
  return outcome
}

function instantiateInstrumented(bytes: Uint8Array): Side | string {
  const result = instrumentAnyModule(bytes, { memoryPages: MEMORY_PAGES, maxModuleBytes: 1 << 24 }, { abi: false })
  if (!result.ok) return `instrumenter refused the module: ${result.reason}: ${result.message}`
  const imports: WebAssembly.Imports = {}
  if (result.memory !== undefined) imports[MEMORY_IMPORT.module] = { [MEMORY_IMPORT.name]: new WebAssembly.Memory(result.memory) }
  let exports: WebAssembly.Exports | undefined
  const outcome = call(() => {
    exports = new WebAssembly.Instance(new WebAssembly.Module(result.bytes), imports).exports
  })
  if (exports === undefined) return { ok: false, outcome }
  const start = exports[START_EXPORT] as Fn | undefined
  if (start === undefined) return { ok: true, exports }
  const started = callInstrumented(exports, () => start())
  return started.kind === 'values' ? { ok: true, exports } : { ok: false, outcome: started }
}

const FLOAT_BITS = { i32: { exp: 0x7f80_0000n, frac: 0x7f_ffffn }, i64: { exp: 0x7ff0_0000_0000_0000n, frac: 0xf_ffff_ffff_ffffn } }

/** Whether a value is a NaN, or the bits of one (a reinterpreted float). */
function isNanLike(value: unknown, type: ValueType | undefined): boolean {
  if (typeof value === 'number' && Number.isNaN(value)) return true
  if (type !== 'i32' && type !== 'i64') return false
  const bits = type === 'i32' ? BigInt((value as number) >>> 0) : BigInt.asUintN(64, value as bigint)
  const { exp, frac } = FLOAT_BITS[type]
  return (bits & exp) === exp && (bits & frac) !== 0n
}

function sameValue(a: unknown, b: unknown): boolean {
  return Object.is(a, b)
}

type Classification = 'equal' | 'nan' | 'fuel' | 'stack' | 'divergence'

function classify(control: Outcome | undefined, instrumented: Outcome, results: ValueType[]): Classification {
  if (instrumented.kind === 'fuel') return 'fuel'
  if (control === undefined) return 'divergence'
  if (instrumented.kind === 'stack') return control.kind === 'exhausted' || control.kind === 'values' ? 'stack' : 'divergence'
  if (control.kind !== instrumented.kind) return 'divergence'
  if (control.kind === 'trap') return control.message === (instrumented as { message: string }).message ? 'equal' : 'divergence'
  if (control.kind !== 'values' || instrumented.kind !== 'values') return 'equal'
  if (control.values.length !== instrumented.values.length) return 'divergence'
  let nan = false
  for (let i = 0; i < control.values.length; i++) {
    const [c, m] = [control.values[i], instrumented.values[i]]
    if (sameValue(c, m)) continue
    if (isNanLike(c, results[i]) && isNanLike(m, results[i])) nan = true
    else return 'divergence'
  }
  return nan ? 'nan' : 'equal'
}

function matchesExpected(outcome: Outcome, expected: Expected[]): boolean {
  if (outcome.kind !== 'values' || outcome.values.length !== expected.length) return false
  return expected.every((e, i) => {
    const v = outcome.values[i]
    if ('nan' in e) return typeof v === 'number' && Number.isNaN(v)
    return sameValue(v, e.value)
  })
}

function describe(o: Outcome | undefined): string {
  if (o === undefined) return 'not run'
  if (o.kind === 'values') return `values ${o.values.map(String).join(', ')}`
  if (o.kind === 'trap') return `trap "${o.message}"`
  return o.kind
}

const EDGE_VALUES: Record<ValueType, unknown[]> = {
  i32: [0, 1, -1, 7, 32, 0x7fff_ffff, -0x8000_0000, 0x5555_aaaa | 0],
  i64: [0n, 1n, -1n, 7n, 64n, 2n ** 63n - 1n, -(2n ** 63n), 0x1234_5678_9abc_def0n],
  f32: [0, -0, 1, -1.5, 0.5, Infinity, -Infinity, NaN, Math.fround(3.4e38), Math.fround(1e-45), 2 ** 31, -(2 ** 63)],
  f64: [0, -0, 1, -1.5, 0.5, Infinity, -Infinity, NaN, 1.7e308, 5e-324, 2 ** 31, 2 ** 63, -(2 ** 63)],
}

export interface RunWastOptions {
  compile: CompileWat
  /** Also call every export with up to two numeric parameters on all pairs of edge values. */
  edgeCases: boolean
}

/** Runs one script; adds to `counts`. `name` labels divergences. */
export function runWast(name: string, source: string, options: RunWastOptions, counts: ConformanceCounts): void {
  let current: (Pair & { bytes: Uint8Array }) | undefined

  const record = (line: number, what: string, control: Outcome | undefined, instrumented: Outcome, results: ValueType[]) => {
    const c = classify(control, instrumented, results)
    if (c === 'divergence') counts.divergences.push(`${name}:${line} ${what}: control ${describe(control)}, instrumented ${describe(instrumented)}`)
    else counts[c]++
  }

  const invoke = (pair: Pair, inv: Invoke | { name: string; args: unknown[] }, line: number): { control: Outcome | undefined; instrumented: Outcome } => {
    const args = inv.args.map((a) => (typeof a === 'object' && a !== null && 'type' in a ? toJs(a as Constant) : a))
    if (!pair.instrumented.ok) {
      return { control: pair.control.ok ? { kind: 'values', values: ['instantiated'] } : pair.control.outcome, instrumented: pair.instrumented.outcome }
    }
    const iExports = pair.instrumented.exports
    const iFn = iExports[inv.name] as Fn | undefined
    if (iFn === undefined) throw new Error(`${name}:${line}: no export ${inv.name}`)
    const instrumented = callInstrumented(iExports, () => iFn(...args))
    if (instrumented.kind === 'fuel') return { control: undefined, instrumented }
    if (!pair.control.ok) return { control: pair.control.outcome, instrumented }
    const cFn = pair.control.exports[inv.name] as Fn
    return { control: call(() => cFn(...args)), instrumented }
  }

  const resultsOf = (fn: string) => current?.signatures.get(fn)?.results ?? []

  for (const command of parseWast(source)) {
    if (command.kind === 'module') {
      const bytes = options.compile(command.text)
      if (current !== undefined && options.edgeCases) runEdgeCases(current.bytes, current.signatures)
      const instrumented = instantiateInstrumented(bytes)
      if (typeof instrumented === 'string') {
        counts.divergences.push(`${name}:${command.line} ${instrumented}`)
        current = undefined
        continue
      }
      current = { bytes, control: instantiateControl(bytes), instrumented, signatures: readSignatures(bytes) }
      counts.modules++
      if (!current.control.ok || !current.instrumented.ok) {
        counts.commands++
        const outcomeOf = (side: Side): Outcome => (side.ok ? { kind: 'values', values: [] } : side.outcome)
        record(command.line, 'instantiation', outcomeOf(current.control), outcomeOf(current.instrumented), [])
      }
      continue
    }
    counts.commands++
    if (command.kind === 'invalid') {
      const bytes = options.compile(command.text)
      const engine = WebAssembly.validate(bytes)
      const ours = instrumentAnyModule(bytes, { memoryPages: MEMORY_PAGES, maxModuleBytes: 1 << 24 }, { abi: false })
      if (!engine && !ours.ok && ours.reason === 'invalid-module') counts.refused++
      else counts.divergences.push(`${name}:${command.line} assert_invalid: engine valid=${engine}, instrumenter ${ours.ok ? 'accepted' : ours.reason}`)
      continue
    }
    if (current === undefined) throw new Error(`${name}:${command.line}: no module to invoke`)
    const { control, instrumented } = invoke(current, command.invoke, command.line)
    record(command.line, `${command.kind} ${command.invoke.name}`, control, instrumented, resultsOf(command.invoke.name))
    if (control === undefined) continue
    const expectation =
      command.kind === 'return' ? matchesExpected(control, command.expected)
      : command.kind === 'trap' ? control.kind === 'trap'
      : command.kind === 'exhaustion' ? control.kind === 'exhausted'
      : true
    if (!expectation) counts.expectationMismatches.push(`${name}:${command.line} ${command.kind} ${command.invoke.name}: control ${describe(control)}`)
  }
  if (current !== undefined && options.edgeCases) runEdgeCases(current.bytes, current.signatures)

  function runEdgeCases(bytes: Uint8Array, signatures: Signatures): void {
    const instrumented = instantiateInstrumented(bytes)
    const control = instantiateControl(bytes)
    if (typeof instrumented === 'string' || !instrumented.ok || !control.ok) return
    const pair: Pair = { control, instrumented, signatures }
    for (const [fn, { params, results }] of signatures) {
      if (params.length > 2) continue
      const combos: unknown[][] = params.reduce<unknown[][]>((acc, type) => acc.flatMap((prefix) => EDGE_VALUES[type].map((v) => [...prefix, v])), [[]])
      for (const args of combos) {
        counts.edgeCalls++
        const outcome = invoke(pair, { name: fn, args }, 0)
        record(0, `edge case ${fn}(${args.map(String).join(', ')})`, outcome.control, outcome.instrumented, results)
      }
    }
  }
}
