import { getMaxListeners, setMaxListeners } from 'node:events'
import { contentId } from '../../core/contentId.ts'
import type { Receipt } from '../../core/receipt.ts'
import type { Hex } from '../../core/types.ts'
import { planChunks } from '../chunking.ts'
import type { InputFile, SplitMode } from '../chunking.ts'
import { buildChunkOutputTree, frameOutputs, groupForReduce } from '../chunkOutputs.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import { EmptyInputError, InsufficientEscrowError, InvalidProgramError, JobInterruptedError, NodeApiError, TimeoutError } from '../errors.ts'
import type { ChainUnreachableError, InputNotFoundError, NodeUnreachableError } from '../errors.ts'
import { MAX_TRANSIENT_REFUSALS, TRANSIENT_REFUSALS, nextChunkStep } from '../jobPolicy.ts'
import type { AttemptOutcome, ChunkStatus } from '../jobPolicy.ts'
import { assertWasmProgram } from '../program.ts'
import { readJobInput } from '../readInput.ts'
import { sleep } from '../sleep.ts'
import { getEscrow } from './getEscrow.ts'
import { getReceipt } from './getReceipt.ts'
import { getResult } from './getResult.ts'
import { defaultTaskTerms, submitTask } from './submitTask.ts'
import type { TaskTerms } from './submitTask.ts'
import { verifyReceipt } from './verifyReceipt.ts'
import { waitForResult } from './waitForResult.ts'

export interface SubmitJobParameters extends TaskTerms {
  /** The map program, run once per chunk: bytes, or an id given to `uploadProgram`. */
  program: Uint8Array | Hex
  /** The input: a path (a file, or a directory of files), files, or ready-made chunk inputs. */
  input: string | readonly InputFile[] | readonly Uint8Array[]
  /** Largest chunk in bytes (default: one chunk per file). Ignored for ready-made chunks. */
  chunkSize?: number
  /** Where chunks are cut (default `lines`: whole lines, else whole words). */
  split?: SplitMode
  /** A reduce program, run over the verified chunk outputs (framed, see `frameOutputs`); must be associative when outputs exceed one task's input. */
  reduce?: Uint8Array | Hex
  /** Terms of the reduce tasks; the job's terms by default. */
  reduceTerms?: TaskTerms
  /** Chunks in flight at once (default 32). */
  concurrency?: number
  /** Attempts per chunk when a task ends unresolved or without a verdict in time (default 3). */
  maxAttempts?: number
  /** Per-attempt wait for a verdict, in ms (default: the deadline plus 30 s). */
  attemptTimeoutMs?: number
  /**
   * Wait for every task's receipt and verify it on-chain (default false). A chunk whose epoch
   * settled without its task (410 `RECEIPT_OMITTED`) is run again, within `maxAttempts`.
   */
  receipts?: boolean
  /** A report of an earlier run of this job: chunks it finished (verified or failed) are not run again. */
  resume?: JobReport
  onProgress?: (progress: JobProgress) => void
  signal?: AbortSignal
}

export interface JobProgress {
  phase: 'map' | 'reduce' | 'receipts'
  done: number
  total: number
  verified: number
  failed: number
  unresolved: number
  rejected: number
}

/** One attempt at a chunk (or reduce step): the task, and how it ended (`pending`: no verdict yet when the report was made). */
export interface TaskAttempt {
  taskId: Hex
  outcome: AttemptOutcome | 'pending'
  /** The node's error code, for `rejected`. */
  error?: string
}

export interface ChunkReport {
  index: number
  source: string
  offset: number
  length: number
  /** Content id of the chunk's input. */
  input: Hex
  status: ChunkStatus
  /** Every task tried for the chunk, in order; the last one is the chunk's outcome. */
  attempts: TaskAttempt[]
  /** The deciding task (the last attempt). */
  taskId?: Hex
  /** The verdict's result hash (for `failed`, the hash of the failure reason). */
  resultHash?: Hex
  /** The verified output bytes, when the job fetched them (with a reduce, or `fetchOutputs`). */
  output?: Uint8Array
  receipt?: Receipt
  /** The receipt verified on-chain, with this chunk's task and result. */
  receiptValid?: boolean
}

