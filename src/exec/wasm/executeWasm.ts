/**
 * `executeWasm` runs one task in the calling thread, synchronously: instrument and compile the
 * program (or take it from the cache), instantiate it fresh, set the fuel, call the ABI exports
 * (docs/wasm-abi.md) and turn whatever happens into a deterministic `ExecutionResult`. The worker
 * pool calls it inside each worker; tests call it directly.
 *
 * It throws `ExecutionAbortedError` only when the engine itself ran out of a host resource
 * (native stack, memory) — outcomes another node would not necessarily share.
 */
import { ExecutionAbortedError } from '../../core/errors.ts'
import type { ExecutionLimits, ExecutionRequest, ExecutionResult, FailureReason } from '../runtime.ts'
import { AbiExport, FUEL_EXPORT, START_EXPORT } from './abi.ts'
import { instrumentModule } from './instrument.ts'
import type { CompiledProgram, ModuleCache } from './moduleCache.ts'

/** Default cap on a program's size. */
export const DEFAULT_MAX_MODULE_BYTES = 4 * 1024 * 1024
const MAX_FUEL = 2n ** 63n - 1n
const MAX_MEMORY_PAGES = 65_536

export interface ExecuteWasmOptions {
  /** Compiled programs by program id; without one, every call instruments and compiles anew. */
  cache?: ModuleCache
  maxModuleBytes?: number
}

/** Thrown by the `env.abort` import; unwinds the program like a trap. */
class ProgramAbort extends Error {
  override name = 'ProgramAbort'
}

const imports: WebAssembly.Imports = Object.freeze({
  env: Object.freeze({
    abort: () => {
      throw new ProgramAbort('program called abort')
    },
  }),
})

/** Throws a `RangeError` on limits no node should have accepted. */
export function assertValidLimits(limits: ExecutionLimits): void {
  if (typeof limits.fuel !== 'bigint' || limits.fuel < 0n || limits.fuel > MAX_FUEL) {
    throw new RangeError(`fuel must be a bigint in [0, 2^63 - 1], got ${String(limits.fuel)}`)
  }
  if (!Number.isInteger(limits.memoryPages) || limits.memoryPages < 0 || limits.memoryPages > MAX_MEMORY_PAGES) {
    throw new RangeError(`memoryPages must be an integer in [0, ${MAX_MEMORY_PAGES}], got ${limits.memoryPages}`)
  }
  if (!Number.isSafeInteger(limits.outputBytes) || limits.outputBytes < 0) {
    throw new RangeError(`outputBytes must be a non-negative integer, got ${limits.outputBytes}`)
  }
}

function compileProgram(request: ExecutionRequest, maxModuleBytes: number): CompiledProgram {
  const instrumented = instrumentModule(request.program, {
    memoryPages: request.limits.memoryPages,
    maxModuleBytes,
  })
  if (!instrumented.ok) return instrumented
  try {
    return { ok: true, module: new WebAssembly.Module(instrumented.bytes) }
  } catch (error) {
    // The instrumenter's output exceeds an engine limit (e.g. function size).
    return { ok: false, reason: 'invalid-module', message: `compilation failed: ${String(error)}` }
  }
}

function getProgram(request: ExecutionRequest, options: ExecuteWasmOptions): CompiledProgram {
  const maxModuleBytes = options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES
  const cache = options.cache
  if (cache === undefined) return compileProgram(request, maxModuleBytes)
  const key = `${request.programId}:${request.limits.memoryPages}`
  let program = cache.get(key)
  if (program === undefined) {
    program = compileProgram(request, maxModuleBytes)
    cache.set(key, program)
  }
  return program
}

export function executeWasm(request: ExecutionRequest, options: ExecuteWasmOptions = {}): ExecutionResult {
  const { limits } = request
  assertValidLimits(limits)
  const program = getProgram(request, options)
  if (!program.ok) return { status: 'failed', reason: program.reason, fuelUsed: 0n }

  let fuel: WebAssembly.Global | undefined
  const fuelUsed = (): bigint => {
    const remaining = fuel === undefined ? limits.fuel : (fuel.value as bigint)
    return remaining < 0n ? limits.fuel : limits.fuel - remaining
  }
  const failed = (reason: FailureReason): ExecutionResult => ({ status: 'failed', reason, fuelUsed: fuelUsed() })

  try {
    // Active data segments out of bounds trap here, before any fuel is set or used.
    const instance = new WebAssembly.Instance(program.module, imports)
    const exports = instance.exports
    fuel = exports[FUEL_EXPORT] as WebAssembly.Global
    fuel.value = limits.fuel
    const start = exports[START_EXPORT] as (() => void) | undefined
    start?.()

    // The instrumenter checked that these exist with the right types.
    const memory = exports[AbiExport.memory] as WebAssembly.Memory
    const alloc = exports[AbiExport.alloc] as (len: number) => number
    const run = exports[AbiExport.run] as (ptr: number, len: number) => number

    const input = request.input
    const inputPtr = alloc(input.length) >>> 0
    if (inputPtr + input.length > memory.buffer.byteLength) return failed('abi-violation')
    new Uint8Array(memory.buffer, inputPtr, input.length).set(input)

    const outputPtr = run(inputPtr, input.length) >>> 0
    const buffer = memory.buffer // re-read: the program may have grown (and so replaced) it
    if (outputPtr + 4 > buffer.byteLength) return failed('abi-violation')
    const outputLength = new DataView(buffer).getUint32(outputPtr, true)
    if (outputLength > limits.outputBytes) return failed('output-limit')
    const outputStart = outputPtr + 4
    if (outputStart + outputLength > buffer.byteLength) return failed('abi-violation')
    return {
      status: 'ok',
      output: new Uint8Array(buffer.slice(outputStart, outputStart + outputLength)),
      fuelUsed: fuelUsed(),
    }
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError || error instanceof ProgramAbort) {
      // The fuel charge is the only code that leaves the counter negative.
      const outOfFuel = fuel !== undefined && (fuel.value as bigint) < 0n
      return failed(outOfFuel ? 'out-of-fuel' : 'trap')
    }
    if (error instanceof RangeError) {
      // Engine stack overflow or failed memory allocation: the deterministic limits in the
      // instrumented code should make these unreachable, so this node abstains rather than guess.
      throw new ExecutionAbortedError('EXEC_ABORTED', 'the engine ran out of a host resource', {
        details: { programId: request.programId, error: error.message },
        cause: error,
      })
    }
    throw error
  }
}
