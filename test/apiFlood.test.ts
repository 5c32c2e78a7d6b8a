import assert from 'node:assert/strict'
import { request } from 'node:http'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { keccak256, toBytes } from 'viem'
import { createApiServer } from '../src/api/createApiServer.ts'
import { contentId } from '../src/core/contentId.ts'
import type { Hex, SignedSpec, Verdict } from '../src/core/types.ts'
import type { ExecutionRequest, ExecutionResult, Runtime } from '../src/ports/runtime.ts'
import { createNetwork, signedSpec } from './helpers/network.ts'

// An API flood against a running node over loopback: one client sends forged, oversized and
// malformed submissions as fast as 64 connections allow, while another submits honest tasks.
// Bounded in count; it stops by itself. The node answers every request, stores nothing for the
// flood, and the honest client's tasks are all accepted and verified.

const honest: Runtime = {
  name: 'wasm',
  execute: async ({ input }: ExecutionRequest): Promise<ExecutionResult> => ({ status: 'ok', output: toBytes(keccak256(input)), fuelUsed: 1n }),
  close: async () => {},
}

const FLOOD = 2_000
const CONNECTIONS = 64
const MAX_BODY = 1024 * 1024

function body(signed: SignedSpec, program: Uint8Array, input: Uint8Array, overrides: Record<string, unknown> = {}): string {
  const spec = JSON.parse(JSON.stringify(signed.message, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>
  return JSON.stringify({
    spec: { ...spec, ...overrides },
    signature: signed.signature,
    ...(signed.anchor === undefined ? {} : { anchor: signed.anchor }),
    program: Buffer.from(program).toString('base64'),
    input: Buffer.from(input).toString('base64'),
  })
}

/** POSTs `payload` to `url` from the loopback address `from`: the API limits clients by address. */
function postFrom(from: string, url: string, payload: string): Promise<{ status: number; retryAfter: string | undefined; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', localAddress: from, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, json: text === '' ? undefined : JSON.parse(text) })
      })
      res.on('error', reject)
    })
    // A server that refuses a body early may close the socket while it is still being written.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? resolve({ status: -1, retryAfter: undefined, json: undefined }) : reject(error)))
    req.end(payload)
  })
}

describe('API flood over loopback', () => {
  it('answers every flood request with a clear refusal, stores nothing for it, and keeps taking and verifying an honest client’s tasks', async (t) => {
    const net = await createNetwork({ runtimes: () => honest })
    const api = await createApiServer({ node: net.nodes[0]!, host: '127.0.0.1', port: 0, maxBodyBytes: MAX_BODY })
    const verdicts = new Map<Hex, Verdict>()
    let decided = (): void => {}
    const off = net.nodes[0]!.onVerdict((v) => {
      verdicts.set(v.taskId, v)
      decided()
    })
    try {
      const url = `${api.url}/v1/tasks`
      // The flood's payloads: forged specs with 16 KiB programs, garbage, and now and then a body over the size limit.
      const forgedPrograms: Hex[] = []
      const payloads: string[] = []
      for (let i = 0; i < 8; i++) {
        const task = await signedSpec(1_000 + i)
        const program = new Uint8Array(randomBytes(16 * 1024))
        forgedPrograms.push(contentId(program))
        payloads.push(body(task.signed, program, task.blobs[1]!, { fee: '1', program: contentId(program) }))
      }
      payloads.push('{"spec": ')
      const oversized = 'x'.repeat(2 * MAX_BODY)
      const statuses = new Map<number, number>()
      let retryAfterMissing = 0
      let next = 0
      const flooder = async () => {
        while (next < FLOOD) {
          const i = next++
          const payload = i % 50 === 0 ? oversized : payloads[i % payloads.length]!
          const { status, retryAfter } = await postFrom('127.0.0.3', url, payload)
          statuses.set(status, (statuses.get(status) ?? 0) + 1)
          if (status === 429 && retryAfter === undefined) retryAfterMissing++
        }
      }
      const flood = Promise.all(Array.from({ length: CONNECTIONS }, flooder))

      // Meanwhile, from another address, the honest client submits eight tasks one after another.
      const accepted: Hex[] = []
      for (let i = 0; i < 8; i++) {
        const task = await signedSpec(2_000 + i)
        const { status, json } = await postFrom('127.0.0.2', url, body(task.signed, task.blobs[0]!, task.blobs[1]!))
        assert.equal(status, 202, `honest task ${i}: ${JSON.stringify(json)}`)
        accepted.push((json as { taskId: Hex }).taskId)
      }
      await flood

      t.diagnostic(`flood answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`)
      const answered = [...statuses.values()].reduce((a, b) => a + b, 0)
      assert.equal(answered, FLOOD, 'every flood request ended')
      for (const status of statuses.keys()) assert.ok(status === -1 || (status >= 400 && status < 500), `flood answered ${status}: ${JSON.stringify([...statuses])}`)
      assert.ok((statuses.get(429) ?? 0) > 0, `the flood ran into its client limit: ${JSON.stringify([...statuses])}`)
      assert.equal(retryAfterMissing, 0, 'every 429 says when to retry')
      assert.ok((statuses.get(413) ?? 0) + (statuses.get(-1) ?? 0) > 0, 'oversized bodies were refused')

      // Nothing of the flood was kept: no forged program is served, no forged spec was accepted.
      for (const cid of forgedPrograms) assert.equal((await fetch(`${api.url}/v1/blobs/${cid}`)).status, 404)
      assert.equal(net.nodes[0]!.stats().specsAccepted, accepted.length)
      // And nothing of the honest client's was lost: each task reaches a verdict, verified.
      for (const taskId of accepted) {
        while (!verdicts.has(taskId)) await new Promise<void>((resolve) => (decided = resolve))
        assert.equal(verdicts.get(taskId)!.outcome, 'verified')
      }
    } finally {
      off()
      await api.close()
      await net.stop()
    }
  })
})
