/**
 * The `onnx` task runtime: model inference with onnxruntime-node. A task's program is an ONNX
 * model (its content id is the model id), its input a tensor in the byte form of
 * src/core/tensor.ts whose first dimension is the batch, and its output the model's output tensor
 * in the same form. Sessions are cached by model id; runs go through onnxruntime's own native
 * threads, so the event loop stays free.
 *
 * Floating-point inference is not bit-identical across CPUs, instruction sets and execution
 * providers: the spec's comparison rule (src/core/comparison.ts) decides which outputs agree.
 * What must be identical on every honest node is the *failure* outcome, so the runtime fails only
 * for reasons that depend on the bytes alone (a model onnxruntime refuses, an input that does not
 * fit the model, limits) and abstains (`ExecutionAbortedError`) for local ones (a run that throws,
 * the wall-clock backstop, a closed runtime). See docs/inference.md.
 */
import { availableParallelism } from 'node:os'
import type * as ort from 'onnxruntime-node'
import { ExecutionAbortedError } from '../../core/errors.ts'
import { decodeTensor, encodeTensor, tensorElements, TensorError } from '../../core/tensor.ts'
import type { Tensor } from '../../core/tensor.ts'
import type { Hex } from '../../core/types.ts'
import type { ExecutionRequest, ExecutionResult, FailureReason, Runtime } from '../../ports/runtime.ts'

/**
 * Limits that are part of the runtime's definition: they decide `failed` outcomes, so every node
 * of a network must apply the same ones (like the protocol parameters, not a node's setting).
 */
export const ONNX_LIMITS = {
  /** Largest model, in bytes. */
  maxModelBytes: 4 * 1024 * 1024,
  /** Most elements an input tensor may hold (batch × features). */
  maxInputElements: 1 << 20,
  /** Most elements an output tensor may hold. */
  maxOutputElements: 1 << 20,
} as const

export interface CreateOnnxRuntimeOptions {
  /**
   * onnxruntime execution providers in order of preference, e.g. `['cuda', 'cpu']` on a node whose
   * onnxruntime has the CUDA provider installed. Default `['cpu']`.
   */
  executionProviders?: readonly string[]
  /** Threads onnxruntime may use inside one run (default 1: tasks run side by side instead). */
  intraOpThreads?: number
  /** Runs in flight at once; more wait in a FIFO queue. Default `os.availableParallelism()`. */
  concurrency?: number
  /** Sessions kept, by model id (default 8); the least recently used is released. */
  maxCachedSessions?: number
  /** Wall-clock backstop per run, in ms (default 10 000): the node abstains past it. */
  timeoutMs?: number
}

export type CreateOnnxRuntimeReturnType = Runtime

type Loaded = { ok: true; session: ort.InferenceSession; input: string; inputShape: ReadonlyArray<number | string>; output: string } | { ok: false; reason: FailureReason }

interface CacheEntry {
  loaded: Promise<Loaded>
  users: number
  evicted: boolean
}

const failed = (reason: FailureReason, fuelUsed = 0n): ExecutionResult => ({ status: 'failed', reason, fuelUsed })

type OnnxRuntimeModule = typeof ort
let onnxRuntimeModule: Promise<OnnxRuntimeModule> | undefined

/**
 * onnxruntime-node, loaded on first use: a node that never runs inference never loads the native
 * binding, and one on a platform without it abstains from inference tasks instead of failing to start.
 */
function loadOnnxRuntime(): Promise<OnnxRuntimeModule> {
  onnxRuntimeModule ??= import('onnxruntime-node').catch((cause: unknown) => {
    onnxRuntimeModule = undefined
    throw new ExecutionAbortedError('EXEC_ABORTED', 'onnxruntime-node could not be loaded on this machine.', {
      cause,
      hint: 'Install dependencies with `npm install` on a platform onnxruntime-node supports (Linux, macOS, Windows; x64 or arm64).',
    })
  })
  return onnxRuntimeModule
}

