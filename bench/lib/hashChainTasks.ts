// Hash-chain tasks of a chosen size, the unit of work of the throughput and latency benchmarks.
import { availableParallelism } from 'node:os'
import { keccak256, numberToHex, toBytes } from 'viem'
import { contentId } from '../../src/core/contentId.ts'
import type { WorkloadItem } from '../../src/devnet/workload.ts'
import { createWasmRuntime } from '../../src/exec/wasm/index.ts'
import { hashChainInput, hashChainReference, loadExampleProgram } from '../../src/programs/index.ts'
import { median } from './report.ts'

export const threads = availableParallelism()
export const program = await loadExampleProgram('hash-chain')
export const programId = contentId(program)
export const limits = { fuel: 10_000_000_000n, memoryPages: 16, outputBytes: 64 }
export const inputOf = (i: number, rounds: number) => hashChainInput(toBytes(keccak256(numberToHex(i, { size: 32 }))), rounds)

/**
 * Tasks per second of `count` tasks of `rounds` hash-chain rounds on a bare, started pool, and the
 * process CPU each took (worker and main thread together, GC included).
 */
export async function bareRate(rounds: number, count: number): Promise<{ rate: number; cpuMsPerTask: number }> {
  const pool = createWasmRuntime({ threads })
  try {
    await pool.start()
    await Promise.all(Array.from({ length: threads }, (_, i) => pool.execute({ programId, program, input: inputOf(i, rounds), limits })))
    const started = performance.now()
    const cpuAtStart = process.cpuUsage()
    await Promise.all(Array.from({ length: count }, (_, i) => pool.execute({ programId, program, input: inputOf(i, rounds), limits })))
    const cpu = process.cpuUsage(cpuAtStart)
    return { rate: (count / (performance.now() - started)) * 1000, cpuMsPerTask: (cpu.user + cpu.system) / 1000 / count }
  } finally {
    await pool.close()
  }
}

/**
 * Hash-chain rounds that take about `ms` per task on one thread, pool round trip included: tasks
 * run one at a time on a one-thread pool and the median time counts, which a noisy machine's
 * stalls do not move much. Four passes, each correcting the round count.
 */
export async function calibrate(ms: number): Promise<{ rounds: number; perTaskMs: number }> {
  const pool = createWasmRuntime({ threads: 1 })
  try {
    await pool.start()
    let rounds = 200
    let perTaskMs = 0
    for (let pass = 0; pass < 4; pass++) {
      const times: number[] = []
      for (let i = 0; i < 41; i++) {
        const started = performance.now()
        await pool.execute({ programId, program, input: inputOf(i, rounds), limits })
        times.push(performance.now() - started)
      }
      perTaskMs = median(times.slice(1))
      if (pass < 3) rounds = Math.max(1, Math.round((rounds * ms) / perTaskMs))
    }
    return { rounds, perTaskMs }
  } finally {
    await pool.close()
  }
}

/** `count` devnet workload items of `rounds` rounds, each with its own input and expected output. */
export function workload(rounds: number, count: number): WorkloadItem[] {
  return Array.from({ length: count }, (_, i) => {
    const input = inputOf(i + 1, rounds)
    return { program: 'hash-chain', programBytes: program, input, limits, expected: hashChainReference(input) }
  })
}
