import { isContentOf } from '../../core/contentId.ts'
import type { Hex } from '../../core/types.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import { NodeApiError, ResultMismatchError, TimeoutError } from '../errors.ts'
import type { NodeUnreachableError } from '../errors.ts'
import { sleep } from '../sleep.ts'

export interface GetResultParameters {
  /** The verdict's result hash: the content id of the output. */
  resultHash: Hex
  /** Wait up to this long for a node to hold the bytes, in ms (default 30,000): the gateway fetches them after the verdict. */
  timeoutMs?: number
  signal?: AbortSignal
}

export type GetResultReturnType = Uint8Array

export type GetResultErrorType = ResultMismatchError | TimeoutError | NodeApiError | NodeUnreachableError

/**
 * Fetches a verified result's bytes (`GET /v1/blobs/:cid`) and checks that they hash to
 * `resultHash`, so a node cannot hand back anything but the verified output.
 *
 * @example
 * ```ts
 * const { verdict } = await client.waitForResult({ taskId, output: false })
 * const output = await client.getResult({ resultHash: verdict.resultHash })
 * ```
 */
export async function getResult(client: VeritaskClientBase, { resultHash, timeoutMs = 30_000, signal }: GetResultParameters): Promise<GetResultReturnType> {
  const started = Date.now()
  let wait = client.pollIntervalMs
  for (let attempt = 0; ; attempt++) {
    try {
      // Not every node holds every result: ask each of the client's nodes in turn.
      const request = { ...(signal ? { signal } : {}), ...(attempt > 0 ? { startAt: attempt } : {}) }
      const bytes = await client.api.bytes(`/v1/blobs/${resultHash}`, request)
      if (!isContentOf(resultHash, bytes)) {
        throw new ResultMismatchError('SDK_RESULT_MISMATCH', `The node served bytes for ${resultHash} that hash to something else.`, {
          details: { resultHash, url: client.api.preferredUrl },
          hint: 'The node is faulty or malicious; ask another node.',
        })
      }
      return bytes
    } catch (error) {
      if (!(error instanceof NodeApiError && error.code === 'API_BLOB_NOT_FOUND')) throw error
      if (Date.now() - started > timeoutMs) {
        throw new TimeoutError('SDK_TIMEOUT', `No node served result ${resultHash} within ${timeoutMs} ms.`, {
          details: { resultHash },
          hint: 'Results are served by the executors and the node the task was submitted to, once revealed.',
        })
      }
      // One round over every URL before each wait.
      if ((attempt + 1) % client.api.urls.length !== 0) continue
      await sleep(wait, signal)
      wait = Math.min(2_000, Math.round(wait * 1.5))
    }
  }
}
