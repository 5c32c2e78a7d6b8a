import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { keccak256, toBytes, zeroAddress } from 'viem'
import { createApiServer } from '../../api/createApiServer.ts'
import type { ApiServer } from '../../api/createApiServer.ts'
import type { ExecutionRequest, ExecutionResult, Runtime } from '../../ports/runtime.ts'
import { createNetwork, signedSpec } from '../../../test/helpers/network.ts'
import type { TestNetwork } from '../../../test/helpers/network.ts'
import { requester } from '../../../test/helpers/fixtures.ts'
import { createVeritaskClient } from '../createVeritaskClient.ts'
import type { Fetch } from '../nodeApi.ts'

// waitForResult listens to the node's event stream instead of polling task status, and polls
// where no stream is available.

/** Executions wait at the gate until the test opens it: a task takes as long as the test wants. */
function gatedRuntime() {
  let open!: () => void
  const gate = new Promise<void>((resolve) => (open = resolve))
  const runtime: Runtime = {
    name: 'wasm',
    execute: async ({ input }: ExecutionRequest): Promise<ExecutionResult> => {
      await gate
      return { status: 'ok', output: toBytes(keccak256(input)), fuelUsed: 1n }
    },
    close: async () => {},
  }
  return { runtime, open }
}

/** A fetch that counts status reads of tasks (GET /v1/tasks/:id) and calls `onStatus` on each. */
function countingFetch(options: { noStream?: boolean } = {}) {
  const counter = { status: 0, onStatus: () => {} }
  const doFetch: Fetch = (url, init) => {
    if (/\/v1\/tasks\/0x[0-9a-f]{64}$/.test(url)) {
      counter.status++
      counter.onStatus()
    }
    if (options.noStream === true && url.includes('/v1/events')) return Promise.resolve(new Response('{"error":{"code":"API_NOT_FOUND","message":"no"}}', { status: 404 }))
    return fetch(url, init)
  }
  return { counter, doFetch }
}

const clientOf = (api: ApiServer, doFetch: Fetch, eventStream = true) =>
  createVeritaskClient({
    rpcUrl: 'http://127.0.0.1:9', // never asked: waiting needs only the node API
    nodeApiUrl: api.url,
    account: requester,
    settlement: zeroAddress,
    chainId: 31337,
    pollIntervalMs: 1,
    fetch: doFetch,
    eventStream,
  })

describe('sdk: waitForResult', { timeout: 20_000 }, () => {
  let net: TestNetwork
  let api: ApiServer
  let gate: ReturnType<typeof gatedRuntime>

  before(async () => {
    gate = gatedRuntime()
    net = await createNetwork({ count: 4, runtimes: () => gate.runtime })
    api = await createApiServer({ node: net.nodes[0]! })
  })

  after(async () => {
    await api?.close()
    await net?.stop()
  })

  it('reads status once and then only listens while the stream is up; a polling client meanwhile polls', async () => {
    const streaming = countingFetch()
    const polling = countingFetch()
    const listener = clientOf(api, streaming.doFetch)
    const poller = clientOf(api, polling.doFetch, false)
    // The stream is up before the wait starts.
    await new Promise<void>((resolve) => {
      const off = listener.events!.subscribe(() => {}, (state) => {
        if (state === 'open') resolve()
      })
      after(off)
    })
    const { signed, blobs } = await signedSpec(1)
    const taskId = await net.nodes[0]!.submitTask(signed, blobs)
    // The task cannot decide before the gate opens: it opens once the polling client has polled 8 times.
    const polled8 = new Promise<void>((resolve) => (polling.counter.onStatus = () => polling.counter.status >= 8 && resolve()))
    const waits = [listener.waitForResult({ taskId, output: false }), poller.waitForResult({ taskId, output: false })]
    await polled8
    assert.equal(streaming.counter.status, 1, 'one status read after the stream opened, no polling')
    gate.open()
    const [streamed, polled] = await Promise.all(waits)
    assert.equal(streamed!.outcome, 'verified')
    assert.deepEqual(streamed!.verdict, polled!.verdict)
    assert.equal(streaming.counter.status, 1)
    assert.equal(listener.events!.state, 'open')
  })

  it('falls back to polling where the node has no event stream', async () => {
    const fallback = countingFetch({ noStream: true })
    const client = clientOf(api, fallback.doFetch)
    const { signed, blobs } = await signedSpec(2)
    const taskId = await net.nodes[0]!.submitTask(signed, blobs)
    const result = await client.waitForResult({ taskId, output: true })
    assert.equal(result.outcome, 'verified')
    assert.ok(fallback.counter.status >= 1)
    assert.equal(client.events!.state, 'idle')
  })
})
