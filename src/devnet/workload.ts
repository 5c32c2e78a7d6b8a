import { keccak256, stringToBytes, toBytes } from 'viem'
import type { Hex } from 'viem'
import { contentId } from '../core/contentId.ts'
import type { Comparison, TaskLimits } from '../core/types.ts'
import { createOnnxRuntime } from '../exec/onnx/createOnnxRuntime.ts'
import { classifierInput, classifierSamples, loadClassifierModel } from '../programs/classifier.ts'
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
  program: ExampleProgramName | 'classifier'
  /** The runtime the task names; `wasm` when absent. */
  runtime?: 'wasm' | 'onnx'
  /** How the task's reveals are compared; `exact` when absent. */
  comparison?: Comparison
  /** Inference items: the true class of each input row, to measure accuracy against. */
  labels?: number[]
  programBytes: Uint8Array
  input: Uint8Array
  limits: TaskLimits
  /** The output a plain local run of the same program gives. */
  expected: Uint8Array
  taskId?: Hex
  /** The epoch its spec named, set when it is submitted. */
  epoch?: bigint
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

/**
 * The inference workload's comparison: probabilities may differ by 10⁻⁴ per element. Honest runs on
 * different CPUs or execution providers differ by float32 rounding (about 10⁻⁷ at this scale), a
 * different answer by far more (docs/inference.md).
 */
export const INFERENCE_COMPARISON: Comparison = { kind: 'maxError', absMicro: 100, relPpm: 0 }
/** Samples per inference task: the batch dimension of its input. */
export const INFERENCE_ROWS = 16

/**
 * `count` inference tasks for the shipped classifier (runtime `onnx`): each a batch of test samples
 * with their labels. `expected` is a plain local run of the model on the same input.
 */
export async function buildInferenceWorkload(count: number, rows = INFERENCE_ROWS): Promise<WorkloadItem[]> {
  const model = await loadClassifierModel()
  const samples = classifierSamples('test', count * rows)
  const limits: TaskLimits = { fuel: BigInt(rows * 8), memoryPages: 1, outputBytes: 4_096 }
  const runtime = createOnnxRuntime({ concurrency: 1 })
  try {
    const items: WorkloadItem[] = []
    for (let n = 0; n < count; n++) {
      const batch = samples.slice(n * rows, (n + 1) * rows)
      const input = classifierInput(batch)
      const result = await runtime.execute({ programId: contentId(model), program: model, input, limits })
      if (result.status !== 'ok') throw new Error(`the shipped classifier failed locally: ${result.reason}`)
      items.push({
        program: 'classifier',
        runtime: 'onnx',
        comparison: INFERENCE_COMPARISON,
        programBytes: model,
        input,
        limits,
        expected: result.output,
        labels: batch.map((s) => s.label),
      })
    }
    return items
  } finally {
    await runtime.close()
  }
}
