import type { IncomingMessage, ServerResponse } from 'node:http'

export interface RequestContext {
  req: IncomingMessage
  res: ServerResponse
  /** Path parameter captured by the route pattern, if any. */
  param: string
  /** The query string. */
  query: URLSearchParams
}

export interface Route {
  method: 'GET' | 'POST'
  /** How the route appears in logs and metrics. */
  name: string
  pattern: RegExp
  handle(ctx: RequestContext): void | Promise<void>
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v))
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = toJson(value)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers })
  res.end(body)
}
