/**
 * Names and shapes of the program ABI (docs/wasm-abi.md) and of the exports the instrumenter
 * adds. Shared by the instrumenter, which checks them statically, and the executor, which uses
 * them.
 */
import type { FuncType } from './moduleTypes.ts'
import { ValType } from './moduleTypes.ts'

/** Exports every program must have. */
export const AbiExport = {
  memory: 'memory',
  alloc: 'alloc',
  run: 'run',
} as const

export const ALLOC_TYPE: FuncType = { params: [ValType.i32], results: [ValType.i32] }
export const RUN_TYPE: FuncType = { params: [ValType.i32, ValType.i32], results: [ValType.i32] }

/** The only import a program may declare: AssemblyScript's `abort`, which traps. */
export const ABORT_IMPORT = { module: 'env', name: 'abort' } as const
export const ABORT_TYPE: FuncType = {
  params: [ValType.i32, ValType.i32, ValType.i32, ValType.i32],
  results: [],
}

/** Export names starting with this prefix belong to the runtime; programs may not use them. */
export const RESERVED_EXPORT_PREFIX = '__veritask_'
/** The mutable i64 global holding the remaining fuel. */
export const FUEL_EXPORT = `${RESERVED_EXPORT_PREFIX}fuel`
/**
 * The mutable i32 global holding the remaining stack budget (see meterFunction.ts). Exported so
 * the host can check it or, when it calls one instance more than once (the conformance tests),
 * restore it after a trap, which unwinds frames without giving their weight back.
 */
export const STACK_EXPORT = `${RESERVED_EXPORT_PREFIX}stack`
/** The module's start function, exported instead of run at instantiation (see instrument.ts). */
export const START_EXPORT = `${RESERVED_EXPORT_PREFIX}start`
/**
 * The instrumenter turns the program's memory into this import, so that the host can hand each
 * fresh instance a zeroed memory from a pool instead of mapping a new one (see executeWasm.ts).
 */
export const MEMORY_IMPORT = { module: '__veritask', name: 'memory' } as const
