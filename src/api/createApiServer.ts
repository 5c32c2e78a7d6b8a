import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import { receiptToJson } from '../core/receipt.ts'
import type { Receipt } from '../core/receipt.ts'
import type { Address, Hex, Outcome } from '../core/types.ts'
import type { VeritaskNode } from '../node/createNode.ts'
import type { BalanceProof } from '../node/createEpochSettler.ts'
import { silentLogger } from '../node/logger.ts'
import type { Logger } from '../node/logger.ts'
import type { NetworkStats } from '../ports/network.ts'
import { ApiError, replyForError } from './errors.ts'
import { createEventHub } from './events/createEventHub.ts'
import type { EventHub } from './events/createEventHub.ts'
import { createEventStreams } from './events/streamEvents.ts'
import type { ExplorerChainReads } from './explorer/chainReads.ts'
import { createExplorerIndex } from './explorer/createExplorerIndex.ts'
import { defaultExplorerAssets, explorerRoutes } from './explorer/explorerRoutes.ts'
import { sendJson } from './http.ts'
import type { RequestContext, Route } from './http.ts'
import { MAX_TRACKED_TASKS, defaultEventStreamLimits } from './limits.ts'
import type { EventStreamLimits } from './limits.ts'
import { createHistogram, metricsContentType, renderMetrics } from './metrics.ts'
import type { Metric } from './metrics.ts'
import { parseSubmission } from './parseSubmission.ts'
import { createSubmissionLimiter, defaultSubmissionLimits } from './submissionLimiter.ts'
import { packageVersion } from '../packageFiles.ts'
import type { SubmissionLimits } from './submissionLimiter.ts'

/** Where gossip traffic and peers are read from: the node's `Network`, or anything shaped like it. */
export interface ApiNetworkSource {
  stats(): NetworkStats
  /** Connected peers, if the transport can tell (the libp2p network can). */
  peers?(): readonly string[]
}

export interface CreateApiServerParameters {
  node: VeritaskNode
  /** Interface to bind; loopback by default. */
  host?: string
  /** Port to bind; 0 (the default) picks a free one, reported as `ApiServer.port`. */
  port?: number
  /** The parameters the node runs with: they set the body size limit and the spec size limit. */
  params?: ProtocolParams
  logger?: Logger
  /** Gossip traffic for `/metrics` and peers for `/v1/admin/peers`. */
  network?: ApiNetworkSource
  /** Gas of the latest epoch settlement, for `/metrics`; undefined while there is none. */
  settlementGas?: () => bigint | number | undefined
  /**
   * A settled task's receipt, for `GET /v1/tasks/:taskId/receipt`: undefined while its epoch is not
   * settled, null when the epoch settled without the task.
   */
  receipts?: (taskId: Hex) => Receipt | null | undefined
  /**
   * An account's leaf in the newest balances root this node settled, with its Merkle proof, for
   * `GET /v1/balances/:account` (what `Escrow.withdraw` and `Escrow.claim` take); undefined when
   * the root has no leaf for it.
   */
  balanceProofs?: (account: Hex) => BalanceProof | undefined
  /** Bearer token for `/v1/admin/*`; without one, admin routes answer 403. */
  adminToken?: string
  /** Reported by `/v1/status`; the package version by default. */
  version?: string
  /**
   * The TaskAnchors contract of the node's chain, reported by `/v1/status` (`anchors`): where
   * requesters anchor their task ids. Left out by a node without chain contracts (an in-memory
   * network, whose anchors are instant).
   */
  anchors?: Address
  /** Largest request body in bytes; by default room for the largest program and input in base64. */
  maxBodyBytes?: number
  /** Monotonic milliseconds, for the verification latency histogram and the submission limits. */
  now?: () => number
  /** What one client (remote address) may submit; `defaultSubmissionLimits` when omitted. */
  submissionLimits?: SubmissionLimits
  /**
   * The node's events (what its node and settler emit), streamed at `GET /v1/events` and indexed
   * for the explorer. Without one the API makes its own and fills it with the node's verdicts only.
   */
  events?: EventHub
  /** Bounds of the event stream; `defaultEventStreamLimits` for what is left out. */
  eventLimits?: Partial<EventStreamLimits>
  /** The chain as the explorer reads it (stakes, jails, outcomes roots); those fields are null without it. */
  chainReads?: ExplorerChainReads
  /** The staked, unjailed nodes of the current epoch with their sortition weights, for the explorer. */
  eligibleNodes?: () => readonly { address: Address; weight: bigint }[]
  /** Where the explorer's built web app is; `dist/explorer/` of this package by default. */
  explorerAssets?: string
}

