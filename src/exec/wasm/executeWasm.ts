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
import type { ExecutionLimits, ExecutionRequest, ExecutionResult, FailureReason } from '../../ports/runtime.ts'
import { AbiExport, FUEL_EXPORT, MEMORY_IMPORT, START_EXPORT } from './abi.ts'
import type { MemoryLimits } from './instrument.ts'
import { instrumentModule } from './instrument.ts'
import type { ModuleCache } from './moduleCache.ts'
import { createModuleCache } from './moduleCache.ts'

/** Default cap on a program's size. */
export const DEFAULT_MAX_MODULE_BYTES = 4 * 1024 * 1024
const MAX_FUEL = 2n ** 63n - 1n
const MAX_MEMORY_PAGES = 65_536
const PAGE_BYTES = 65_536
/**
 * Memories up to this size are zeroed and reused by the next instance of the same program:
 * mapping a fresh memory and unmapping it costs far more (≈100 µs) than zeroing a few pages.
 */
const REUSABLE_MEMORY_PAGES = 16
const SPARE_MEMORIES_PER_PROGRAM = 2

/** A program after instrumentation and compilation, or the reason it was refused. */
export type CompiledProgram =
  | { ok: true; module: WebAssembly.Module; memory: MemoryLimits; instantiationFuel: bigint; spareMemories: WebAssembly.Memory[] }
  | { ok: false; reason: FailureReason; message: string }

export type ProgramCache = ModuleCache<CompiledProgram>

/** A cache of compiled programs for `executeWasm`; rejections are cached too. */
export function createProgramCache(capacity: number): ProgramCache {
  return createModuleCache<CompiledProgram>(capacity)
}

export interface ExecuteWasmOptions {
  /** Compiled programs by program id; without one, every call instruments and compiles anew. */
  cache?: ProgramCache
  maxModuleBytes?: number
}

/** Thrown by the `env.abort` import; unwinds the program like a trap. */
class ProgramAbort extends Error {
  override name = 'ProgramAbort'
}

const abort = (): never => {
  throw new ProgramAbort('program called abort')
}

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
    const module = new WebAssembly.Module(instrumented.bytes)
    return { ok: true, module, memory: instrumented.memory, instantiationFuel: instrumented.instantiationFuel, spareMemories: [] }
  } catch (error) {
    // The instrumenter's output exceeds an engine limit (e.g. function size).
    return { ok: false, reason: 'invalid-module', message: `compilation failed: ${String(error)}` }
  }
}

/** The key of a compiled program in a `ProgramCache`: the memory cap is written into the module. */
export function programCacheKey(programId: string, memoryPages: number): string {
  return `${programId}:${memoryPages}`
}

function getProgram(request: ExecutionRequest, options: ExecuteWasmOptions): CompiledProgram {
  const maxModuleBytes = options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES
  const cache = options.cache
  if (cache === undefined) return compileProgram(request, maxModuleBytes)
  const key = programCacheKey(request.programId, request.limits.memoryPages)
  let program = cache.get(key)
  if (program === undefined) {
    program = compileProgram(request, maxModuleBytes)
    cache.set(key, program)
  }
  return program
}

/**
 * Keeps a memory for the next instance if it is still at its initial size (memories cannot
 * shrink) and small. Zeroing it makes it indistinguishable from a fresh one: the next
 * instantiation writes the data segments again.
 */
function recycleMemory(spare: WebAssembly.Memory[], limits: MemoryLimits, memory: WebAssembly.Memory): void {
  if (limits.initial > REUSABLE_MEMORY_PAGES || spare.length >= SPARE_MEMORIES_PER_PROGRAM) return
  if (memory.buffer.byteLength !== limits.initial * PAGE_BYTES) return
  new Uint8Array(memory.buffer).fill(0)
  spare.push(memory)
}

export function executeWasm(request: ExecutionRequest, options: ExecuteWasmOptions = {}): ExecutionResult {
  const { limits } = request
  assertValidLimits(limits)
  const program = getProgram(request, options)
  if (!program.ok) return { status: 'failed', reason: program.reason, fuelUsed: 0n }

  const memory = program.spareMemories.pop() ?? new WebAssembly.Memory(program.memory)
  let fuel: WebAssembly.Global | undefined
  let outcome: Uint8Array | FailureReason
  try {
    // Active data segments out of bounds trap here, before any fuel is set or used.
    const instance = new WebAssembly.Instance(program.module, {
      env: { abort },
      [MEMORY_IMPORT.module]: { [MEMORY_IMPORT.name]: memory },
    })
    fuel = instance.exports[FUEL_EXPORT] as WebAssembly.Global
    // What instantiation did for the program is paid first, as if by its first instruction.
    fuel.value = limits.fuel - program.instantiationFuel
    outcome = (fuel.value as bigint) < 0n ? 'out-of-fuel' : callProgram(instance.exports, memory, request.input, limits.outputBytes)
  } catch (error) {
    if (error instanceof WebAssembly.LinkError || error instanceof WebAssembly.CompileError) {
      // Linking depends only on the module and the imports every node gives it alike (the
      // instrumenter should have refused the module already): a failure of the program, not of this node.
      outcome = error instanceof WebAssembly.LinkError ? 'import-not-allowed' : 'invalid-module'
    } else if (error instanceof WebAssembly.RuntimeError || error instanceof ProgramAbort) {
      // The fuel charge is the only code that leaves the counter negative.
      outcome = fuel !== undefined && (fuel.value as bigint) < 0n ? 'out-of-fuel' : 'trap'
    } else if (error instanceof RangeError) {
      // Engine stack overflow or failed memory allocation: the deterministic limits in the
      // instrumented code should make these unreachable, so this node abstains rather than guess.
      throw new ExecutionAbortedError('EXEC_ABORTED', 'the engine ran out of a host resource', {
        details: { programId: request.programId, error: error.message },
        cause: error,
      })
    } else {
      throw error
    }
  }
  const remaining = fuel === undefined ? limits.fuel : (fuel.value as bigint)
  const fuelUsed = remaining < 0n ? limits.fuel : limits.fuel - remaining
  recycleMemory(program.spareMemories, program.memory, memory)
  return typeof outcome === 'string'
    ? { status: 'failed', reason: outcome, fuelUsed }
    : { status: 'ok', output: outcome, fuelUsed }
}

/** Runs the ABI calls on a fresh instance; returns the output or why the ABI was violated. */
function callProgram(
  exports: WebAssembly.Exports,
  memory: WebAssembly.Memory,
  input: Uint8Array,
  outputBytes: number,
): Uint8Array | FailureReason {
  ;(exports[START_EXPORT] as (() => void) | undefined)?.()
  // The instrumenter checked that these exist with the right types.
  const alloc = exports[AbiExport.alloc] as (len: number) => number
  const run = exports[AbiExport.run] as (ptr: number, len: number) => number

  const inputPtr = alloc(input.length) >>> 0
  if (inputPtr + input.length > memory.buffer.byteLength) return 'abi-violation'
  new Uint8Array(memory.buffer, inputPtr, input.length).set(input)

  const outputPtr = run(inputPtr, input.length) >>> 0
  const buffer = memory.buffer // re-read: the program may have grown (and so replaced) it
  if (outputPtr + 4 > buffer.byteLength) return 'abi-violation'
  const outputLength = new DataView(buffer).getUint32(outputPtr, true)
  if (outputLength > outputBytes) return 'output-limit'
  const outputStart = outputPtr + 4
  if (outputStart + outputLength > buffer.byteLength) return 'abi-violation'
  return new Uint8Array(buffer.slice(outputStart, outputStart + outputLength))
}
