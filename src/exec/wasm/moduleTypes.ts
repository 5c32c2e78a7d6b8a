/** Value and function types as the instrumenter sees them, and the reasons it rejects a module. */
import type { FailureReason } from '../../ports/runtime.ts'

/** Value type bytes the runtime accepts. v128 (0x7b, SIMD) is deliberately absent. */
export const ValType = {
  i32: 0x7f,
  i64: 0x7e,
  f32: 0x7d,
  f64: 0x7c,
  funcref: 0x70,
  externref: 0x6f,
} as const
export type ValType = (typeof ValType)[keyof typeof ValType]

const valTypes: ReadonlySet<number> = new Set(Object.values(ValType))

export function isValType(byte: number): byte is ValType {
  return valTypes.has(byte)
}

export function isRefType(byte: number): boolean {
  return byte === ValType.funcref || byte === ValType.externref
}

export interface FuncType {
  params: readonly ValType[]
  results: readonly ValType[]
}

export function sameValTypes(a: readonly ValType[], b: readonly ValType[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i])
}

/**
 * Thrown while parsing when the module must be refused; `instrumentModule` catches it and
 * returns the deterministic reason. Local to exec: it never crosses the runtime port.
 */
export class ModuleRejectedError extends Error {
  override name = 'ModuleRejectedError'
  readonly reason: FailureReason

  constructor(reason: FailureReason, message: string) {
    super(message)
    this.reason = reason
  }
}

/** Shorthand for the most common rejection: something the runtime does not support. */
export function unsupported(what: string): ModuleRejectedError {
  return new ModuleRejectedError('invalid-module', `unsupported WebAssembly feature: ${what}`)
}
