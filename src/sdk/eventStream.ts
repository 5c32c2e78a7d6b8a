import { parseWireEvent } from '../api/events/eventWire.ts'
import type { WireEvent } from '../api/events/eventWire.ts'
import type { Fetch } from './nodeApi.ts'

export type { WireEvent } from '../api/events/eventWire.ts'

/**
 * `open`: events flow. `connecting`: (re)connecting. `unavailable`: the last attempt failed (it is
 * tried again later) or the node has no event stream (404: it is not tried again). Callers poll
 * while the stream is not `open`.
 */
export type EventStreamState = 'idle' | 'connecting' | 'open' | 'unavailable'

export interface EventStream {
  readonly state: EventStreamState
  /**
   * Calls `listener` with every event and `onState` on every state change. The first subscriber
   * opens the connection; it closes when the last one leaves.
   */
  subscribe(listener: (event: WireEvent) => void, onState?: (state: EventStreamState) => void): () => void
}

export interface CreateEventStreamParameters {
  /** The node API base URL, read at each (re)connection (the client's preferred node). */
  url: () => string
  /** Narrows the stream to one requester's task events. */
  requester?: string
  /** Narrows the stream to these event types (`task.decided`, …); every type by default. */
  types?: readonly string[]
  fetch?: Fetch
  /** Wait before reconnecting, in ms; doubles after each failure up to 10 s. Default 1,000. */
  retryMs?: number
}

/**
 * A Server-Sent Events client for `GET /v1/events` over `fetch` (no EventSource needed): it
 * reconnects with `Last-Event-ID`, so a dropped connection loses nothing the node still buffers
 * (a `stream.gap` event says when it does).
 */
export function createEventStream({ url, requester, types = [], fetch: doFetch = (u, init) => fetch(u, init), retryMs = 1_000 }: CreateEventStreamParameters): EventStream {
  const listeners = new Set<{ listener: (event: WireEvent) => void; onState: ((state: EventStreamState) => void) | undefined }>()
  let state: EventStreamState = 'idle'
  let lastEventId: number | undefined
  let controller: AbortController | undefined
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let failures = 0
  let gone = false

  const setState = (next: EventStreamState) => {
    if (next === state) return
    state = next
    for (const { onState } of [...listeners]) onState?.(next)
  }

  function dispatch(data: string, id: string | undefined): void {
    if (id !== undefined && /^\d+$/.test(id)) lastEventId = Number(id)
    const event = parseWireEvent(data)
    if (event !== undefined) for (const { listener } of [...listeners]) listener(event)
  }

  async function connect(): Promise<void> {
    const abort = new AbortController()
    controller = abort
    setState('connecting')
    try {
      const search = new URLSearchParams()
      if (requester !== undefined) search.set('requester', requester)
      if (types.length > 0) search.set('types', types.join(','))
      const query = search.size === 0 ? '' : `?${search}`
      const response = await doFetch(`${url().replace(/\/+$/, '')}/v1/events${query}`, {
        headers: { accept: 'text/event-stream', ...(lastEventId === undefined ? {} : { 'last-event-id': String(lastEventId) }) },
        signal: abort.signal,
      })
      if (response.status === 404 || response.status === 405) gone = true
      if (!response.ok || response.body === null || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        await response.body?.cancel().catch(() => {})
        throw new Error(`event stream answered ${response.status}`)
      }
      failures = 0
      setState('open')
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffered = ''
      let data: string[] = []
      let id: string | undefined
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffered += value
        let newline: number
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).replace(/\r$/, '')
          buffered = buffered.slice(newline + 1)
          if (line === '') {
            if (data.length > 0) dispatch(data.join('\n'), id)
            data = []
            id = undefined
          } else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
          else if (line.startsWith('id:')) id = line.slice(3).trim()
        }
      }
    } catch {
      failures++
    }
    if (controller !== abort) return
    controller = undefined
    if (listeners.size === 0) return setState('idle')
    setState('unavailable')
    if (gone) return
    retryTimer = setTimeout(() => {
      retryTimer = undefined
      if (listeners.size > 0) void connect()
    }, Math.min(10_000, retryMs * 2 ** Math.max(0, failures - 1)))
  }

  function disconnect(): void {
    clearTimeout(retryTimer)
    retryTimer = undefined
    const c = controller
    controller = undefined
    c?.abort()
    state = 'idle'
  }

  return {
    get state() {
      return state
    },
    subscribe(listener, onState) {
      const entry = { listener, onState }
      listeners.add(entry)
      if (state === 'idle' && !gone) void connect()
      else if (gone) onState?.('unavailable')
      return () => {
        listeners.delete(entry)
        if (listeners.size === 0) disconnect()
      }
    },
  }
}
