import type { Hex } from 'viem'

/**
 * Why a task failed deterministically. Every honest node reaches the same reason for the same
 * program, input and limits, so a `failed` outcome can be agreed on like a result.
 */
export type FailureReason =
  | 'invalid-module' // bytes are not a valid WebAssembly module, or use an unsupported feature
  | 'module-too-large' // module exceeds the size cap
  | 'import-not-allowed' // module imports something outside the program ABI
  | 'abi-violation' // missing/ill-typed exports, output pointer out of bounds
  | 'memory-limit' // declared initial memory exceeds the task's memory limit
  | 'trap' // the program trapped (unreachable, out-of-bounds access, stack overflow, abort)
  | 'out-of-fuel' // the program used up its fuel
  | 'output-limit' // the output exceeds the task's output limit
  | 'invalid-model' // onnx: onnxruntime refuses the model, or it is not one float32 tensor in and one out
  | 'invalid-input' // onnx: the input is not a tensor (src/core/tensor.ts) or does not fit the model's input

export interface ExecutionLimits {
  /** Fuel units the program may consume (deterministic instruction metering). */
  fuel: bigint
  /** Linear memory cap, in 64 KiB WebAssembly pages. */
  memoryPages: number
  /** Largest output accepted, in bytes. */
  outputBytes: number
}

export interface ExecutionRequest {
  /**
   * Content id of `program` (keccak256 of its bytes): the cache key for compiled modules. The
   * runtime does not re-hash the bytes; the caller vouches that the id matches them.
   */
  programId: Hex
  program: Uint8Array
  input: Uint8Array
  limits: ExecutionLimits
  /** The task being run, when a node runs one: runtimes compute without it (the devnet's adversaries read it). */
  taskId?: Hex
}

/**
 * `fuelUsed` is deterministic like the rest of the result (cost model: docs/wasm-abi.md): it
 * equals `limits.fuel` on 'out-of-fuel', and is 0 when the module itself was refused.
 */
export type ExecutionResult =
  | { status: 'ok'; output: Uint8Array; fuelUsed: bigint }
  | { status: 'failed'; reason: FailureReason; fuelUsed: bigint }

/**
 * A task runtime. `execute` resolves with a deterministic result, or rejects with
 * `ExecutionAbortedError` when the run could not finish for a local, non-deterministic reason
 * (wall-clock backstop, worker crash, runtime closed): then the node abstains rather than commit.
 */
export interface Runtime {
  readonly name: string
  execute(request: ExecutionRequest, options?: { signal?: AbortSignal }): Promise<ExecutionResult>
  close(): Promise<void>
}
