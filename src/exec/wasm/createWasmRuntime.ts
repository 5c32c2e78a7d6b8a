/**
 * The WebAssembly task runtime: a pool of worker threads, each running `executeWasm` with its own
 * cache of compiled programs. Tasks beyond the pool size wait in a FIFO queue. One task costs one
 * message round trip.
 *
 * Determinism lives in the instrumented code (fuel, memory cap, stack budget); the pool only adds
 * local backstops that make a node abstain (`ExecutionAbortedError`) instead of answering: a
 * wall-clock timeout, a crashed worker, `resourceLimits` on each worker's JS heap, and `close()`.
 */
import { once } from 'node:events'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { ExecutionAbortedError } from '../../core/errors.ts'
import type { ExecutionAbortCode } from '../../core/errors.ts'
import type { ExecutionRequest, ExecutionResult, Runtime } from '../../ports/runtime.ts'
import { assertValidLimits, DEFAULT_MAX_MODULE_BYTES } from './executeWasm.ts'
import type { WorkerOptions, WorkerReady, WorkerRequest, WorkerResponse } from './worker.ts'

export interface CreateWasmRuntimeOptions {
  /** Worker threads; defaults to `os.availableParallelism()`. Workers start on first use. */
  threads?: number
  /** Wall-clock backstop per task, in milliseconds (default 10 000). Fuel is the real limit. */
  timeoutMs?: number
  /** Largest program accepted, in bytes (default 4 MiB). */
  maxModuleBytes?: number
  /** Compiled programs each worker keeps (default 32). */
  maxCachedModules?: number
}

export type CreateWasmRuntimeReturnType = Runtime & {
  /**
   * Starts every worker now and resolves once all are ready, so that the first tasks do not wait
   * for thread start-up (seconds from TypeScript source). Optional: workers otherwise start on
   * first use. Rejects with `EXEC_WORKER_CRASHED` if a worker cannot start.
   */
  start(): Promise<void>
}

const DEFAULT_TIMEOUT_MS = 10_000
const DEFAULT_MAX_CACHED_MODULES = 32
/** Backstop on each worker's JS heap; program memory is capped by the instrumenter instead. */
const WORKER_RESOURCE_LIMITS = { maxOldGenerationSizeMb: 256, stackSizeMb: 4 }

interface Task {
  id: number
  request: ExecutionRequest
  resolve(result: ExecutionResult): void
  reject(error: ExecutionAbortedError): void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

interface PoolWorker {
  worker: Worker
  /** Set once the worker has loaded; tasks go only to ready workers. */
  ready: boolean
  task: Task | undefined
  timer: NodeJS.Timeout | undefined
  /** The last error the worker reported before exiting, for the crash report. */
  error: unknown
  /** Programs this worker was sent the bytes of: later requests for them go without. */
  programs: Set<string>
}

/**
 * Starts the worker script. From compiled output (`.js`) that is a plain file. From TypeScript
 * source under tsx, Node 20 does not apply the parent's `--import tsx` loader to a worker's entry
 * module, so a small bootstrap registers tsx in the worker first and then imports `worker.ts`.
 */
function startWorker(options: WorkerOptions): Worker {
  const settings = { workerData: options, resourceLimits: WORKER_RESOURCE_LIMITS }
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), settings)
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'))
  const entry = JSON.stringify(new URL('./worker.ts', import.meta.url).href)
  const bootstrap = `import(${tsx}).then((tsx) => { tsx.register(); return import(${entry}) })`
  return new Worker(bootstrap, { ...settings, eval: true })
}

/** Copies a view that does not span its whole buffer: cloning a view clones the entire buffer. */
function compact(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
}

function abortError(code: ExecutionAbortCode, message: string, details: Record<string, unknown> = {}) {
  return new ExecutionAbortedError(code, message, { details })
}

