import type { NodeEvent, NodeEventSink } from '../../node/events.ts'
import { MAX_EVENT_TASKS, defaultEventStreamLimits } from '../limits.ts'
import { toWireEvent } from './eventWire.ts'
import type { EventFilter, WireEvent } from './eventWire.ts'

/** An event as the hub keeps it: parsed, serialized once, with what filters match on. */
export interface HubEvent {
  id: number
  event: WireEvent
  /** The `data:` line's JSON. */
  data: string
  task: string | undefined
  requester: string | undefined
}

export type HubListener = (event: HubEvent) => void

export interface HubSubscription {
  /** Buffered events after `lastEventId` that pass the filter, oldest first. */
  replay: HubEvent[]
  /** Events after `lastEventId` are no longer all buffered (or it came from another process): the client missed some. */
  gap: boolean
  unsubscribe(): void
}

/**
 * The node's events for its API: a sink the node and its settler emit into, a bounded buffer for
 * `Last-Event-ID` resumption, and listeners (open streams, the explorer's index). Ids count up from
 * 1 per process.
 */
export interface EventHub extends NodeEventSink {
  /** The newest event id (0 before any). */
  lastId(): number
  subscribe(filter: EventFilter, listener: HubListener, lastEventId?: number): HubSubscription
}

export interface CreateEventHubParameters {
  bufferSize?: number
  /** Wall-clock ms stamped on each event (`at`). */
  now?: () => number
}

export function matches(filter: EventFilter, e: HubEvent): boolean {
  if (filter.types !== undefined && filter.types.length > 0 && !filter.types.includes(e.event.type)) return false
  if (filter.task !== undefined && e.task !== filter.task.toLowerCase()) return false
  if (filter.requester !== undefined && e.requester !== filter.requester.toLowerCase()) return false
  return true
}

export function createEventHub({ bufferSize = defaultEventStreamLimits.bufferSize, now = Date.now }: CreateEventHubParameters = {}): EventHub {
  /** A ring of the newest `bufferSize` events: `buffer[id % bufferSize]`. */
  const buffer: (HubEvent | undefined)[] = new Array<HubEvent | undefined>(bufferSize)
  let last = 0
  const listeners = new Set<{ filter: EventFilter; listener: HubListener }>()
  /** Requester by task id, for task events that do not name it; the oldest are forgotten beyond the bound. */
  const requesters = new Map<string, string>()

  return {
    lastId: () => last,
    emit(nodeEvent: NodeEvent) {
      const id = ++last
      const event = toWireEvent(nodeEvent, id, now())
      const task = 'taskId' in event ? event.taskId.toLowerCase() : undefined
      let requester = 'requester' in event ? event.requester.toLowerCase() : undefined
      if (task !== undefined) {
        if (requester !== undefined && !requesters.has(task)) {
          requesters.set(task, requester)
          if (requesters.size > MAX_EVENT_TASKS) requesters.delete(requesters.keys().next().value!)
        }
        requester ??= requesters.get(task)
      }
      const stored: HubEvent = { id, event, data: JSON.stringify(event), task, requester }
      buffer[id % bufferSize] = stored
      for (const { filter, listener } of listeners) if (matches(filter, stored)) listener(stored)
    },
    subscribe(filter, listener, lastEventId) {
      const entry = { filter, listener }
      listeners.add(entry)
      const replay: HubEvent[] = []
      let gap = false
      if (lastEventId !== undefined) {
        const oldest = Math.max(1, last - bufferSize + 1)
        // An id from the future was handed out by an earlier process of this node.
        gap = lastEventId > last || lastEventId + 1 < oldest
        const from = gap ? oldest : lastEventId + 1
        for (let id = from; id <= last; id++) {
          const e = buffer[id % bufferSize]
          if (e !== undefined && e.id === id && matches(filter, e)) replay.push(e)
        }
      }
      return { replay, gap, unsubscribe: () => void listeners.delete(entry) }
    },
  }
}

/** Hands every event to each sink in turn. */
export function fanOut(...sinks: readonly (NodeEventSink | undefined)[]): NodeEventSink {
  const present = sinks.filter((s): s is NodeEventSink => s !== undefined)
  return { emit: (event) => present.forEach((s) => s.emit(event)) }
}
