import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BadResponseError, NodeApiError, NodeUnreachableError } from './errors.ts'
import { createNodeApi } from './nodeApi.ts'
import type { Fetch } from './nodeApi.ts'

// The HTTP side against a scripted fetch: which answers are retried, which are final, and how
// fallback URLs take over. No sockets, no sleeping (the waits are recorded instead).

type Answer = number | 'down' | { status: number; body: unknown }

function scripted(answers: Record<string, Answer[]>) {
  const calls: string[] = []
  const fetch: Fetch = async (url) => {
    calls.push(url)
    const base = Object.keys(answers).find((b) => url.startsWith(b))!
    const answer = answers[base]!.shift() ?? 200
    if (answer === 'down') throw new TypeError('fetch failed')
    const { status, body } = typeof answer === 'number' ? { status: answer, body: answer < 400 ? { ok: true } : { error: { code: `CODE_${answer}`, message: `failed ${answer}`, hint: 'a hint' } } } : answer
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
  }
  const waits: number[] = []
  return { calls, fetch, waits, sleep: async (ms: number) => void waits.push(ms) }
}

const A = 'http://a.test'
const B = 'http://b.test'

describe('sdk node API transport', () => {
  it('retries 5xx and connection failures with growing waits, then answers', async () => {
    const s = scripted({ [A]: ['down', 503, 500, 200] })
    const api = createNodeApi({ urls: [A], fetch: s.fetch, sleep: s.sleep, random: () => 1, retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 } })
    assert.deepEqual(await api.json('/v1/status'), { ok: true })
    assert.equal(s.calls.length, 4)
    assert.deepEqual(s.waits, [100, 200, 400])
  })

  it('throws a 4xx at once as a NodeApiError with the node’s code, status and hint', async () => {
    const s = scripted({ [A]: [422], [B]: [] })
    const api = createNodeApi({ urls: [A, B], fetch: s.fetch, sleep: s.sleep })
    await assert.rejects(api.json('/v1/tasks', { method: 'POST', json: { fee: 1n } }), (e: unknown) => {
      assert.ok(e instanceof NodeApiError)
      assert.deepEqual([e.code, e.status, e.hint], ['CODE_422', 422, 'a hint'])
      return true
    })
    assert.deepEqual(s.calls, [`${A}/v1/tasks`], 'no retry, no fallback')
  })

  it('falls back to the next URL and keeps preferring the one that answered', async () => {
    const s = scripted({ [A]: ['down', 'down'], [B]: [200, 200] })
    const api = createNodeApi({ urls: [A, B], fetch: s.fetch, sleep: s.sleep, retry: { attempts: 2 } })
    await api.json('/v1/status')
    assert.equal(api.preferredUrl, B)
    await api.json('/v1/status')
    assert.deepEqual(s.calls, [`${A}/v1/status`, `${A}/v1/status`, `${B}/v1/status`, `${B}/v1/status`])
    // `startAt` asks another URL first without moving the preference.
    await api.json('/v1/x', { startAt: 0 })
    assert.equal(s.calls.at(-1), `${A}/v1/x`)
    assert.equal(api.preferredUrl, B)
  })

  it('names every URL when none answers, and keeps a node’s own 503 code when it answered', async () => {
    const down = scripted({ [A]: ['down', 'down'], [B]: ['down', 'down'] })
    const api = createNodeApi({ urls: [A, B], fetch: down.fetch, sleep: down.sleep, retry: { attempts: 2 } })
    await assert.rejects(api.json('/v1/status'), (e: unknown) => e instanceof NodeUnreachableError && e.details.attempts === 4)
    const busy = scripted({ [A]: [503, 503] })
    const one = createNodeApi({ urls: [A], fetch: busy.fetch, sleep: busy.sleep, retry: { attempts: 2 } })
    await assert.rejects(one.json('/v1/tasks'), (e: unknown) => e instanceof NodeApiError && e.code === 'CODE_503')
  })

  it('refuses a 2xx body that is not JSON', async () => {
    const s = scripted({ [A]: [{ status: 200, body: 'not json' }] })
    await assert.rejects(createNodeApi({ urls: [A], fetch: s.fetch, sleep: s.sleep }).json('/v1/status'), BadResponseError)
  })
})
