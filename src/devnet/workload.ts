import { keccak256, stringToBytes, toBytes } from 'viem'
import type { Hex } from 'viem'
import type { TaskLimits } from '../core/types.ts'
import {
  EXAMPLE_PROGRAMS,
  hashChainInput,
  loadExampleProgram,
  matmulInput,
  runExampleReference,
  wordCountInput,
} from '../programs/index.ts'
import type { ExampleProgramName } from '../programs/index.ts'

export interface WorkloadItem {
  program: ExampleProgramName
  programBytes: Uint8Array
  input: Uint8Array
  limits: TaskLimits
  /** The output a plain local run of the same program gives. */
  expected: Uint8Array
  taskId?: Hex
}

const WORDS = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau'.split(' ')

/** A deterministic little text of about `words` words, for word-count. */
function makeText(seed: number, words: number): string {
  let x = seed * 2654435761 + 1
  const out: string[] = []
  for (let i = 0; i < words; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    out.push(WORDS[x % WORDS.length]!, i % 12 === 11 ? '\n' : ' ')
  }
  return out.join('')
}

/**
 * The devnet's default workload: the example programs in turn, with inputs that vary by task so
 * every task has its own result. Each task takes a few milliseconds of compute.
 */
export async function buildWorkload(seed: string, count: number): Promise<WorkloadItem[]> {
  const programs = new Map(await Promise.all(EXAMPLE_PROGRAMS.map(async (name) => [name, await loadExampleProgram(name)] as const)))
  const limits: TaskLimits = { fuel: 2_000_000_000n, memoryPages: 64, outputBytes: 1 << 20 }
  return Array.from({ length: count }, (_, n) => {
    const program = EXAMPLE_PROGRAMS[n % EXAMPLE_PROGRAMS.length]!
    const input =
      program === 'hash-chain'
        ? hashChainInput(toBytes(keccak256(stringToBytes(`${seed}/${n}`))), 200 + (n % 7) * 50)
        : program === 'matmul'
          ? matmulInput(16 + (n % 5) * 4, n)
          : wordCountInput(makeText(n, 400 + (n % 11) * 40))
    return { program, programBytes: programs.get(program)!, input, limits, expected: runExampleReference(program, input) }
  })
}