export interface ApiServer {
  /** `http://host:port`, without a trailing slash. */
  readonly url: string
  readonly port: number
  /** Stops listening, drops open connections and stops observing the node. */
  close(): Promise<void>
}

export type CreateApiServerReturnType = ApiServer

/** Upper bounds of the latency histogram, in seconds: a task takes one commit and one reveal round. */
const latencyBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
const hex32 = /^0x[0-9a-fA-F]{64}$/
const address = /^0x[0-9a-fA-F]{40}$/

const digest = (text: string) => createHash('sha256').update(text).digest()

/** Reads the body up to `maxBytes`; beyond it, throws a 413 without reading the rest. */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = () =>
    new ApiError(413, 'API_BODY_TOO_LARGE', `The request body exceeds the ${maxBytes}-byte limit.`, {
      details: { maxBytes },
      hint: 'Program and input must stay within the limits that GET /v1/status reports.',
    })
  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > maxBytes) return Promise.reject(tooLarge())
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength
      if (size > maxBytes) {
        cleanup()
        req.pause()
        reject(tooLarge())
      } else chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(Buffer.concat(chunks, size))
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
    }
    const onClose = () => onError(new Error('request closed before its body ended'))
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose)
  })
}

/**
 * Starts the node's HTTP API (see docs/api.md). Resolves once it listens. Handlers never throw
 * into the server: a protocol rejection becomes a 4xx with its code, anything else a 500.
 */
