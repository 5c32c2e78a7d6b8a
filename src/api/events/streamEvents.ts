import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../../node/logger.ts'
import { ApiError } from '../errors.ts'
import type { EventStreamLimits } from '../limits.ts'
import type { EventHub, HubEvent } from './createEventHub.ts'
import { nodeEventTypes } from './eventWire.ts'
import type { EventFilter } from './eventWire.ts'

export interface EventStreams {
  /** Serves `GET /v1/events` (Server-Sent Events) until the client goes away. */
  handle(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void
  /** Open streams now. */
  open(): number
  /** Ends every stream (the server is closing). */
  close(): void
}

const hex32 = /^0x[0-9a-fA-F]{64}$/
const address = /^0x[0-9a-fA-F]{40}$/

function badFilter(message: string, details: Record<string, unknown>): ApiError {
  return new ApiError(400, 'API_BAD_EVENT_FILTER', message, {
    details,
    hint: `Filter with task=<taskId>, requester=<address>, types=<comma-separated: ${nodeEventTypes.join(', ')}>.`,
  })
}

/** The filter and resume point of a stream request; throws a 400 for a malformed one. */
export function parseEventRequest(req: IncomingMessage, query: URLSearchParams): { filter: EventFilter; lastEventId: number | undefined } {
  const filter: EventFilter = {}
  const task = query.get('task')
  if (task !== null) {
    if (!hex32.test(task)) throw badFilter('`task` is 0x followed by 64 hex digits.', { task })
    filter.task = task.toLowerCase()
  }
  const requester = query.get('requester')
  if (requester !== null) {
    if (!address.test(requester)) throw badFilter('`requester` is 0x followed by 40 hex digits.', { requester })
    filter.requester = requester.toLowerCase()
  }
  const types = query.get('types')
  if (types !== null && types !== '') {
    const list = types.split(',').map((t) => t.trim())
    const unknown = list.filter((t) => !(nodeEventTypes as readonly string[]).includes(t))
    if (unknown.length > 0) throw badFilter(`Unknown event type ${unknown[0]}.`, { unknown: unknown.slice(0, 3) })
    filter.types = list
  }
  const header = req.headers['last-event-id']
  const raw = (Array.isArray(header) ? header[0] : header) ?? query.get('lastEventId') ?? undefined
  let lastEventId: number | undefined
  if (raw !== undefined && raw !== '') {
    if (!/^\d{1,15}$/.test(raw)) throw badFilter('`Last-Event-ID` is a decimal event id.', { lastEventId: raw })
    lastEventId = Number(raw)
  }
  return { filter, lastEventId }
}

const frame = (e: HubEvent) => `id: ${e.id}\ndata: ${e.data}\n\n`

export function createEventStreams({ hub, limits, log }: { hub: EventHub; limits: EventStreamLimits; log: Logger }): EventStreams {
  const perClient = new Map<string, number>()
  const closers = new Set<() => void>()

  return {
    open: () => closers.size,
    close() {
      for (const close of [...closers]) close()
    },
    handle(req, res, query) {
      const { filter, lastEventId } = parseEventRequest(req, query)
      const client = req.socket.remoteAddress ?? 'unknown'
      const mine = perClient.get(client) ?? 0
      if (mine >= limits.streamsPerClient) {
        throw new ApiError(429, 'API_TOO_MANY_STREAMS', `This client has ${mine} event streams open already.`, {
          details: { client, streamsPerClient: limits.streamsPerClient, retryAfterMs: limits.retryMs },
          hint: 'Share one stream per client and filter events on your side, or close streams you no longer read.',
        })
      }
      if (closers.size >= limits.maxStreams) {
        throw new ApiError(503, 'API_TOO_MANY_STREAMS', 'This node serves as many event streams as it may.', {
          details: { maxStreams: limits.maxStreams, retryAfterMs: limits.retryMs },
          hint: 'Try another node, or poll GET /v1/tasks/:taskId meanwhile (the SDK does).',
        })
      }
      perClient.set(client, mine + 1)
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
      })
      const write = (text: string) => {
        res.write(text)
        // A client that does not read is dropped, not buffered without end; it resumes by id.
        if (res.writableLength > limits.maxQueuedBytes) {
          log.debug('event stream too slow; closed', { client, queued: res.writableLength })
          res.destroy()
        }
      }
      const subscription = hub.subscribe(filter, (e) => write(frame(e)), lastEventId)
      let text = `retry: ${limits.retryMs}\n: veritask events, newest id ${hub.lastId()}\n\n`
      if (subscription.gap) text += `data: ${JSON.stringify({ id: 0, at: Date.now(), type: 'stream.gap', lastEventId })}\n\n`
      for (const e of subscription.replay) text += frame(e)
      write(text)
      const heartbeat = setInterval(() => write(': heartbeat\n\n'), limits.heartbeatMs)
      heartbeat.unref()
      let closed = false
      const close = () => {
        if (closed) return
        closed = true
        closers.delete(close)
        clearInterval(heartbeat)
        subscription.unsubscribe()
        const left = (perClient.get(client) ?? 1) - 1
        if (left <= 0) perClient.delete(client)
        else perClient.set(client, left)
        res.end()
      }
      closers.add(close)
      res.once('close', close)
    },
  }
}
