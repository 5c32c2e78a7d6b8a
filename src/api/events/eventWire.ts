import { z } from 'zod'
import type { NodeEvent, NodeEventType } from '../../node/events.ts'

/**
 * The one schema of the event stream (`GET /v1/events`), shared by the API that writes it and the
 * SDK and explorer that read it. An event is `{ id, at, type, ...fields }`: `id` counts up per
 * node process (the SSE `id:`), `at` is the node's wall clock in ms, bigints are decimal strings.
 */
const hex = z.string().regex(/^0x[0-9a-fA-F]*$/)
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/)
const decimal = z.string().regex(/^\d{1,78}$/)
const base = { id: z.number().int().nonnegative(), at: z.number() }

const verdict = z.object({
  taskId: hex,
  outcome: z.enum(['verified', 'failed', 'unresolved']),
  resultHash: hex,
  executors: z.array(address),
  dissenters: z.array(address),
})

export const wireEventSchema = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('task.accepted'), taskId: hex, requester: address, epoch: decimal, seats: z.array(address) }),
  z.object({ ...base, type: z.literal('task.committed'), taskId: hex, executor: address }),
  z.object({ ...base, type: z.literal('task.revealed'), taskId: hex, executor: address, status: z.string(), resultHash: hex }),
  z.object({ ...base, type: z.literal('task.decided'), taskId: hex, requester: address, verdict }),
  z.object({ ...base, type: z.literal('epoch.proposed'), epoch: decimal, digest: hex, aggregator: address, tasks: z.number().int() }),
  z.object({ ...base, type: z.literal('epoch.signed'), epoch: decimal, digest: hex, signer: address }),
  z.object({ ...base, type: z.literal('epoch.settled'), epoch: decimal, digest: hex, tasks: z.number().int(), gasUsed: decimal.nullable() }),
  z.object({ ...base, type: z.literal('node.slashed'), epoch: decimal, node: address, amount: decimal }),
  z.object({ ...base, type: z.literal('node.jailed'), epoch: decimal, node: address, untilBlock: decimal }),
  /** Sent first on a resumed stream whose `Last-Event-ID` is older than the buffer (or from another process): events were missed. */
  z.object({ ...base, type: z.literal('stream.gap'), lastEventId: z.number().int().nonnegative() }),
])

export type WireEvent = z.infer<typeof wireEventSchema>
export type WireEventType = WireEvent['type']

export const nodeEventTypes: readonly NodeEventType[] = [
  'task.accepted',
  'task.committed',
  'task.revealed',
  'task.decided',
  'epoch.proposed',
  'epoch.signed',
  'epoch.settled',
  'node.slashed',
  'node.jailed',
]

/** A node event as it goes on the wire. */
export function toWireEvent(event: NodeEvent, id: number, at: number): WireEvent {
  return toWire({ id, at, ...event }) as WireEvent
}

/**
 * What `JSON.parse(JSON.stringify(value))` gives for a node event (bigints as decimal strings,
 * undefined fields left out), without the round trip through text: every event of a busy node
 * passes here.
 */
function toWire(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : toWire(item)))
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(value)) if (field !== undefined) out[key] = toWire(field)
  return out
}

/** Parses one event's `data:`; undefined for an event this version does not know (a newer node). */
export function parseWireEvent(data: string): WireEvent | undefined {
  try {
    const parsed = wireEventSchema.safeParse(JSON.parse(data))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

/** Which events a stream carries: `task` and `requester` narrow task events; `types` any. */
export interface EventFilter {
  task?: string
  requester?: string
  types?: readonly string[]
}

/** The task an event is about, if any. */
export function taskOf(event: WireEvent): string | undefined {
  return 'taskId' in event ? event.taskId.toLowerCase() : undefined
}
