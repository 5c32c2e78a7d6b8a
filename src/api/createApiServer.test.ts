import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { keccak256, stringToBytes, toBytes } from 'viem'
import { contentId } from '../core/contentId.ts'
import { defaultParams } from '../core/params.ts'
import type { Hex, SignedSpec, Verdict } from '../core/types.ts'
import type { VeritaskNode } from '../node/createNode.ts'
import { createLogger } from '../node/logger.ts'
import { topics } from '../ports/network.ts'
import type { ExecutionRequest, ExecutionResult, Runtime } from '../ports/runtime.ts'
import { createNetwork, signedSpec, waitUntil } from '../../test/helpers/network.ts'
import type { TestNetwork } from '../../test/helpers/network.ts'
import { createApiServer } from './createApiServer.ts'
import type { ApiServer } from './createApiServer.ts'

// The HTTP API of one node on a small in-memory network, driven with fetch.

/** Output = keccak256(input): deterministic, so honest nodes agree. */
const honest: Runtime = {
  name: 'wasm',
  execute: async ({ input }: ExecutionRequest): Promise<ExecutionResult> => ({ status: 'ok', output: toBytes(keccak256(input)), fuelUsed: 1n }),
  close: async () => {},
}

const adminToken = 'test-admin-token'
const maxBodyBytes = 64 * 1024