export interface ReduceStep {
  /** Which step outputs went in, `[start, end)` of the previous level (chunks for level 0). */
  level: number
  range: [number, number]
  input: Hex
  status: ChunkStatus
  attempts: TaskAttempt[]
  taskId?: Hex
  resultHash?: Hex
  receipt?: Receipt
  receiptValid?: boolean
}

export interface JobReport {
  /** `complete`: every chunk verified (and the reduce, if any). `incomplete`: see the chunks' and steps' `status`. */
  status: 'complete' | 'incomplete'
  program: Hex
  reduceProgram?: Hex
  chunks: ChunkReport[]
  /** Root of the chunk outputs tree (`buildChunkOutputTree`), once every chunk is verified. */
  outputsRoot: Hex | null
  reduceSteps: ReduceStep[]
  /** The reduce's final output (verified), or with one chunk and no reduce, that chunk's output. */
  output?: Uint8Array
  counts: Record<Exclude<ChunkStatus, 'pending'> | 'pending', number>
  /** Fees of every task submitted, in base units (unresolved tasks are refunded). */
  feesSubmitted: bigint
  /** With `receipts`: every verified task's receipt verified on-chain. */
  receiptsValid?: boolean
}

export type SubmitJobReturnType = JobReport

export type SubmitJobErrorType =
  | InvalidProgramError
  | InputNotFoundError
  | EmptyInputError
  | InsufficientEscrowError
  | NodeUnreachableError
  | NodeApiError
  | ChainUnreachableError
  | JobInterruptedError

interface Unit {
  input: Uint8Array
  inputId: Hex
  status: ChunkStatus
  attempts: TaskAttempt[]
  taskId?: Hex
  resultHash?: Hex
  output?: Uint8Array
  receipt?: Receipt
  receiptValid?: boolean
}

async function chunkInputs(input: SubmitJobParameters['input'], chunkSize: number | undefined, split: SplitMode | undefined) {
  if (typeof input === 'string') return planChunks({ files: await readJobInput(input), ...(chunkSize ? { chunkSize } : {}), ...(split ? { split } : {}) })
  if (input.length > 0 && input[0] instanceof Uint8Array) {
    return (input as readonly Uint8Array[]).filter((b) => b.length > 0).map((bytes, index) => ({ index, source: `#${index}`, offset: 0, bytes }))
  }
  return planChunks({ files: input as readonly InputFile[], ...(chunkSize ? { chunkSize } : {}), ...(split ? { split } : {}) })
}

/**
 * Runs `work` over `items` with at most `concurrency` at once; stops taking new items once `stop()`
 * holds or a worker failed. Rejects with the first failure, but only after every worker has
 * settled, so that nothing is still submitting when the caller reports.
 */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>, stop: () => boolean): Promise<void> {
  let next = 0
  let failed = false
  const worker = async () => {
    while (next < items.length && !stop() && !failed) {
      try {
        await work(items[next++]!)
      } catch (error) {
        failed = true
        throw error
      }
    }
  }
  const results = await Promise.allSettled(Array.from({ length: Math.min(concurrency, items.length) }, worker))
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (rejected !== undefined) throw rejected.reason
}

/**
 * Runs a program over data: splits the input into chunks, runs each chunk as its own task (map),
 * then optionally a reduce program over the verified outputs. Before submitting anything it
 * checks that the escrow covers every fee; a chunk whose task ends unresolved is retried as a new
 * task, one that fails deterministically is reported, and nothing is dropped: the report lists
 * every chunk with its tasks and outcome. Pass it back as `resume` to finish an incomplete job.
 *
 * @example
 * ```ts
 * const job = await client.submitJob({
 *   program: await readFile('programs/build/word-count.wasm'),
 *   reduce: await readFile('programs/build/word-count-merge.wasm'),
 *   input: './books',
 *   chunkSize: 16_384,
 *   onProgress: (p) => console.error(`${p.phase} ${p.done}/${p.total}`),
 * })
 * console.log(job.status, job.outputsRoot, new TextDecoder().decode(job.output))
 * ```
 */
