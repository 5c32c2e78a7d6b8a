import type { Hex, Outcome, Verdict } from '../../core/types.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import { NodeApiError, TimeoutError } from '../errors.ts'
import type { NodeUnreachableError, ResultMismatchError } from '../errors.ts'
import { sleep } from '../sleep.ts'
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
 * Polls the node until the task has a verdict (with a wait that grows from the client's poll
 * interval to 2 s), then fetches the verified output.
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
  let wait = client.pollIntervalMs
  for (;;) {
    try {
      const { verdict } = await getTask(client, { taskId, ...(signal ? { signal } : {}) })
      if (verdict !== null) {
        const result: WaitForResultReturnType = { taskId, outcome: verdict.outcome, verdict }
        if (output && verdict.outcome === 'verified') {
          result.output = await getResult(client, { resultHash: verdict.resultHash, ...(signal ? { signal } : {}) })
        }
        return result
      }
    } catch (error) {
      // A fallback node may learn of the task a moment later, by gossip.
      if (!(error instanceof NodeApiError && error.code === 'API_TASK_NOT_FOUND')) throw error
    }
    if (Date.now() - started > timeoutMs) {
      throw new TimeoutError('SDK_TIMEOUT', `Task ${taskId} got no verdict within ${timeoutMs} ms.`, {
        details: { taskId },
        hint: 'A task decides within its commit and reveal windows; check the node (veritask status) and the task deadline.',
      })
    }
    await sleep(wait, signal)
    wait = Math.min(2_000, Math.round(wait * 1.5))
  }
}
