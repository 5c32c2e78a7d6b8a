import type { Hex, Outcome, Verdict } from '../../core/types.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import { NodeApiError, TimeoutError } from '../errors.ts'
import type { NodeUnreachableError, ResultMismatchError } from '../errors.ts'
import { getResult } from './getResult.ts'
import { getTask } from './getTask.ts'

export interface WaitForResultParameters {
  taskId: Hex
  /** Fetch (and check) the output bytes of a verified task (default true). */
  output?: boolean
  /** Give up after this long, in ms (default 300,000). */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface WaitForResultReturnType {
  taskId: Hex
  /** `verified`: a quorum agreed on the output; `failed`: the program failed the same way everywhere (a trap, out of fuel); `unresolved`: no quorum, the fee is refunded. */
  outcome: Outcome
  verdict: Verdict
  /** The verified output, checked against `verdict.resultHash`; only for `verified` with `output` on. */
  output?: Uint8Array
}

export type WaitForResultErrorType = TimeoutError | NodeApiError | NodeUnreachableError | ResultMismatchError

/**
 * Waits until the task has a verdict, then fetches the verified output. With the client's event
 * stream open (`GET /v1/events`), it reads the task's status once after the stream opens (a verdict
 * may predate it) and then only listens; where no stream is available, or while it reconnects, it
 * polls the node with a wait that grows from the client's poll interval to 2 s.
 *
 * @example
 * ```ts
 * const { outcome, output } = await client.waitForResult({ taskId })
 * if (outcome === 'verified') console.log(new TextDecoder().decode(output))
 * ```
 */
export async function waitForResult(
  client: VeritaskClientBase,
  { taskId, output = true, timeoutMs = 300_000, signal }: WaitForResultParameters,
): Promise<WaitForResultReturnType> {
  const started = Date.now()
  const id = taskId.toLowerCase()
  let wait = client.pollIntervalMs
  let decided: Verdict | undefined
  /** A status read is due: at the start, once the stream (re)opens, after it lost events. */
  let recheck = true
  let wake: (() => void) | undefined
  const stream = client.events
  const unsubscribe = stream?.subscribe(
    (event) => {
      if (event.type === 'task.decided' && event.taskId.toLowerCase() === id) decided = event.verdict as Verdict
      else if (event.type === 'stream.gap') recheck = true
      else return
      wake?.()
    },
    (state) => {
      if (state === 'open') recheck = true
      wake?.()
    },
  )
  const isOpen = () => stream?.state === 'open'

  async function finish(verdict: Verdict): Promise<WaitForResultReturnType> {
    const result: WaitForResultReturnType = { taskId, outcome: verdict.outcome, verdict }
    if (output && verdict.outcome === 'verified') {
      result.output = await getResult(client, { resultHash: verdict.resultHash, ...(signal ? { signal } : {}) })
    }
    return result
  }

  /** Resolves after `ms`, or as soon as the stream reports something. */
  function pause(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason)
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        wake = undefined
        resolve()
      }
      const onAbort = () => {
        done()
        reject(signal?.reason)
      }
      const timer = setTimeout(done, ms)
      wake = done
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  try {
    for (;;) {
      if (decided !== undefined) return await finish(decided)
      if (recheck || !isOpen()) {
        if (isOpen()) recheck = false
        try {
          const { verdict } = await getTask(client, { taskId, ...(signal ? { signal } : {}) })
          if (verdict !== null) return await finish(verdict)
        } catch (error) {
          // A fallback node may learn of the task a moment later, by gossip.
          if (!(error instanceof NodeApiError && error.code === 'API_TASK_NOT_FOUND')) throw error
        }
        if (decided !== undefined) continue
      }
      const left = timeoutMs - (Date.now() - started)
      if (left < 0) {
        throw new TimeoutError('SDK_TIMEOUT', `Task ${taskId} got no verdict within ${timeoutMs} ms.`, {
          details: { taskId },
          hint: 'A task decides within its commit and reveal windows; check the node (veritask status) and the task deadline.',
        })
      }
      if (isOpen() && !recheck) {
        // Listening: woken by the verdict, a gap, or a change of the stream; the timer is only the deadline.
        await pause(left + 1)
      } else {
        await pause(Math.min(wait, left + 1))
        wait = Math.min(2_000, Math.round(wait * 1.5))
      }
    }
  } finally {
    unsubscribe?.()
  }
}
