import type { Address, Hex, ResultStatus, Verdict } from '../core/types.ts'

/**
 * What a node reports of its own work as it happens: the task lifecycle (from the node) and the
 * epoch's settlement (from its settler). The API streams these as Server-Sent Events
 * (`GET /v1/events`); they are observations of one node, not evidence (certificates are).
 */
export type NodeEvent =
  | { type: 'task.accepted'; taskId: Hex; requester: Address; epoch: bigint; seats: readonly Address[] }
  | { type: 'task.committed'; taskId: Hex; executor: Address }
  | { type: 'task.revealed'; taskId: Hex; executor: Address; status: ResultStatus; resultHash: Hex }
  | { type: 'task.decided'; taskId: Hex; requester: Address; verdict: Verdict }
  | { type: 'epoch.proposed'; epoch: bigint; digest: Hex; aggregator: Address; tasks: number }
  | { type: 'epoch.signed'; epoch: bigint; digest: Hex; signer: Address }
  | { type: 'epoch.settled'; epoch: bigint; digest: Hex; tasks: number; gasUsed: bigint | null }
  | { type: 'node.slashed'; epoch: bigint; node: Address; amount: bigint }
  | { type: 'node.jailed'; epoch: bigint; node: Address; untilBlock: bigint }

export type NodeEventType = NodeEvent['type']

/** Where a node and its settler report events; the composition root hands both the same sink. */
export interface NodeEventSink {
  emit(event: NodeEvent): void
}

/** A sink that drops everything: the default where nobody listens. */
export const silentEvents: NodeEventSink = { emit: () => {} }
