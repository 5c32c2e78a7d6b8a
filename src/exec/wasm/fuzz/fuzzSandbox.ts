/**
 * Runs generated programs (generateProgram.ts) in the calling thread and in a worker pool and
 * compares the two outcomes: the same result or failure, with the same fuel. A rejection from the
 * pool (`ExecutionAbortedError`: timeout, crashed worker) is a divergence too: the program made a
 * node abstain where the in-thread run answered.
 */
import { inspect } from 'node:util'
import type { ExecutionResult, Runtime } from '../../../ports/runtime.ts'
import { executeWasm } from '../executeWasm.ts'
import { generateProgram } from './generateProgram.ts'

export interface FuzzSandboxParameters {
  /** Seed of the first program; program i uses seed + i. */
  seed: number
  count: number
  pool: Runtime
  /** Compiles WebAssembly text (wabt), injected so this file has no devDependency. */
  compile(text: string): Uint8Array
  /** Programs in flight in the pool at once. */
  concurrency?: number
}

export interface FuzzSandboxReturnType {
  count: number
  /** How many runs ended in each outcome (`ok` or a failure reason). */
  outcomes: Record<string, number>
  divergences: Array<{ seed: number; inThread: string; pool: string }>
}

function show(result: ExecutionResult | Error): string {
  if (result instanceof Error) return `${result.name}: ${result.message}`
  return inspect(result, { depth: 2, breakLength: Infinity })
}

function same(a: ExecutionResult, b: ExecutionResult): boolean {
  if (a.status !== b.status || a.fuelUsed !== b.fuelUsed) return false
  if (a.status === 'failed') return a.reason === (b as typeof a).reason
  return Buffer.from(a.output).equals(Buffer.from((b as typeof a).output))
}

export async function fuzzSandbox(parameters: FuzzSandboxParameters): Promise<FuzzSandboxReturnType> {
  const { seed, count, pool, compile } = parameters
  const result: FuzzSandboxReturnType = { count, outcomes: {}, divergences: [] }
  let next = 0
  async function worker(): Promise<void> {
    while (next < count) {
      const programSeed = seed + next++
      const program = generateProgram(programSeed)
      const request = {
        programId: `0x${programSeed.toString(16).padStart(8, '0')}` as const,
        program: compile(program.text),
        input: Uint8Array.of(programSeed & 0xff),
        limits: { fuel: program.fuel, memoryPages: program.memoryPages, outputBytes: 256 },
      }
      const inThread = executeWasm(request)
      const inPool = await pool.execute(request).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))
      const key = inThread.status === 'ok' ? 'ok' : inThread.reason
      result.outcomes[key] = (result.outcomes[key] ?? 0) + 1
      if (inPool instanceof Error || !same(inThread, inPool)) {
        result.divergences.push({ seed: programSeed, inThread: show(inThread), pool: show(inPool) })
      }
    }
  }
  await Promise.all(Array.from({ length: parameters.concurrency ?? 2 }, worker))
  return result
}
