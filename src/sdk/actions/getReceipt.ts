import { parseReceipt } from '../../core/receipt.ts'
import type { Receipt } from '../../core/receipt.ts'
import type { Hex } from '../../core/types.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import { BadResponseError, NodeApiError, TimeoutError } from '../errors.ts'
import type { NodeUnreachableError } from '../errors.ts'
import { sleep } from '../sleep.ts'

export interface GetReceiptParameters {
  taskId: Hex
  /** Wait until the task's epoch is settled (default false: a `RECEIPT_NOT_READY` error instead). */
  wait?: boolean
  /** With `wait`, give up after this long, in ms (default 300,000). */
  timeoutMs?: number
  signal?: AbortSignal
}

export type GetReceiptReturnType = Receipt

export type GetReceiptErrorType = NodeApiError | NodeUnreachableError | TimeoutError | BadResponseError

/**
 * Fetches a task's receipt (`GET /v1/tasks/:taskId/receipt`): its outcome leaf and the Merkle
 * proof to the outcomes root its epoch settled on-chain. Before the epoch settles the node
 * answers `RECEIPT_NOT_READY`; with `wait: true` this polls until it has settled, asking each of
 * the client's node URLs in turn. Check the
 * receipt with `verifyReceipt` — this only parses it.
 *
 * @example
 * ```ts
 * const receipt = await client.getReceipt({ taskId, wait: true })
 * ```
 */
export async function getReceipt(
  client: VeritaskClientBase,
  { taskId, wait = false, timeoutMs = 300_000, signal }: GetReceiptParameters,
): Promise<GetReceiptReturnType> {
  const started = Date.now()
  let delay = Math.max(client.pollIntervalMs, 250)
  for (let attempt = 0; ; attempt++) {
    let json: unknown
    try {
      // Any node that watched the settlement can serve the receipt: while waiting, ask each in turn.
      const request = { ...(signal ? { signal } : {}), ...(attempt > 0 ? { startAt: attempt } : {}) }
      json = await client.api.json(`/v1/tasks/${taskId}/receipt`, request)
    } catch (error) {
      // A node asked in turn may not have heard of the task at all: not ready there either.
      const notYet = error instanceof NodeApiError && (error.code === 'RECEIPT_NOT_READY' || (attempt > 0 && error.code === 'API_TASK_NOT_FOUND'))
      if (!notYet || !wait) throw error
      if (Date.now() - started > timeoutMs) {
        throw new TimeoutError('SDK_TIMEOUT', `Task ${taskId} has no receipt after ${timeoutMs} ms: its epoch is not settled.`, {
          details: { taskId },
          hint: 'Epochs settle one after another; a long epoch takes longer. Try again later.',
        })
      }
      // One round over every URL before each wait.
      if ((attempt + 1) % client.api.urls.length !== 0) continue
      await sleep(delay, signal)
      delay = Math.min(2_000, Math.round(delay * 1.5))
      continue
    }
    try {
      return parseReceipt(json)
    } catch (cause) {
      throw new BadResponseError('SDK_BAD_RESPONSE', `The node answered a receipt for ${taskId} that does not parse.`, { cause, details: { taskId } })
    }
  }
}