export async function createApiServer({
  node,
  host = '127.0.0.1',
  port = 0,
  params = defaultParams,
  logger = silentLogger,
  network,
  settlementGas,
  receipts,
  balanceProofs,
  adminToken,
  version = packageVersion(),
  anchors,
  maxBodyBytes,
  now = () => performance.now(),
  submissionLimits = defaultSubmissionLimits,
  events,
  eventLimits = {},
  chainReads,
  eligibleNodes,
  explorerAssets = defaultExplorerAssets,
}: CreateApiServerParameters): Promise<ApiServer> {
  const log = logger.child({ component: 'api' })
  // base64 takes 4 bytes per 3; the slack is the JSON around the blobs and the spec.
  const bodyLimit =
    maxBodyBytes ?? Math.ceil((params.maxProgramBytes + params.maxInputBytes) / 3) * 4 + 8 + params.maxMessageBytes + 4096
  const adminDigest = adminToken === undefined || adminToken === '' ? undefined : digest(adminToken)
  const limiter = createSubmissionLimiter(submissionLimits, now)
  const streamLimits: EventStreamLimits = { ...defaultEventStreamLimits, ...eventLimits }
  const hub = events ?? createEventHub({ bufferSize: streamLimits.bufferSize })
  // Without the node's own sink, the stream carries its verdicts at least.
  const stopOwnEvents =
    events === undefined
      ? node.onVerdict((verdict, state) => hub.emit({ type: 'task.decided', taskId: verdict.taskId, requester: state.spec.requester, verdict }))
      : () => {}
  const streams = createEventStreams({ hub, limits: streamLimits, log })
  const index = createExplorerIndex(hub)

  // ── verification latency: from acceptance here to this node's verdict ────────────────────────
  const latency = createHistogram(latencyBuckets)
  const submittedAt = new Map<Hex, number>()
  /** Verdicts seen while submissions were in flight: a verdict can beat `submitTask`'s return. */
  const earlyVerdicts = new Map<Hex, { at: number; outcome: Outcome }>()
  let inFlight = 0
  const stopObserving = node.onVerdict((verdict) => {
    const start = submittedAt.get(verdict.taskId)
    if (start !== undefined) {
      submittedAt.delete(verdict.taskId)
      latency.observe((now() - start) / 1000, { outcome: verdict.outcome })
    } else if (inFlight > 0) earlyVerdicts.set(verdict.taskId, { at: now(), outcome: verdict.outcome })
  })

  const requests = new Map<string, { route: string; status: string; count: number }>()
  function countRequest(route: string, status: number): void {
    const key = `${route} ${status}`
    const entry = requests.get(key) ?? { route, status: String(status), count: 0 }
    entry.count++
    requests.set(key, entry)
  }

  // ── handlers ─────────────────────────────────────────────────────────────────────────────────

  async function submit({ req, res }: RequestContext): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/json') {
      throw new ApiError(415, 'API_UNSUPPORTED_MEDIA_TYPE', 'The request body must be application/json.', {
        details: { contentType: req.headers['content-type'] ?? null },
      })
    }
    // Admitted before the body is read: a client over its limits costs one small reply.
    const release = limiter.admit(req.socket.remoteAddress ?? 'unknown')
    let taskId: Hex
    inFlight++
    try {
      const { signed, blobs } = parseSubmission(await readBody(req, bodyLimit), params)
      const start = now()
      taskId = await node.submitTask(signed, blobs)
      const early = earlyVerdicts.get(taskId)
      if (early !== undefined) latency.observe((early.at - start) / 1000, { outcome: early.outcome })
      else {
        if (submittedAt.size >= MAX_TRACKED_TASKS) submittedAt.delete(submittedAt.keys().next().value as Hex)
        submittedAt.set(taskId, start)
      }
    } finally {
      release()
      if (--inFlight === 0) earlyVerdicts.clear()
    }
    sendJson(res, 202, { taskId }, { location: `/v1/tasks/${taskId}` })
  }

  function getTask({ res, param }: RequestContext): void {
    if (!hex32.test(param)) {
      throw new ApiError(400, 'API_BAD_TASK_ID', 'A task id is 0x followed by 64 hex digits.', { details: { taskId: param } })
    }
    const task = node.getTask(param.toLowerCase() as Hex)
    if (task === undefined) {
      throw new ApiError(404, 'API_TASK_NOT_FOUND', 'This node does not know the task.', {
        details: { taskId: param },
        hint: 'A node knows tasks it accepted; ask the node you submitted to.',
      })
    }
    sendJson(res, 200, task)
  }

  function getReceipt({ res, param }: RequestContext): void {
    if (!hex32.test(param)) {
      throw new ApiError(400, 'API_BAD_TASK_ID', 'A task id is 0x followed by 64 hex digits.', { details: { taskId: param } })
    }
    const taskId = param.toLowerCase() as Hex
    const receipt = receipts?.(taskId)
    if (receipt === null) {
      throw new ApiError(410, 'RECEIPT_OMITTED', 'The task’s epoch was settled without it.', {
        details: { taskId },
        hint: 'It crossed the epoch boundary after the batch was built: it has no receipt, and its requester was not charged. Submit it again.',
      })
    }
    if (receipt === undefined) {
      const known = node.getTask(taskId) !== undefined
      throw new ApiError(404, known ? 'RECEIPT_NOT_READY' : 'API_TASK_NOT_FOUND', known ? 'The task is not settled on-chain yet.' : 'This node does not know the task.', {
        details: { taskId },
        hint: known ? 'Receipts exist once the task’s epoch is settled; try again after the next settlement.' : 'A node knows tasks it accepted; ask the node you submitted to.',
      })
    }
    sendJson(res, 200, receiptToJson(receipt))
  }

  function getBalance({ res, param }: RequestContext): void {
    if (!address.test(param)) {
      throw new ApiError(400, 'API_BAD_ACCOUNT', 'An account is 0x followed by 40 hex digits.', { details: { account: param } })
    }
    const balance = balanceProofs?.(param.toLowerCase() as Hex)
    if (balance === undefined) {
      throw new ApiError(404, 'BALANCE_NOT_FOUND', 'This node has no leaf for the account in the newest balances root it settled.', {
        details: { account: param },
        hint: 'Every depositor and every paid node gets a leaf once an epoch settles after its deposit or its first task; try again after the next settlement.',
      })
    }
    sendJson(res, 200, { account: balance.account, earned: balance.earned.toString(), charged: balance.charged.toString(), proof: balance.proof })
  }

  function getBlob({ res, param }: RequestContext): void {
    if (!hex32.test(param)) {
      throw new ApiError(400, 'API_BAD_CID', 'A content id is 0x followed by 64 hex digits.', { details: { cid: param } })
    }
    const bytes = node.getBlob(param.toLowerCase() as Hex)
    if (bytes === undefined) {
      throw new ApiError(404, 'API_BLOB_NOT_FOUND', 'This node does not hold the blob.', {
        details: { cid: param },
        hint: 'A result is served once it is revealed, by the executors that produced it.',
      })
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.byteLength })
    res.end(bytes)
  }

  function metrics(): Metric[] {
    const stats = node.stats()
    const counter = (name: string, help: string, value: number | bigint): Metric => ({ name, help, type: 'counter', samples: [{ value }] })
    const gauge = (name: string, help: string, value: number | bigint): Metric => ({ name, help, type: 'gauge', samples: [{ value }] })
    const list: Metric[] = [
      { name: 'veritask_build_info', help: 'The veritask version this node runs.', type: 'gauge', samples: [{ labels: { version }, value: 1 }] },
      {
        name: 'veritask_tasks_total',
        help: 'Tasks this node decided, by outcome.',
        type: 'counter',
        samples: Object.entries(stats.verdicts).map(([outcome, value]) => ({ labels: { outcome }, value })),
      },
      counter('veritask_specs_accepted_total', 'Task specs this node accepted.', stats.specsAccepted),
      counter('veritask_executions_total', 'Tasks this node executed as an executor.', stats.executions),
      counter('veritask_commits_sent_total', 'Commits this node signed and sent.', stats.commitsSent),
      counter('veritask_reveals_sent_total', 'Reveals this node signed and sent.', stats.revealsSent),
      counter('veritask_abstentions_total', 'Executions abandoned without a commit (local, non-deterministic failures).', stats.abstentions),
      counter('veritask_comparisons_total', 'Tasks whose differing results this node compared under a tolerance.', stats.comparisons),
      counter('veritask_comparison_fetch_failures_total', 'Results a tolerance comparison needed that no peer served.', stats.comparisonFetchFailures),
      {
        name: 'veritask_messages_rejected_total',
        help: 'Gossip messages rejected, by error code.',
        type: 'counter',
        samples: Object.entries(stats.rejected)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([code, value]) => ({ labels: { code }, value })),
      },
      gauge('veritask_open_tasks', 'Accepted tasks without a verdict yet.', stats.openTasks),
      gauge('veritask_held_messages', 'Gossip held for tasks whose spec has not arrived yet (bounded by heldLimits).', stats.heldMessages),
      gauge('veritask_muted_peers', 'Peers whose task gossip is dropped unread for flooding messages their signers may not hold.', stats.mutedPeers),
      gauge('veritask_fees_reserved_base_units', "Fees reserved from requesters' escrow by tasks of epochs not settled yet, in token base units.", stats.feesReserved),
      {
        name: 'veritask_verify_latency_seconds',
        help: 'Time from a submission accepted by this API to the verdict of this node, by outcome.',
        type: 'histogram',
        samples: latency.samples(),
      },
      {
        name: 'veritask_api_requests_total',
        help: 'HTTP requests served, by route and status.',
        type: 'counter',
        samples: [...requests.values()].map(({ route, status, count }) => ({ labels: { route, status }, value: count })),
      },
    ]
    if (network !== undefined) {
      const net = network.stats()
      list.push(
        {
          name: 'veritask_gossip_messages_total',
          help: 'Gossip messages, by direction.',
          type: 'counter',
          samples: [
            { labels: { direction: 'published' }, value: net.messagesPublished },
            { labels: { direction: 'received' }, value: net.messagesReceived },
          ],
        },
        {
          name: 'veritask_gossip_bytes_total',
          help: 'Gossip payload bytes, by direction.',
          type: 'counter',
          samples: [
            { labels: { direction: 'published' }, value: net.bytesPublished },
            { labels: { direction: 'received' }, value: net.bytesReceived },
          ],
        },
        counter('veritask_gossip_messages_rejected_total', 'Gossip messages this node rejected as invalid.', net.messagesRejected),
        counter('veritask_blobs_served_total', 'Blobs this node served to peers.', net.blobsServed),
        counter('veritask_blobs_served_bytes_total', 'Bytes of blobs this node served to peers.', net.blobBytesServed),
      )
    }
    const gas = settlementGas?.()
    if (gas !== undefined) list.push(gauge('veritask_settlement_batch_gas', 'Gas used by the latest epoch batch settlement.', gas))
    return list
  }

  function requireAdmin(req: IncomingMessage): void {
    if (adminDigest === undefined) {
      throw new ApiError(403, 'API_ADMIN_DISABLED', 'Admin routes are disabled on this node.', {
        hint: 'Start the API with an admin token to enable them.',
      })
    }
    const [scheme, token] = (req.headers.authorization ?? '').split(' ')
    if (scheme?.toLowerCase() !== 'bearer' || token === undefined || !timingSafeEqual(digest(token), adminDigest)) {
      throw new ApiError(401, 'API_UNAUTHORIZED', 'Admin routes need a valid bearer token.', {
        hint: 'Send "Authorization: Bearer <token>" with the admin token the node was started with.',
      })
    }
  }

  const routes: Route[] = [
    { method: 'GET', name: '/health', pattern: /^\/health$/, handle: ({ res }) => sendJson(res, 200, { ok: true }) },
    {
      method: 'GET',
      name: '/v1/status',
      pattern: /^\/v1\/status$/,
      handle: ({ res }) =>
        sendJson(res, 200, {
          address: node.address,
          peerId: node.peerId,
          version,
          epoch: node.currentEpoch().toString(),
          drawBlock: node.nextDrawBlock().toString(),
          ...(anchors === undefined ? {} : { anchors }),
          stats: node.stats(),
          limits: { maxBodyBytes: bodyLimit, maxProgramBytes: params.maxProgramBytes, maxInputBytes: params.maxInputBytes },
        }),
    },
    { method: 'POST', name: '/v1/tasks', pattern: /^\/v1\/tasks$/, handle: submit },
    { method: 'GET', name: '/v1/tasks/:taskId', pattern: /^\/v1\/tasks\/([^/]*)$/, handle: getTask },
    { method: 'GET', name: '/v1/tasks/:taskId/receipt', pattern: /^\/v1\/tasks\/([^/]*)\/receipt$/, handle: getReceipt },
    { method: 'GET', name: '/v1/balances/:account', pattern: /^\/v1\/balances\/([^/]*)$/, handle: getBalance },
    { method: 'GET', name: '/v1/blobs/:cid', pattern: /^\/v1\/blobs\/([^/]*)$/, handle: getBlob },
    {
      method: 'GET',
      name: '/metrics',
      pattern: /^\/metrics$/,
      handle: ({ res }) => {
        const body = renderMetrics(metrics())
        res.writeHead(200, { 'content-type': metricsContentType, 'content-length': Buffer.byteLength(body) })
        res.end(body)
      },
    },
    {
      method: 'GET',
      name: '/v1/admin/peers',
      pattern: /^\/v1\/admin\/peers$/,
      handle: ({ res }) => sendJson(res, 200, { peerCount: network?.peers?.().length ?? null }),
    },
    { method: 'GET', name: '/v1/events', pattern: /^\/v1\/events$/, handle: ({ req, res, query }) => streams.handle(req, res, query) },
    ...explorerRoutes({ node, index, chainReads, eligibleNodes, balanceProofs, assetsDir: explorerAssets }),
  ]

  /** Routes a request; `matched` learns the route's name before its handler runs. */
  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, matched: (name: string) => void): Promise<void> {
    const path = url.pathname
    // Admin routes authenticate before anything else, so that their names leak nothing.
    if (path === '/v1/admin' || path.startsWith('/v1/admin/')) {
      matched('/v1/admin/*')
      requireAdmin(req)
    }
    const matching = routes.filter((r) => r.pattern.test(path))
    // HEAD is GET without a body; node:http leaves the body out.
    const method = req.method === 'HEAD' ? 'GET' : req.method
    const route = matching.find((r) => r.method === method)
    if (route === undefined) {
      if (matching.length === 0) throw new ApiError(404, 'API_NOT_FOUND', `No route ${path}.`, { hint: 'See docs/api.md for the routes.' })
      const allow = [...new Set(matching.flatMap((r) => (r.method === 'GET' ? ['GET', 'HEAD'] : [r.method])))].join(', ')
      res.setHeader('allow', allow)
      throw new ApiError(405, 'API_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}.`, { details: { allow } })
    }
    matched(route.name)
    // Not percent-decoded: ids and content ids are plain hex.
    await route.handle({ req, res, param: route.pattern.exec(path)?.[1] ?? '', query: url.searchParams })
  }

  const server = createServer((req, res) => {
    const started = performance.now()
    let path = '(invalid)'
    let routeName = '(unmatched)'
    res.once('close', () => {
      countRequest(routeName, res.statusCode)
      log.debug('api request', {
        method: req.method,
        path,
        route: routeName,
        status: res.statusCode,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      })
    })
    void (async () => {
      try {
        const url = new URL(req.url ?? '/', 'http://localhost')
        path = url.pathname
        await handle(req, res, url, (name) => (routeName = name))
      } catch (error) {
        const reply = replyForError(error)
        if (reply.status === 500) log.error('api handler failed', { method: req.method, path, error })
        if (res.headersSent) return void res.destroy()
        // A body left unread is not read at all: the connection closes after the reply.
        if (!req.complete) res.setHeader('connection', 'close')
        const retryAfterMs = reply.body.error.details?.retryAfterMs
        const headers: Record<string, string> =
          reply.status === 401 ? { 'www-authenticate': 'Bearer' } : typeof retryAfterMs === 'number' ? { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) } : {}
        sendJson(res, reply.status, reply.body, headers)
      }
    })()
  })
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
    else socket.destroy()
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const bound = (server.address() as AddressInfo).port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`
  log.info('api listening', { url })

  let closing: Promise<void> | undefined
  return {
    url,
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve) => {
        stopObserving()
        stopOwnEvents()
        streams.close()
        index.stop()
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}
