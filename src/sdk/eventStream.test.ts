import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createEventStream } from './eventStream.ts'

describe('createEventStream', () => {
  it('asks the node for one requester’s events of the named types only', async () => {
    let asked: (url: string) => void
    const first = new Promise<string>((resolve) => (asked = resolve))
    const stream = createEventStream({
      url: () => 'http://node.test/',
      requester: '0x00000000000000000000000000000000000000aa',
      types: ['task.decided'],
      fetch: async (url) => {
        asked(String(url))
        return new Response('gone', { status: 404 })
      },
    })
    const stop = stream.subscribe(() => {})
    const url = new URL(await first)
    stop()
    assert.equal(url.pathname, '/v1/events')
    assert.equal(url.searchParams.get('requester'), '0x00000000000000000000000000000000000000aa')
    assert.equal(url.searchParams.get('types'), 'task.decided')
  })
})
