import { BadResponseError, NodeApiError, NodeUnreachableError } from './errors.ts'
import { sleep } from './sleep.ts'
import { backoffDelay, defaultRetryPolicy, isRetryableStatus } from './retry.ts'
import type { RetryPolicy } from './retry.ts'

/** `fetch` as the SDK uses it; pass your own to add headers, a proxy, or a stub in tests. */
export type Fetch = (url: string, init: RequestInit) => Promise<Response>

export interface CreateNodeApiParameters {
  /** Node API base URLs (`http://127.0.0.1:40123`); the first is preferred, the others are fallbacks. */
  urls: readonly string[]
  retry?: Partial<RetryPolicy>
  /** Per-request timeout in ms (default 30,000). */
  timeoutMs?: number
  fetch?: Fetch
  /** Waits between attempts; injectable so tests need not sleep. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Jitter source in [0, 1). */
  random?: () => number
}

export interface NodeApiRequest {
  method?: 'GET' | 'POST'
  /** A JSON body (POST). */
  json?: unknown
  signal?: AbortSignal
  /** Ask this URL (an index into `urls`) first instead of the preferred one; it does not change the preference. */
  startAt?: number
}

/**
 * The HTTP side of the SDK: one node API, or several as fallbacks. A request that fails for a
 * transient reason — connection refused or reset, a timeout, a 5xx or 429 — is retried with
 * exponential backoff, then tried on the next URL; a URL that answered becomes the preferred one.
 * A 4xx is the node's considered answer and is thrown at once as a `NodeApiError` carrying the
 * node's error code.
 */
export interface NodeApi {
  readonly urls: readonly string[]
  /** The URL that answered last (the first one until then). */
  readonly preferredUrl: string
  json<T = unknown>(path: string, request?: NodeApiRequest): Promise<T>
  bytes(path: string, request?: NodeApiRequest): Promise<Uint8Array>
}

/** JSON with bigints as decimal strings, as the node API expects (docs/api.md). */
export function toWireJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; hint?: unknown; details?: unknown }
}

async function errorFrom(url: string, response: Response): Promise<NodeApiError> {
  let body: ErrorBody = {}
  try {
    body = (await response.json()) as ErrorBody
  } catch {
    // A body that is not JSON (a proxy's error page): the status says enough.
  }
  const e = body.error ?? {}
  const code = typeof e.code === 'string' ? e.code : `HTTP_${response.status}`
  const message = typeof e.message === 'string' ? e.message : `The node API at ${url} answered ${response.status}.`
  return new NodeApiError(response.status, code, message, {
    ...(typeof e.hint === 'string' ? { hint: e.hint } : {}),
    details: { url, status: response.status, ...(typeof e.details === 'object' && e.details !== null ? (e.details as object) : {}) },
  })
}

export function createNodeApi({
  urls,
  retry = {},
  timeoutMs = 30_000,
  fetch: doFetch = (url, init) => fetch(url, init),
  sleep: wait = sleep,
  random = Math.random,
}: CreateNodeApiParameters): NodeApi {
  if (urls.length === 0) throw new TypeError('createNodeApi: at least one node API URL is needed')
  const bases = urls.map((u) => u.replace(/\/+$/, ''))
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...retry }
  let preferred = 0

  async function send(path: string, { method = 'GET', json, signal, startAt }: NodeApiRequest): Promise<Response> {
    const first = startAt === undefined ? preferred : startAt % bases.length
    const order = bases.map((_, i) => (first + i) % bases.length)
    let attempts = 0
    let lastError: unknown
    for (const index of order) {
      const url = `${bases[index]}${path}`
      for (let attempt = 1; attempt <= policy.attempts; attempt++) {
        signal?.throwIfAborted()
        attempts++
        let response: Response
        try {
          const timeout = AbortSignal.timeout(timeoutMs)
          response = await doFetch(url, {
            method,
            ...(json === undefined ? {} : { body: toWireJson(json), headers: { 'content-type': 'application/json' } }),
            signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
          })
        } catch (error) {
          if (signal?.aborted) throw signal.reason
          lastError = error
          if (attempt < policy.attempts) await wait(backoffDelay(attempt, policy, random()), signal)
          continue
        }
        if (response.ok || !isRetryableStatus(response.status)) {
          if (startAt === undefined) preferred = index
          if (!response.ok) throw await errorFrom(url, response)
          return response
        }
        lastError = await errorFrom(url, response)
        if (attempt < policy.attempts) await wait(backoffDelay(attempt, policy, random()), signal)
      }
    }
    // Every URL failed transiently: a node that answered 5xx last keeps its own code.
    if (lastError instanceof NodeApiError && lastError.status !== 502 && lastError.status !== 504) throw lastError
    throw new NodeUnreachableError(bases, attempts, { cause: lastError })
  }

  return {
    urls: bases,
    get preferredUrl() {
      return bases[preferred]!
    },
    async json<T>(path: string, request: NodeApiRequest = {}): Promise<T> {
      const response = await send(path, request)
      try {
        return (await response.json()) as T
      } catch (cause) {
        throw new BadResponseError('SDK_BAD_RESPONSE', `The node API answered ${path} with a body that is not JSON.`, { cause })
      }
    },
    async bytes(path: string, request: NodeApiRequest = {}): Promise<Uint8Array> {
      const response = await send(path, request)
      return new Uint8Array(await response.arrayBuffer())
    },
  }
}
