import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

/** The part of `fetch`'s init a JSON-RPC client passes. */
export interface RpcFetchInit {
  method?: string
  headers?: ConstructorParameters<typeof Headers>[0]
  body?: string | Uint8Array | null
  signal?: AbortSignal | null
}

/** The part of a `Response` viem's HTTP transport reads: status, headers, and the body as text. */
export interface RpcFetchResponse {
  ok: boolean
  status: number
  statusText: string
  headers: { get(name: string): string | null }
  body: null
  text(): Promise<string>
  json(): Promise<unknown>
}

export interface CreateKeepAliveFetchParameters {
  /** Connections kept open per host (default 4): a node's chain reads rarely overlap more. */
  maxSockets?: number
}

export type KeepAliveFetch = ((input: string | URL, init?: RpcFetchInit) => Promise<RpcFetchResponse>) & {
  /** Closes the kept-alive connections. */
  close(): void
}

function headersOf(raw: IncomingHttpHeaders): RpcFetchResponse['headers'] {
  return {
    get(name) {
      const value = raw[name.toLowerCase()]
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
    },
  }
}

function plainHeaders(headers: RpcFetchInit['headers']): Record<string, string> {
  if (headers === undefined) return {}
  const out: Record<string, string> = {}
  new Headers(headers).forEach((value, key) => (out[key] = value))
  return out
}

/**
 * A minimal `fetch` for a node's JSON-RPC client (viem's `http` transport, `fetchFn`): one
 * request over `node:http` with kept-alive connections, the body read whole as text.
 *
 * A node polls its chain several times a second for as long as it runs. Node's built-in `fetch`
 * (undici) builds a `Request`, a `Response` and web streams for each call; in a profile of an idle
 * node those were about half of its CPU. This keeps only what a JSON-RPC call needs: status,
 * headers, text, and abort through the caller's signal.
 */
export function createKeepAliveFetch({ maxSockets = 4 }: CreateKeepAliveFetchParameters = {}): KeepAliveFetch {
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, maxSockets }),
    'https:': new HttpsAgent({ keepAlive: true, maxSockets }),
  }
  const fetchOnce = (input: string | URL, init: RpcFetchInit = {}): Promise<RpcFetchResponse> =>
    new Promise((resolve, reject) => {
      const url = typeof input === 'string' ? new URL(input) : input
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return reject(new TypeError(`Unsupported protocol ${url.protocol}`))
      const signal = init.signal ?? undefined
      if (signal?.aborted) return reject(signal.reason)
      const body = init.body ?? undefined
      const headers = plainHeaders(init.headers)
      if (body !== undefined) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength)
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest
      const req = send(url, { method: init.method ?? 'GET', headers, agent: agents[url.protocol] }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', fail)
        res.on('end', () => {
          signal?.removeEventListener('abort', onAbort)
          const text = Buffer.concat(chunks).toString('utf8')
          const status = res.statusCode ?? 0
          resolve({
            ok: status >= 200 && status < 300,
            status,
            statusText: res.statusMessage ?? '',
            headers: headersOf(res.headers),
            body: null,
            text: async () => text,
            json: async () => JSON.parse(text) as unknown,
          })
        })
      })
      function fail(error: unknown): void {
        signal?.removeEventListener('abort', onAbort)
        reject(error)
      }
      function onAbort(): void {
        req.destroy()
        fail(signal!.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      req.on('error', fail)
      req.end(body)
    })
  return Object.assign(fetchOnce, {
    close() {
      agents['http:'].destroy()
      agents['https:'].destroy()
    },
  })
}
