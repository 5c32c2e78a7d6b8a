import type { Address, Hex, Verdict } from '../../core/types.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import { BadResponseError } from '../errors.ts'
import type { NodeApiError, NodeUnreachableError } from '../errors.ts'

export interface GetTaskParameters {
  taskId: Hex
  signal?: AbortSignal
}

/** A task as the node sees it (`GET /v1/tasks/:taskId`). */
export interface GetTaskReturnType {
  taskId: Hex
  /** `draw` until its draw block comes (no seats yet), then `commit`, `challenge`, `reveal`, `compare`, `dispute`, and `decided` once there is a verdict. */
  phase: 'draw' | 'commit' | 'challenge' | 'reveal' | 'compare' | 'dispute' | 'decided'
  /** Executors and backups ranked for the task. */
  seats: Address[]
  /** Executors whose commit the node accepted. */
  committed: Address[]
  verdict: Verdict | null
}

export type GetTaskErrorType = NodeApiError | NodeUnreachableError | BadResponseError

/**
 * Reads a task's phase and verdict from the node. A node that does not know the task answers
 * `API_TASK_NOT_FOUND` (a `NodeApiError` with status 404).
 *
 * @example
 * ```ts
 * const { phase, verdict } = await client.getTask({ taskId })
 * ```
 */
export async function getTask(client: VeritaskClientBase, { taskId, signal }: GetTaskParameters): Promise<GetTaskReturnType> {
  const body = await client.api.json<Partial<GetTaskReturnType>>(`/v1/tasks/${taskId}`, signal ? { signal } : {})
  if (typeof body.phase !== 'string' || !Array.isArray(body.seats)) {
    throw new BadResponseError('SDK_BAD_RESPONSE', `The node answered GET /v1/tasks/${taskId} without a phase.`, { details: { taskId } })
  }
  const v = body.verdict
  return {
    taskId: (body.taskId ?? taskId) as Hex,
    phase: body.phase,
    seats: body.seats,
    committed: body.committed ?? [],
    verdict:
      v === null || v === undefined
        ? null
        : { taskId: v.taskId, outcome: v.outcome, resultHash: v.resultHash, executors: v.executors ?? [], dissenters: v.dissenters ?? [] },
  }
}
