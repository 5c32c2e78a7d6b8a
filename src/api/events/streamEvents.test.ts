import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { keccak256, toBytes } from 'viem'
import type { Address, Hex } from '../../core/types.ts'
import type { ExecutionRequest, Runtime } from '../../ports/runtime.ts'
import { createNetwork, signedSpec, submitAndDecide } from '../../../test/helpers/network.ts'
import type { TestNetwork } from '../../../test/helpers/network.ts'
import { requester } from '../../../test/helpers/fixtures.ts'
import { createApiServer } from '../createApiServer.ts'
import type { ApiServer } from '../createApiServer.ts'
import { createEventHub } from './createEventHub.ts'
import type { EventHub } from './createEventHub.ts'

// GET /v1/events on one node of a memory network: framing, filters, resumption, bounds.

const honest: Runtime = {
  name: 'wasm',
  execute: async ({ input }: ExecutionRequest) => ({ status: 'ok', output: toBytes(keccak256(input)), fuelUsed: 1n }),
  close: async () => {},
}

interface Frame {
  id: string | undefined
  data: Record<string, unknown>
}

/** Opens a stream (resolves once the node subscribed it: its first bytes came); `read(n)` takes the next n frames, `close()` ends it. */
async function openStream(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController()
  const response = await fetch(url, { headers, signal: abort.signal })
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/)
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
  const frames: Frame[] = []
  let text = ''
  return {
    async read(count: number): Promise<Frame[]> {
      while (frames.length < count) {
        const { value, done } = await reader.read()
        if (done) break
        text += value
        let end: number
        while ((end = text.indexOf('\n\n')) >= 0) {
          const block = text.slice(0, end).split('\n')
          text = text.slice(end + 2)
          const data = block.find((l) => l.startsWith('data: '))
          if (data !== undefined) frames.push({ id: block.find((l) => l.startsWith('id: '))?.slice(4), data: JSON.parse(data.slice(6)) as Record<string, unknown> })
        }
      }
      return frames.splice(0, count)
    },
    close: () => abort.abort(),
  }
}

async function readFrames(url: string, count: number, headers: Record<string, string> = {}): Promise<Frame[]> {
  const stream = await openStream(url, headers)
  try {
    return await stream.read(count)
  } finally {
    stream.close()
  }
}

describe('api: the event stream', { timeout: 20_000 }, () => {
  let net: TestNetwork
  let api: ApiServer
  let hub: EventHub

  before(async () => {
    net = await createNetwork({ count: 4, runtimes: () => honest })
    hub = createEventHub({ bufferSize: 64 })
    // Wire node 0's events into the hub as the node host does, through a verdict listener here.
    net.nodes[0]!.onVerdict((verdict, state) => hub.emit({ type: 'task.decided', taskId: verdict.taskId, requester: state.spec.requester, verdict }))
    api = await createApiServer({ node: net.nodes[0]!, events: hub, eventLimits: { streamsPerClient: 2 } })
  })

  after(async () => {
    await api?.close()
    await net?.stop()
  })

  it('streams a requester’s verdicts as they happen, and resumes after Last-Event-ID', async () => {
    const url = `${api.url}/v1/events?requester=${requester.address}&types=task.decided`
    const stream = await openStream(url)
    const { taskId } = await submitAndDecide(net, 0, await signedSpec(1))
    const [frame] = await stream.read(1)
    stream.close()
    assert.equal(frame!.data.type, 'task.decided')
    assert.equal(frame!.data.taskId, taskId)
    assert.equal((frame!.data.verdict as { outcome: string }).outcome, 'verified')
    assert.equal(frame!.id, String(frame!.data.id))

    const second = await submitAndDecide(net, 0, await signedSpec(2))
    const resumed = await readFrames(url, 1, { 'last-event-id': frame!.id! })
    assert.equal(resumed[0]!.data.taskId, second.taskId)
  })

  it('tells a client that resumes from beyond the buffer that it missed events', async () => {
    const frames = await readFrames(`${api.url}/v1/events?types=task.decided`, 1, { 'last-event-id': '100000' })
    assert.equal(frames[0]!.data.type, 'stream.gap')
    assert.equal(frames[0]!.id, undefined)
  })

  it('refuses a malformed filter, and more streams per client than its bound', async () => {
    const bad = await fetch(`${api.url}/v1/events?task=0x12`)
    assert.equal(bad.status, 400)
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'API_BAD_EVENT_FILTER')
    const unknown = await fetch(`${api.url}/v1/events?types=task.nope`)
    assert.equal(unknown.status, 400)

    const aborts = [new AbortController(), new AbortController()]
    const open = await Promise.all(aborts.map((a) => fetch(`${api.url}/v1/events`, { signal: a.signal })))
    assert.deepEqual(open.map((r) => r.status), [200, 200])
    const third = await fetch(`${api.url}/v1/events`)
    assert.equal(third.status, 429)
    assert.equal(((await third.json()) as { error: { code: string } }).error.code, 'API_TOO_MANY_STREAMS')
    for (const a of aborts) a.abort()
  })

  it('is read-only: the explorer routes answer GET only, and admin routes still need the token', async () => {
    const post = await fetch(`${api.url}/v1/explorer/network`, { method: 'POST' })
    assert.equal(post.status, 405)
    assert.equal((await fetch(`${api.url}/v1/events`, { method: 'POST' })).status, 405)
    assert.equal((await fetch(`${api.url}/v1/admin/peers`)).status, 403)
    const network = (await (await fetch(`${api.url}/v1/explorer/network`)).json()) as { nodes: { address: Address; self: boolean }[] }
    assert.ok(network.nodes.some((n) => n.self && n.address === net.nodes[0]!.address))
    const tasks = (await (await fetch(`${api.url}/v1/explorer/tasks?outcome=verified`)).json()) as { tasks: { taskId: Hex }[] }
    assert.ok(tasks.tasks.length >= 2)
  })
})