export function createWasmRuntime(options: CreateWasmRuntimeOptions = {}): CreateWasmRuntimeReturnType {
  const threads = options.threads ?? availableParallelism()
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`)
  if (!(timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, got ${timeoutMs}`)
  const workerOptions: WorkerOptions = {
    maxModuleBytes: options.maxModuleBytes ?? DEFAULT_MAX_MODULE_BYTES,
    maxCachedModules: options.maxCachedModules ?? DEFAULT_MAX_CACHED_MODULES,
  }
  // Checked here: a worker that failed on them would only report a crash.
  for (const [name, value] of Object.entries(workerOptions)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`)
  }

  const workers = new Set<PoolWorker>()
  const idle: PoolWorker[] = []
  const queue: Task[] = []
  let nextId = 0
  let closed = false
  /** Callers of `start()` waiting for every worker to be ready. */
  const starting: Array<{ resolve(): void; reject(error: ExecutionAbortedError): void }> = []

  function notifyStarted(): void {
    if (starting.length === 0 || workers.size < threads) return
    for (const pw of workers) if (!pw.ready) return
    for (const waiter of starting.splice(0)) waiter.resolve()
  }

  function settle(task: Task): void {
    task.signal?.removeEventListener('abort', task.onAbort as () => void)
  }

  function spawn(): void {
    const pw: PoolWorker = {
      worker: startWorker(workerOptions),
      ready: false,
      task: undefined,
      timer: undefined,
      error: undefined,
      programs: new Set(),
    }
    pw.worker.on('message', (message: WorkerResponse | WorkerReady) => {
      if ('ready' in message) {
        pw.ready = true
        // From now on only a running task's timeout timer keeps the process alive: an idle pool
        // must not, and toggling ref() per task would cost more than the timer.
        pw.worker.unref()
        idle.push(pw)
        pump()
        notifyStarted()
      } else {
        onResponse(pw, message)
      }
    })
    pw.worker.on('error', (error) => {
      pw.error = error
    })
    pw.worker.on('exit', (exitCode) => {
      if (!workers.has(pw)) return // retired on purpose
      const task = pw.task
      retire(pw)
      const detail = pw.error instanceof Error ? pw.error.message : `exit code ${exitCode}`
      const error = abortError('EXEC_WORKER_CRASHED', `execution worker crashed: ${detail}`, { exitCode })
      if (!pw.ready) for (const waiter of starting.splice(0)) waiter.reject(error)
      if (task !== undefined) task.reject(error)
      else if (!pw.ready) {
        // A worker that cannot even start would be replaced forever; fail one waiting task per
        // failed start so that the queue drains.
        const waiting = queue.shift()
        if (waiting !== undefined) {
          settle(waiting)
          waiting.reject(error)
        }
      }
      pump()
    })
    workers.add(pw)
  }

  /** Takes a worker out of the pool (its task, if any, is settled by the caller). */
  function retire(pw: PoolWorker): void {
    workers.delete(pw)
    const at = idle.indexOf(pw)
    if (at >= 0) idle.splice(at, 1)
    clearTimeout(pw.timer)
    if (pw.task !== undefined) settle(pw.task)
  }

  /** Stops a busy worker (timeout, abort): its state may be anything, so it is not reused. */
  function kill(pw: PoolWorker, error: ExecutionAbortedError): void {
    const task = pw.task
    retire(pw)
    void pw.worker.terminate()
    task?.reject(error)
    pump()
  }

  function dispatch(pw: PoolWorker, task: Task): void {
    pw.task = task
    pw.timer = setTimeout(
      () => kill(pw, abortError('EXEC_TIMEOUT', `task exceeded the ${timeoutMs} ms wall-clock limit`, { timeoutMs })),
      timeoutMs,
    )
    post(pw, task, workerOptions.maxCachedModules === 0 || !pw.programs.has(task.request.programId))
  }

  function post(pw: PoolWorker, task: Task, withProgram: boolean): void {
    const { program, ...rest } = task.request
    if (!withProgram) return pw.worker.postMessage({ id: task.id, request: rest } satisfies WorkerRequest)
    // The worker's cache is bounded, so this set is too; a worker that lost a program asks again.
    if (pw.programs.size >= 4 * workerOptions.maxCachedModules) pw.programs.clear()
    pw.programs.add(task.request.programId)
    pw.worker.postMessage({ id: task.id, request: { ...rest, program: compact(program) } } satisfies WorkerRequest)
  }

  function onResponse(pw: PoolWorker, response: WorkerResponse): void {
    const task = pw.task
    if (task === undefined || task.id !== response.id) return
    if ('needProgram' in response) return post(pw, task, true)
    clearTimeout(pw.timer)
    pw.timer = undefined
    pw.task = undefined
    settle(task)
    if ('result' in response) task.resolve(response.result)
    else task.reject(abortError(response.error.code, response.error.message, response.error.details))
    idle.push(pw)
    pump()
  }

  /** Hands queued tasks to ready idle workers and starts workers, up to the pool size. */
  function pump(): void {
    if (closed) return
    while (queue.length > 0 && idle.length > 0) dispatch(idle.pop() as PoolWorker, queue.shift() as Task)
    let starting = 0
    for (const pw of workers) if (!pw.ready) starting++
    for (; queue.length > starting && workers.size < threads; starting++) spawn()
  }

  function execute(request: ExecutionRequest, execOptions: { signal?: AbortSignal } = {}): Promise<ExecutionResult> {
    if (closed) return Promise.reject(abortError('EXEC_CLOSED', 'the wasm runtime is closed'))
    const signal = execOptions.signal
    if (signal?.aborted === true) return Promise.reject(abortError('EXEC_ABORTED', 'execution was aborted'))
    try {
      assertValidLimits(request.limits)
    } catch (error) {
      return Promise.reject(error)
    }
    return new Promise<ExecutionResult>((resolve, reject) => {
      const task: Task = {
        id: nextId++,
        request: { ...request, input: compact(request.input) },
        resolve,
        reject,
        signal,
        onAbort: undefined,
      }
      if (signal !== undefined) {
        task.onAbort = () => {
          const error = abortError('EXEC_ABORTED', 'execution was aborted')
          const queued = queue.indexOf(task)
          if (queued >= 0) {
            queue.splice(queued, 1)
            settle(task)
            reject(error)
            return
          }
          for (const pw of workers) if (pw.task === task) return kill(pw, error)
        }
        signal.addEventListener('abort', task.onAbort, { once: true })
      }
      queue.push(task)
      pump()
    })
  }

  function start(): Promise<void> {
    if (closed) return Promise.reject(abortError('EXEC_CLOSED', 'the wasm runtime is closed'))
    return new Promise<void>((resolve, reject) => {
      starting.push({ resolve, reject })
      while (workers.size < threads) spawn()
      notifyStarted()
    })
  }

  async function close(): Promise<void> {
    if (closed) return
    closed = true
    for (const waiter of starting.splice(0)) waiter.reject(abortError('EXEC_CLOSED', 'the wasm runtime was closed'))
    const error = () => abortError('EXEC_CLOSED', 'the wasm runtime was closed')
    for (const task of queue.splice(0)) {
      settle(task)
      task.reject(error())
    }
    const stopping: Promise<unknown>[] = []
    for (const pw of [...workers]) {
      const task = pw.task
      retire(pw)
      task?.reject(error())
      // Whichever comes first: terminate() settles once the exit is handled, and a worker whose
      // thread was already ending may report its exit only through the event.
      stopping.push(Promise.race([pw.worker.terminate(), once(pw.worker, 'exit')]))
    }
    // An idle worker is unref'd, and one that is exiting may hold no handle: without a timer of its
    // own nothing keeps the event loop alive until every worker has gone, and a caller awaiting
    // close() would be dropped (seen: a test suite cancelled with "the event loop has already resolved").
    const keepAlive = setInterval(() => {}, 60_000)
    try {
      await Promise.all(stopping)
    } finally {
      clearInterval(keepAlive)
    }
  }

  return { name: 'wasm', execute, start, close }
}