export async function submitJob(client: VeritaskClientBase, parameters: SubmitJobParameters): Promise<SubmitJobReturnType> {
  const { concurrency = 32, maxAttempts = 3, signal, onProgress } = parameters
  // Every chunk in flight waits on the caller's signal (sleeps, requests): that many listeners are expected.
  if (signal !== undefined) setMaxListeners(Math.max(getMaxListeners(signal), concurrency * 3 + 10), signal)
  const mapProgram = programOf(client, parameters.program, 'the program')
  const reduceProgram = parameters.reduce === undefined ? undefined : programOf(client, parameters.reduce, 'the reduce program')
  const chunks = await chunkInputs(parameters.input, parameters.chunkSize, parameters.split)
  if (chunks.length === 0) {
    throw new EmptyInputError('SDK_INPUT_EMPTY', 'The input has no bytes to compute on.', {
      hint: 'Pass a non-empty file, or a directory holding at least one non-empty file.',
      details: { input: typeof parameters.input === 'string' ? parameters.input : '(in memory)' },
    })
  }
  const terms: TaskTerms = pick(parameters)
  const reduceTerms: TaskTerms = { ...terms, ...parameters.reduceTerms }
  const fee = terms.fee ?? defaultTaskTerms.fee
  const reduceFee = reduceTerms.fee ?? defaultTaskTerms.fee

  const resumed = new Map((parameters.resume?.chunks ?? []).map((c) => [`${c.index}:${c.input}`, c]))
  const units: Unit[] = chunks.map((chunk) => {
    const inputId = contentId(chunk.bytes)
    const earlier = resumed.get(`${chunk.index}:${inputId}`)
    const done = earlier !== undefined && (earlier.status === 'verified' || earlier.status === 'failed')
    return {
      input: chunk.bytes,
      inputId,
      status: done ? earlier.status : 'pending',
      attempts: (earlier?.attempts ?? []).map((a) => ({ ...a })),
      ...(done ? { taskId: earlier.taskId, resultHash: earlier.resultHash } : {}),
    }
  })
  const toRun = units.filter((u) => u.status === 'pending')

  // The escrow must cover every fee before anything is submitted.
  const required = fee * BigInt(toRun.length) + (reduceProgram === undefined ? 0n : reduceFee)
  const escrow = await getEscrow(client)
  if (escrow.spendable < required) {
    throw new InsufficientEscrowError({ required, available: escrow.spendable, requester: client.account.address })
  }

  const needOutputs = reduceProgram !== undefined || units.length === 1
  let feesSubmitted = 0n
  const progress = (phase: JobProgress['phase'], list: readonly Unit[], doneCount?: number) => {
    if (onProgress === undefined) return
    const count = (s: ChunkStatus) => list.filter((u) => u.status === s).length
    const counts = { verified: count('verified'), failed: count('failed'), unresolved: count('unresolved'), rejected: count('rejected') }
    const done = doneCount ?? counts.verified + counts.failed + counts.unresolved + counts.rejected
    onProgress({ phase, done, total: list.length, ...counts })
  }

  /** Runs one unit to a final status: submit, wait, retry what another attempt can change. */
  let refused: NodeApiError | undefined
  async function run(unit: Unit, program: Uint8Array, unitTerms: TaskTerms, withOutput: boolean): Promise<void> {
    let transient = 0
    while (unit.status === 'pending') {
      if (refused !== undefined) return
      // A task an interrupted run submitted is followed to its verdict, not submitted again.
      let attempt = unit.attempts.at(-1)
      if (attempt?.outcome !== 'pending') {
        if (signal?.aborted) return
        let taskId: Hex
        try {
          // Not abortable: a submission cut off mid-request may still be accepted, and then it
          // must be in the report, or a resume would pay for the chunk twice.
          ;({ taskId } = await submitTask(client, { program, input: unit.input, ...unitTerms }))
        } catch (error) {
          if (!(error instanceof NodeApiError)) throw error
          // A lagging node, a turning epoch or a busy API: this submission, not the job's terms.
          if (TRANSIENT_REFUSALS.has(error.code) && ++transient <= MAX_TRANSIENT_REFUSALS) {
            await sleep(500 * 2 ** transient, signal).catch(() => undefined)
            continue
          }
          unit.attempts.push({ taskId: '0x' as Hex, outcome: 'rejected', error: error.code })
          unit.status = 'rejected'
          // A refusal applies to the job's terms, not to one chunk: stop submitting more.
          refused ??= error
          return
        }
        feesSubmitted += unitTerms.fee ?? defaultTaskTerms.fee
        attempt = { taskId, outcome: 'pending' }
        unit.attempts.push(attempt)
      }
      unit.taskId = attempt.taskId
      const deadlineMs = unitTerms.deadlineMs ?? defaultTaskTerms.deadlineMs
      let outcome: AttemptOutcome
      try {
        const result = await waitForResult(client, {
          taskId: attempt.taskId,
          output: withOutput,
          timeoutMs: parameters.attemptTimeoutMs ?? deadlineMs + 30_000,
          ...(signal ? { signal } : {}),
        })
        outcome = result.outcome
        unit.resultHash = result.verdict.resultHash
        if (result.output !== undefined) unit.output = result.output
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error
        outcome = 'timeout'
      }
      attempt.outcome = outcome
      const step = nextChunkStep(outcome, unit.attempts.filter((a) => a.outcome !== 'rejected').length, maxAttempts)
      if (step !== 'retry') unit.status = step
      else delete unit.resultHash
    }
  }

  const steps: Array<{ level: number; range: [number, number]; unit: Unit }> = []
  let outputsRoot: Hex | null = null
  let output: Uint8Array | undefined
  let receiptsValid: boolean | undefined

  /** The report as things stand: at the end, or when the job is interrupted. */
  const report = (): JobReport => {
    const count = (s: ChunkStatus) => units.filter((u) => u.status === s).length
    const allVerified = units.every((u) => u.status === 'verified')
    const complete = allVerified && (reduceProgram === undefined || (output !== undefined && steps.at(-1)?.unit.status === 'verified'))
    const common = (u: Unit) => ({
      status: u.status,
      attempts: u.attempts,
      ...(u.taskId ? { taskId: u.taskId } : {}),
      ...(u.resultHash ? { resultHash: u.resultHash } : {}),
      ...(u.receipt ? { receipt: u.receipt } : {}),
      ...(u.receiptValid === undefined ? {} : { receiptValid: u.receiptValid }),
    })
    return {
      status: complete ? 'complete' : 'incomplete',
      program: contentId(mapProgram),
      ...(reduceProgram ? { reduceProgram: contentId(reduceProgram) } : {}),
      chunks: chunks.map((chunk, i) => {
        const u = units[i]!
        return {
          index: chunk.index,
          source: chunk.source,
          offset: chunk.offset,
          length: chunk.bytes.length,
          input: u.inputId,
          ...common(u),
          ...(u.output ? { output: u.output } : {}),
        }
      }),
      outputsRoot,
      reduceSteps: steps.map(({ level, range, unit }) => ({ level, range, input: unit.inputId, ...common(unit) })),
      ...(output ? { output } : {}),
      counts: { pending: count('pending'), verified: count('verified'), failed: count('failed'), unresolved: count('unresolved'), rejected: count('rejected') },
      feesSubmitted,
      ...(receiptsValid === undefined ? {} : { receiptsValid }),
    }
  }
  const stop = () => refused !== undefined || signal?.aborted === true

  try {
    // ── map ──
    progress('map', units)
    await pool(
      toRun,
      concurrency,
      async (unit) => {
        await run(unit, mapProgram, terms, needOutputs)
        progress('map', units)
      },
      stop,
    )
    signal?.throwIfAborted()
    // Resumed chunks whose bytes a reduce needs.
    if (needOutputs) {
      for (const unit of units) {
        if (unit.status === 'verified' && unit.output === undefined) unit.output = await getResult(client, { resultHash: unit.resultHash!, ...(signal ? { signal } : {}) })
      }
    }
    const allVerified = units.every((u) => u.status === 'verified')
    if (allVerified) outputsRoot = buildChunkOutputTree(units.map((u, index) => ({ index, input: u.inputId, resultHash: u.resultHash! }))).root as Hex
    if (allVerified && units.length === 1 && reduceProgram === undefined) output = units[0]!.output

    // ── reduce: level by level until one output is left ──
    if (allVerified && reduceProgram !== undefined) {
      const status = await client.api.json<{ limits?: { maxInputBytes?: number } }>('/v1/status', signal ? { signal } : {})
      const maxInputBytes = status.limits?.maxInputBytes ?? 16 * 1024 * 1024
      let level = 0
      let outputs = units.map((u) => u.output!)
      for (;;) {
        const levelSteps = groupForReduce(outputs.map((o) => o.length), maxInputBytes).map((range) => {
          const input = frameOutputs(outputs.slice(range[0], range[1]))
          return { level, range, unit: { input, inputId: contentId(input), status: 'pending', attempts: [] } as Unit }
        })
        if (level > 0 || levelSteps.length > 1) {
          const spendable = (await getEscrow(client)).spendable
          const needed = reduceFee * BigInt(levelSteps.length)
          if (spendable < needed) throw new InsufficientEscrowError({ required: needed, available: spendable, requester: client.account.address })
        }
        steps.push(...levelSteps)
        await pool(
          levelSteps,
          concurrency,
          async (step) => {
            await run(step.unit, reduceProgram, reduceTerms, true)
            progress('reduce', steps.map((s) => s.unit))
          },
          stop,
        )
        signal?.throwIfAborted()
        if (!levelSteps.every((s) => s.unit.status === 'verified')) break
        outputs = levelSteps.map((s) => s.unit.output!)
        if (outputs.length === 1) {
          output = outputs[0]
          break
        }
        level++
      }
    }

    // ── receipts: every verified task's receipt, verified on-chain ──
    if (parameters.receipts === true) {
      const verified = [
        ...units.flatMap((unit) => (unit.status === 'verified' ? [{ unit, program: mapProgram, unitTerms: terms }] : [])),
        ...steps.flatMap(({ unit }) => (unit.status === 'verified' ? [{ unit, program: reduceProgram!, unitTerms: reduceTerms }] : [])),
      ].filter(({ unit }) => unit.taskId !== undefined)
      let done = 0
      await pool(
        verified,
        Math.min(concurrency, 16),
        async ({ unit, program, unitTerms }) => {
          for (;;) {
            try {
              unit.receipt = await getReceipt(client, { taskId: unit.taskId!, wait: true, ...(signal ? { signal } : {}) })
              break
            } catch (error) {
              // The task's epoch settled without it (its spec crossed the epoch boundary as the
              // batch was built): it was not charged and has no receipt. Run the chunk again: a
              // new task, the same result, settled in a later epoch.
              const omitted = error instanceof NodeApiError && error.code === 'RECEIPT_OMITTED'
              if (!omitted || unit.attempts.length >= maxAttempts) throw error
              unit.status = 'pending'
              await run(unit, program, unitTerms, false)
              if ((unit.status as ChunkStatus) !== 'verified') return
            }
          }
          const check = await verifyReceipt(client, { receipt: unit.receipt, taskId: unit.taskId!, resultHash: unit.resultHash! })
          unit.receiptValid = check.valid && unit.receipt.outcome === 'verified'
          onProgress?.({ phase: 'receipts', done: ++done, total: verified.length, verified: done, failed: 0, unresolved: 0, rejected: 0 })
        },
        () => signal?.aborted === true,
      )
      signal?.throwIfAborted()
      receiptsValid = verified.every(({ unit }) => unit.receiptValid === true)
    }
  } catch (cause) {
    // What was submitted is in the report: pass it back as `resume` to finish the job.
    throw new JobInterruptedError(report(), cause)
  }

  if (refused !== undefined && feesSubmitted === 0n && units.every((u) => u.status !== 'verified' && u.status !== 'failed')) {
    // Nothing ran: the node refused the very first submission; say why instead of reporting.
    throw refused
  }
  return report()
}

function programOf(client: VeritaskClientBase, program: Uint8Array | Hex, what: string): Uint8Array {
  if (typeof program !== 'string') {
    assertWasmProgram(program, what)
    return program
  }
  const bytes = client.programs.get(program.toLowerCase() as Hex)
  if (bytes === undefined) {
    throw new InvalidProgramError('SDK_INVALID_PROGRAM', `${what} ${program} was not given to uploadProgram on this client.`, {
      hint: 'Call client.uploadProgram({ program: bytes }) first, or pass the bytes.',
      details: { program },
    })
  }
  return bytes
}

function pick({ fee, limits, policy, securityLevel, deadlineMs }: TaskTerms): TaskTerms {
  return {
    ...(fee !== undefined ? { fee } : {}),
    ...(limits !== undefined ? { limits } : {}),
    ...(policy !== undefined ? { policy } : {}),
    ...(securityLevel !== undefined ? { securityLevel } : {}),
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
  }
}