/** A model the runtime can serve: one float32 tensor in, one float32 tensor out. */
async function loadModel(program: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<Loaded> {
  if (program.byteLength > ONNX_LIMITS.maxModelBytes) return { ok: false, reason: 'module-too-large' }
  const { InferenceSession } = await loadOnnxRuntime()
  let session: ort.InferenceSession
  try {
    session = await InferenceSession.create(program, options)
  } catch {
    // Only the CPU provider, which every node has, may judge a model invalid: a GPU provider that
    // is missing or refuses the model is this node's problem, so it answers on the CPU instead.
    try {
      session = await InferenceSession.create(program, { ...options, executionProviders: ['cpu'] })
    } catch {
      return { ok: false, reason: 'invalid-model' }
    }
  }
  const [input, ...moreInputs] = session.inputMetadata
  const [output, ...moreOutputs] = session.outputMetadata
  const isFloatTensor = (m: ort.InferenceSession.ValueMetadata | undefined) => m?.isTensor === true && m.type === 'float32'
  if (!isFloatTensor(input) || !isFloatTensor(output) || moreInputs.length > 0 || moreOutputs.length > 0) {
    await session.release()
    return { ok: false, reason: 'invalid-model' }
  }
  const shape = (input as ort.InferenceSession.TensorValueMetadata).shape
  return { ok: true, session, input: input!.name, inputShape: shape, output: output!.name }
}

/** Whether the tensor fits the model's declared input: same rank, and every fixed size equal. */
function fitsShape(tensor: Tensor, shape: ReadonlyArray<number | string>): boolean {
  if (shape.length === 0) return true // the model does not declare a shape
  return shape.length === tensor.dims.length && shape.every((d, i) => typeof d !== 'number' || d < 0 || d === tensor.dims[i])
}

export function createOnnxRuntime(options: CreateOnnxRuntimeOptions = {}): CreateOnnxRuntimeReturnType {
  const concurrency = options.concurrency ?? availableParallelism()
  const maxCached = options.maxCachedSessions ?? 8
  const timeoutMs = options.timeoutMs ?? 10_000
  for (const [name, value] of Object.entries({ concurrency, maxCached, intraOpThreads: options.intraOpThreads ?? 1 })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
  }
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`)
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: [...(options.executionProviders ?? ['cpu'])],
    intraOpNumThreads: options.intraOpThreads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  }
  const cache = new Map<Hex, CacheEntry>()
  const waiting: Array<() => void> = []
  let running = 0
  let closed = false

  async function release(entry: CacheEntry): Promise<void> {
    const loaded = await entry.loaded
    if (loaded.ok) await loaded.session.release()
  }

  function acquire(programId: Hex, program: Uint8Array): CacheEntry {
    let entry = cache.get(programId)
    if (entry !== undefined) {
      cache.delete(programId) // re-inserted below: the map's order is the recency order
    } else {
      const created: CacheEntry = { loaded: loadModel(program, sessionOptions), users: 0, evicted: false }
      // A load that could not finish (onnxruntime missing) is not an answer: do not keep it.
      created.loaded.catch(() => cache.get(programId) === created && cache.delete(programId))
      entry = created
    }
    cache.set(programId, entry)
    entry.users++
    while (cache.size > maxCached) {
      const [oldestId, oldest] = cache.entries().next().value as [Hex, CacheEntry]
      cache.delete(oldestId)
      oldest.evicted = true
      if (oldest.users === 0) void release(oldest)
    }
    return entry
  }

  function done(entry: CacheEntry): void {
    entry.users--
    if (entry.evicted && entry.users === 0) void release(entry)
  }

  async function slot(): Promise<void> {
    if (running < concurrency) {
      running++
      return
    }
    await new Promise<void>((resolve) => waiting.push(resolve))
  }

  function freeSlot(): void {
    const next = waiting.shift()
    if (next !== undefined) next()
    else running--
  }

  async function run(request: ExecutionRequest): Promise<ExecutionResult> {
    let tensor: Tensor
    try {
      tensor = decodeTensor(request.input)
    } catch (error) {
      if (error instanceof TensorError) return failed('invalid-input')
      throw error
    }
    const elements = tensorElements(tensor.dims)
    if (elements > ONNX_LIMITS.maxInputElements) return failed('invalid-input')
    // Fuel counts input elements: the requester's bound on the size of the batch.
    const fuelUsed = BigInt(elements)
    if (fuelUsed > request.limits.fuel) return failed('out-of-fuel', request.limits.fuel)

    const entry = acquire(request.programId, request.program)
    try {
      const loaded = await entry.loaded
      if (!loaded.ok) return failed(loaded.reason)
      if (!fitsShape(tensor, loaded.inputShape)) return failed('invalid-input', fuelUsed)
      const { Tensor: OrtTensor } = await loadOnnxRuntime()
      let outputs: ort.InferenceSession.ReturnType
      try {
        outputs = await loaded.session.run({ [loaded.input]: new OrtTensor('float32', tensor.data, [...tensor.dims]) })
      } catch (cause) {
        // E.g. a shape the graph cannot take although the declared input allowed it. Whether that
        // happens is not something the runtime can vouch is the same everywhere: abstain.
        throw new ExecutionAbortedError('EXEC_ABORTED', 'onnxruntime failed to run the model.', { cause, details: { programId: request.programId } })
      }
      const out = outputs[loaded.output]
      if (out === undefined || out.type !== 'float32' || out.dims.length < 1 || out.dims.length > 8 || out.dims.some((d) => d < 1)) {
        return failed('invalid-model', fuelUsed)
      }
      if (out.size > ONNX_LIMITS.maxOutputElements) return failed('output-limit', fuelUsed)
      const output = encodeTensor({ dims: out.dims.map(Number), data: out.data as Float32Array })
      for (const value of Object.values(outputs)) value.dispose()
      if (output.byteLength > request.limits.outputBytes) return failed('output-limit', fuelUsed)
      return { status: 'ok', output, fuelUsed }
    } finally {
      done(entry)
    }
  }

  return {
    name: 'onnx',
    async execute(request, { signal } = {}) {
      if (closed) throw new ExecutionAbortedError('EXEC_CLOSED', 'The onnx runtime is closed.')
      signal?.throwIfAborted()
      await slot()
      let timer: NodeJS.Timeout | undefined
      try {
        if (closed) throw new ExecutionAbortedError('EXEC_CLOSED', 'The onnx runtime is closed.')
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new ExecutionAbortedError('EXEC_TIMEOUT', `The inference run exceeded ${timeoutMs} ms.`, { details: { programId: request.programId } })),
            timeoutMs,
          )
        })
        const aborted = new Promise<never>((_, reject) => {
          signal?.addEventListener('abort', () => reject(new ExecutionAbortedError('EXEC_ABORTED', 'The run was aborted.')), { once: true })
        })
        return await Promise.race([run(request), timeout, aborted])
      } finally {
        clearTimeout(timer)
        freeSlot()
      }
    },
    async close() {
      closed = true
      const entries = [...cache.values()]
      cache.clear()
      await Promise.all(entries.map((entry) => release(entry)))
    },
  }
}
