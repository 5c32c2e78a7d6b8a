/**
 * Entry point of a pool worker thread. It owns a cache of compiled programs and answers each
 * `WorkerRequest` with one `WorkerResponse`. See createWasmRuntime.ts for the other side.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { ExecutionAbortedError } from '../../core/errors.ts'
import type { ExecutionAbortCode } from '../../core/errors.ts'
import type { ExecutionRequest, ExecutionResult } from '../../ports/runtime.ts'
import { createProgramCache, executeWasm, programCacheKey } from './executeWasm.ts'

export interface WorkerOptions {
  maxModuleBytes: number
  maxCachedModules: number
}

export interface WorkerRequest {
  id: number
  /**
   * Without `program` when the pool has sent this worker the program before: cloning the bytes
   * into every message costs more than the message itself. A worker that no longer has it compiled
   * answers `needProgram`, and the pool sends the request again with the bytes.
   */
  request: Omit<ExecutionRequest, 'program'> & { program?: Uint8Array }
}

export type WorkerResponse =
  | { id: number; result: ExecutionResult }
  | { id: number; needProgram: true }
  | { id: number; error: { code: ExecutionAbortCode; message: string; details: Record<string, unknown> } }

/** Sent once the worker has loaded, so that start-up time never counts against a task. */
export interface WorkerReady {
  ready: true
}

const port = parentPort
if (port === null) throw new Error('worker.ts must run in a worker thread')
const options = workerData as WorkerOptions
const cache = createProgramCache(options.maxCachedModules)

const NO_BYTES = new Uint8Array(0)

port.on('message', ({ id, request }: WorkerRequest) => {
  let response: WorkerResponse
  if (request.program === undefined && cache.get(programCacheKey(request.programId, request.limits.memoryPages)) === undefined) {
    port.postMessage({ id, needProgram: true } satisfies WorkerResponse)
    return
  }
  try {
    // A request without bytes runs from the cache, which was just checked to hold the program.
    const result = executeWasm({ ...request, program: request.program ?? NO_BYTES }, { cache, maxModuleBytes: options.maxModuleBytes })
    if (result.status === 'ok') {
      // The output is a fresh copy owned by this call: move it instead of cloning it again.
      port.postMessage({ id, result } satisfies WorkerResponse, [result.output.buffer as ArrayBuffer])
      return
    }
    response = { id, result }
  } catch (error) {
    // Anything unexpected is a local failure, not something the task deterministically did.
    const aborted = error instanceof ExecutionAbortedError
    response = {
      id,
      error: {
        code: aborted ? error.code : 'EXEC_ABORTED',
        message: error instanceof Error ? error.message : String(error),
        details: aborted ? error.details : {},
      },
    }
  }
  port.postMessage(response)
})

port.postMessage({ ready: true } satisfies WorkerReady)