/** The body of POST /v1/tasks for a signed spec and its blobs. */
function submission(signed: SignedSpec, [program, input]: Uint8Array[], specOverrides: Record<string, unknown> = {}) {
  const spec = JSON.parse(JSON.stringify(signed.message, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>
  return {
    spec: { ...spec, ...specOverrides },
    signature: signed.signature,
    ...(signed.anchor === undefined ? {} : { anchor: signed.anchor }),
    program: Buffer.from(program!).toString('base64'),
    input: Buffer.from(input!).toString('base64'),
  }
}

/** Records every verdict of `node`; `wait(id)` resolves with the verdict for `id`, even one already seen. */
function watchVerdicts(node: VeritaskNode) {
  const seen = new Map<Hex, Verdict>()
  const waiting = new Map<Hex, (v: Verdict) => void>()
  const off = node.onVerdict((v) => {
    seen.set(v.taskId, v)
    waiting.get(v.taskId)?.(v)
  })
  return {
    off,
    wait: (id: Hex) => new Promise<Verdict>((resolve) => (seen.has(id) ? resolve(seen.get(id)!) : waiting.set(id, resolve))),
  }
}

describe('api: one node on the memory network', { timeout: 10_000 }, () => {
  let net: TestNetwork
  let apis: ApiServer[]
  let api: ApiServer
  let verdicts: ReturnType<typeof watchVerdicts>
  const logLines: string[] = []
  let firstTask: Awaited<ReturnType<typeof signedSpec>> | undefined

  const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${api.url}/v1/tasks`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) })

  async function expectError(response: Response, status: number, code: string): Promise<{ code: string; message: string; hint?: string }> {
    const body = (await response.json()) as { error?: { code: string; message: string; hint?: string } }
    assert.equal(response.status, status, `expected ${code}, got ${JSON.stringify(body)}`)
    const error = body.error!
    assert.equal(error.code, code)
    assert.ok(error.message.length > 0)
    return error
  }

  /** Submits task `i` through the API and resolves once the gateway decided it. */
  async function submitAndDecide(i: number) {
    const task = await signedSpec(i)
    const response = await post(submission(task.signed, task.blobs))
    assert.equal(response.status, 202)
    const { taskId } = (await response.json()) as { taskId: Hex }
    assert.match(taskId, /^0x[0-9a-f]{64}$/)
    assert.equal(response.headers.get('location'), `/v1/tasks/${taskId}`)
    const verdict = await verdicts.wait(taskId)
    return { task, taskId, verdict }
  }

  before(async () => {
    net = await createNetwork({ runtimes: () => honest })
    verdicts = watchVerdicts(net.nodes[0]!)
    apis = await Promise.all(
      net.nodes.map((node, i) =>
        i === 0
          ? createApiServer({
              node,
              adminToken,
              maxBodyBytes,
              logger: createLogger({ level: 'debug', write: (line) => logLines.push(line) }),
              network: { stats: () => net.hub.statsOf('peer-0'), peers: () => net.hub.peers().filter((p) => p !== 'peer-0') },
              settlementGas: () => 185_334n,
            })
          : createApiServer({ node }),
      ),
    )
    api = apis[0]!
  })

  after(async () => {
    verdicts.off()
    await Promise.all(apis.map((a) => a.close()))
    await net.stop()
  })

  it('listens on loopback and reports the bound port', () => {
    assert.ok(api.port > 0)
    assert.equal(api.url, `http://127.0.0.1:${api.port}`)
    assert.equal(new Set(apis.map((a) => a.port)).size, apis.length)
  })

  it('answers GET /health and GET /v1/status', async () => {
    const health = await fetch(`${api.url}/health`)
    assert.equal(health.status, 200)
    assert.deepEqual(await health.json(), { ok: true })

    const status = (await (await fetch(`${api.url}/v1/status`)).json()) as Record<string, unknown>
    assert.equal(status.address, net.nodes[0]!.address)
    assert.equal(status.peerId, 'peer-0')
    assert.match(status.version as string, /^\d+\.\d+\.\d+/)
    const stats = status.stats as Record<string, unknown>
    assert.equal(typeof stats.feesReserved, 'string', 'bigints are decimal strings')
    assert.deepEqual(stats.verdicts, { verified: 0, failed: 0, unresolved: 0 })
    assert.deepEqual(status.limits, { maxBodyBytes, maxProgramBytes: defaultParams.maxProgramBytes, maxInputBytes: defaultParams.maxInputBytes })
    // No chain contracts here (instant anchors): no anchors contract to name.
    assert.equal('anchors' in status, false)
  })

  it('accepts a signed task, reports it decided, and serves its result by content id', async () => {
    const { task, taskId, verdict } = await submitAndDecide(1)
    firstTask = task
    assert.equal(verdict.outcome, 'verified')

    const response = await fetch(`${api.url}/v1/tasks/${taskId}`)
    assert.equal(response.status, 200)
    const status = (await response.json()) as { phase: string; seats: string[]; committed: string[]; verdict: Verdict; spec: Record<string, unknown> }
    assert.equal(status.phase, 'decided')
    assert.equal(status.verdict.outcome, 'verified')
    assert.equal(status.verdict.resultHash, verdict.resultHash)
    assert.equal(status.seats.length, 3)
    assert.equal(status.spec.fee, '1000')
    // Upper-case hex names the same task.
    assert.equal((await fetch(`${api.url}/v1/tasks/0x${taskId.slice(2).toUpperCase()}`)).status, 200)

    // The result is served by the executors that revealed it.
    const executor = net.nodes.findIndex((n) => n.address === verdict.executors[0])
    const blob = await fetch(`${apis[executor]!.url}/v1/blobs/${verdict.resultHash}`)
    assert.equal(blob.status, 200)
    assert.equal(blob.headers.get('content-type'), 'application/octet-stream')
    const bytes = new Uint8Array(await blob.arrayBuffer())
    assert.deepEqual(bytes, toBytes(keccak256(task.input)))
    assert.equal(contentId(bytes), verdict.resultHash)
    // The gateway holds the input it was given.
    const input = await fetch(`${api.url}/v1/blobs/${task.signed.message.input}`)
    assert.deepEqual(new Uint8Array(await input.arrayBuffer()), task.input)
  })

  it('exposes Prometheus metrics with the node counters, latency and gossip traffic', async () => {
    // A malformed gossip message for the rejected-messages counter.
    const attacker = net.hub.connect('mallory')
    await attacker.publish(topics.specs, stringToBytes('{"not": "a message"'))
    await waitUntil(() => net.nodes[0]!.stats().rejected.MESSAGE_MALFORMED === 1)

    const response = await fetch(`${api.url}/metrics`)
    assert.equal(response.status, 200)
    assert.match(response.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/)
    const text = await response.text()
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `))
      assert.ok(line !== undefined, `missing ${series}`)
      return Number(line.slice(series.length + 1))
    }
    const stats = net.nodes[0]!.stats()
    assert.equal(value('veritask_tasks_total{outcome="verified"}'), stats.verdicts.verified)
    assert.ok(stats.verdicts.verified >= 1)
    assert.equal(value('veritask_tasks_total{outcome="unresolved"}'), 0)
    assert.equal(value('veritask_specs_accepted_total'), stats.specsAccepted)
    assert.equal(value('veritask_executions_total'), stats.executions)
    assert.equal(value('veritask_commits_sent_total'), stats.commitsSent)
    assert.equal(value('veritask_reveals_sent_total'), stats.revealsSent)
    assert.equal(value('veritask_abstentions_total'), 0)
    assert.equal(value('veritask_messages_rejected_total{code="MESSAGE_MALFORMED"}'), 1)
    assert.equal(value('veritask_open_tasks'), stats.openTasks)
    assert.equal(value('veritask_held_messages'), stats.heldMessages)
    assert.equal(value('veritask_fees_reserved_base_units'), Number(stats.feesReserved))
    assert.equal(value('veritask_verify_latency_seconds_count{outcome="verified"}'), stats.verdicts.verified)
    assert.equal(value('veritask_verify_latency_seconds_bucket{outcome="verified",le="+Inf"}'), stats.verdicts.verified)
    assert.ok(value('veritask_verify_latency_seconds_sum{outcome="verified"}') > 0)
    const traffic = net.hub.statsOf('peer-0')
    assert.equal(value('veritask_gossip_messages_total{direction="published"}'), traffic.messagesPublished)
    assert.equal(value('veritask_gossip_bytes_total{direction="received"}'), traffic.bytesReceived)
    assert.equal(value('veritask_gossip_messages_rejected_total'), traffic.messagesRejected)
    assert.equal(value('veritask_settlement_batch_gas'), 185_334)
    assert.equal(value('veritask_api_requests_total{route="/v1/tasks",status="202"}'), 1)
    for (const name of ['veritask_tasks_total', 'veritask_verify_latency_seconds', 'veritask_open_tasks']) {
      assert.ok(text.includes(`# HELP ${name} `), `HELP for ${name}`)
    }
    assert.ok(text.includes('# TYPE veritask_verify_latency_seconds histogram'))
    assert.ok(text.includes('# TYPE veritask_open_tasks gauge'))
  })

  it('rejects malformed submissions with a code and a reason', async () => {
    const task = await signedSpec(2)
    const valid = submission(task.signed, task.blobs)

    await expectError(await post('{"spec":'), 400, 'MESSAGE_MALFORMED')
    await expectError(await post('[]'), 400, 'MESSAGE_MALFORMED')
    const missing = await expectError(await post({ ...valid, program: undefined }), 400, 'MESSAGE_MALFORMED')
    assert.match(missing.message, /program/)
    await expectError(await post({ ...valid, input: 'not base64!' }), 400, 'MESSAGE_MALFORMED')
    await expectError(await post({ ...valid, extra: 1 }), 400, 'MESSAGE_MALFORMED')
    // The spec goes through the wire schema: bigints must be decimal strings.
    const schema = await expectError(await post(submission(task.signed, task.blobs, { fee: 1000 })), 400, 'MESSAGE_MALFORMED')
    assert.match(schema.message, /spec\.fee/)
    await expectError(await post(submission(task.signed, task.blobs, { surprise: true })), 400, 'MESSAGE_MALFORMED')
    await expectError(await post({ ...valid, signature: '0x1234' }), 400, 'MESSAGE_MALFORMED')
    await expectError(await post(valid, { 'content-type': 'text/plain' }), 415, 'API_UNSUPPORTED_MEDIA_TYPE')
    await expectError(await post(valid, {}), 415, 'API_UNSUPPORTED_MEDIA_TYPE')
    assert.equal(net.nodes[0]!.stats().specsAccepted, 1)
  })

  it('maps spec rejections to status codes', async () => {
    const task = await signedSpec(3)
    // Changed after signing: the signature no longer matches the spec.
    await expectError(await post(submission(task.signed, task.blobs, { fee: '1' })), 400, 'SPEC_BAD_SIGNATURE')
    // Bytes that are not the ones the spec names (and that the node does not hold already).
    const fresh = await signedSpec(3, {}, { program: stringToBytes('a program nobody uploaded') })
    await expectError(await post(submission(fresh.signed, [stringToBytes('other program'), fresh.input])), 400, 'SPEC_MISSING_BLOB')
    const rich = await signedSpec(4, { fee: 10n ** 30n })
    await expectError(await post(submission(rich.signed, rich.blobs)), 402, 'SPEC_INSUFFICIENT_ESCROW')
    const expired = await signedSpec(5, { deadline: 1n })
    const error = await expectError(await post(submission(expired.signed, expired.blobs)), 422, 'SPEC_EXPIRED')
    assert.ok(error.hint !== undefined)
    const greedy = await signedSpec(6, { policy: { kind: 'replicate', k: 3, quorum: 1 } })
    await expectError(await post(submission(greedy.signed, greedy.blobs)), 422, 'SPEC_INVALID_POLICY')
    // The first task again, byte for byte.
    await expectError(await post(submission(firstTask!.signed, firstTask!.blobs)), 409, 'SPEC_DUPLICATE')
  })

  it('keeps no blob of a spec it refuses: the spec is checked before anything is stored', async () => {
    // Each refused for a different reason, each with its own input bytes, uploaded in full.
    const forged = await signedSpec(8, {}, { input: stringToBytes('forged input '.repeat(1_000)) })
    const broke = await signedSpec(9, { fee: 10n ** 30n }, { input: stringToBytes('unfunded input') })
    const expired = await signedSpec(10, { deadline: 1n }, { input: stringToBytes('expired input') })
    await expectError(await post(submission(forged.signed, forged.blobs, { fee: '1' })), 400, 'SPEC_BAD_SIGNATURE')
    await expectError(await post(submission(broke.signed, broke.blobs)), 402, 'SPEC_INSUFFICIENT_ESCROW')
    await expectError(await post(submission(expired.signed, expired.blobs)), 422, 'SPEC_EXPIRED')
    for (const { input } of [forged, broke, expired]) {
      const cid = contentId(input)
      assert.equal(net.nodes[0]!.getBlob(cid), undefined, 'the gateway stored nothing')
      assert.equal((await fetch(`${api.url}/v1/blobs/${cid}`)).status, 404)
    }
    // (An accepted spec's blobs are stored and served: 'accepts a signed task … by content id' above.)
  })

  it('refuses an oversized body with 413 without reading it all', async () => {
    const task = await signedSpec(7, {}, { input: new Uint8Array(maxBodyBytes) })
    await expectError(await post(submission(task.signed, task.blobs)), 413, 'API_BODY_TOO_LARGE')
    // Without a declared length (chunked), the limit applies while reading.
    const big = JSON.stringify(submission(task.signed, task.blobs))
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < big.length; at += 8192) controller.enqueue(stringToBytes(big.slice(at, at + 8192)))
        controller.close()
      },
    })
    const response = await fetch(`${api.url}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit)
    await expectError(response, 413, 'API_BODY_TOO_LARGE')

    // A declared length over the limit is refused before any of the body is sent.
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(api.port, '127.0.0.1', () =>
        socket.write(`POST /v1/tasks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${10 * maxBodyBytes}\r\n\r\n`),
      )
      let text = ''
      socket.on('data', (chunk) => (text += chunk.toString()))
      socket.on('end', () => resolve(text))
      socket.on('error', reject)
    })
    assert.match(reply, /^HTTP\/1\.1 413 /)
    assert.match(reply, /API_BODY_TOO_LARGE/)
  })

  it('answers unknown routes, wrong methods and bad ids', async () => {
    await expectError(await fetch(`${api.url}/v1/nothing`), 404, 'API_NOT_FOUND')
    // `/` is the explorer's page (docs/explorer.md).
    const root = await fetch(`${api.url}/`)
    assert.equal(root.status, 200)
    assert.match(root.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(root.headers.get('content-security-policy') ?? '', /default-src 'none'/)

    const wrongMethod = await fetch(`${api.url}/v1/tasks`)
    assert.equal(wrongMethod.headers.get('allow'), 'POST')
    await expectError(wrongMethod, 405, 'API_METHOD_NOT_ALLOWED')
    const postHealth = await fetch(`${api.url}/health`, { method: 'POST' })
    assert.equal(postHealth.headers.get('allow'), 'GET, HEAD')
    await expectError(postHealth, 405, 'API_METHOD_NOT_ALLOWED')
    await expectError(await fetch(`${api.url}/v1/tasks/${'0x' + '11'.repeat(32)}`, { method: 'DELETE' }), 405, 'API_METHOD_NOT_ALLOWED')
    const head = await fetch(`${api.url}/health`, { method: 'HEAD' })
    assert.equal(head.status, 200)

    await expectError(await fetch(`${api.url}/v1/tasks/xyz`), 400, 'API_BAD_TASK_ID')
    await expectError(await fetch(`${api.url}/v1/tasks/0x${'1'.repeat(63)}`), 400, 'API_BAD_TASK_ID')
    await expectError(await fetch(`${api.url}/v1/tasks/0x${'11'.repeat(32)}`), 404, 'API_TASK_NOT_FOUND')
    await expectError(await fetch(`${api.url}/v1/blobs/nope`), 400, 'API_BAD_CID')
    await expectError(await fetch(`${api.url}/v1/blobs/0x${'22'.repeat(32)}`), 404, 'API_BLOB_NOT_FOUND')
    await expectError(await fetch(`${api.url}/v1/balances/0x${'3'.repeat(39)}`), 400, 'API_BAD_ACCOUNT')
    // Without a settler there is no balances root to prove against.
    await expectError(await fetch(`${api.url}/v1/balances/0x${'33'.repeat(20)}`), 404, 'BALANCE_NOT_FOUND')
  })

  it('guards admin routes with the bearer token', async () => {
    const anonymous = await fetch(`${api.url}/v1/admin/peers`)
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer')
    await expectError(anonymous, 401, 'API_UNAUTHORIZED')
    await expectError(await fetch(`${api.url}/v1/admin/peers`, { headers: { authorization: 'Bearer wrong' } }), 401, 'API_UNAUTHORIZED')
    await expectError(await fetch(`${api.url}/v1/admin/peers`, { headers: { authorization: adminToken } }), 401, 'API_UNAUTHORIZED')
    // Unknown admin routes are not revealed without the token.
    await expectError(await fetch(`${api.url}/v1/admin/secret`), 401, 'API_UNAUTHORIZED')

    const authorization = `Bearer ${adminToken}`
    const peers = await fetch(`${api.url}/v1/admin/peers`, { headers: { authorization } })
    assert.equal(peers.status, 200)
    // Four other nodes, plus mallory from the metrics test.
    assert.deepEqual(await peers.json(), { peerCount: net.hub.peers().length - 1 })
    await expectError(await fetch(`${api.url}/v1/admin/secret`, { headers: { authorization } }), 404, 'API_NOT_FOUND')
    // A server started without a token has its admin routes turned off.
    await expectError(await fetch(`${apis[1]!.url}/v1/admin/peers`, { headers: { authorization } }), 403, 'API_ADMIN_DISABLED')
  })

  it('answers a client over its submission rate 429 with retry-after, and submits nothing for it', async () => {
    let t = 0
    const limited = await createApiServer({ node: net.nodes[3]!, now: () => t, submissionLimits: { concurrent: 4, perSecond: 1, burst: 2 } })
    try {
      const postTo = async (i: number) => {
        const task = await signedSpec(40 + i)
        return fetch(`${limited.url}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(submission(task.signed, task.blobs)) })
      }
      assert.equal((await postTo(0)).status, 202)
      assert.equal((await postTo(1)).status, 202)
      const accepted = net.nodes[3]!.stats().specsAccepted
      const refused = await postTo(2)
      assert.equal(refused.headers.get('retry-after'), '1')
      const error = await expectError(refused, 429, 'API_RATE_LIMITED')
      assert.match(error.hint ?? '', /Retry after 1 s/)
      assert.equal(net.nodes[3]!.stats().specsAccepted, accepted, 'the refused submission reached nobody')
      // A second later the bucket holds one more.
      t += 1_000
      assert.equal((await postTo(2)).status, 202)
      assert.equal((await postTo(3)).status, 429)
    } finally {
      await limited.close()
    }
  })

  it('turns a handler exception into a generic 500 and keeps serving', async () => {
    const broken = await createApiServer({
      node: { ...net.nodes[2]!, stats: () => { throw new Error('secret internals') } },
    })
    try {
      const response = await fetch(`${broken.url}/v1/status`)
      const error = await expectError(response, 500, 'API_INTERNAL')
      assert.equal(error.message, 'Internal error.')
      assert.equal((await fetch(`${broken.url}/health`)).status, 200)
    } finally {
      await broken.close()
    }
  })

  it('keeps working after bad requests, and logs each request without bodies or tokens', async () => {
    const { verdict } = await submitAndDecide(8)
    assert.equal(verdict.outcome, 'verified')
    const metrics = await (await fetch(`${api.url}/metrics`)).text()
    assert.match(metrics, /^veritask_verify_latency_seconds_count\{outcome="verified"\} 2$/m)

    const requests = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === 'api request')
    assert.ok(requests.some((r) => r.route === '/v1/tasks' && r.status === 202 && r.level === 'debug'))
    assert.ok(requests.some((r) => r.route === '/v1/admin/*' && r.status === 401))
    const all = logLines.join('\n')
    assert.ok(!all.includes(adminToken), 'no token in logs')
    assert.ok(!all.includes(Buffer.from((await signedSpec(8)).input).toString('base64')), 'no body in logs')
  })
})
