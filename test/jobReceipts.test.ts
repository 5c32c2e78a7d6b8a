import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { startLocalNetwork } from '../src/devnet/localNetwork.ts'
import type { LocalNetwork } from '../src/devnet/localNetwork.ts'
import { exampleProgramPath } from '../src/programs/examplePrograms.ts'
import type { Fetch } from '../src/sdk/index.ts'
import { localRequester } from './helpers/localRequester.ts'

// A job whose chunk is left out of its epoch's batch (the nodes answer 410 RECEIPT_OMITTED, as for
// a task whose spec crossed the epoch boundary while the batch was built): the SDK runs the chunk
// again and proves the new task, over a live local network that settles epochs on anvil.

describe('a job with an omitted receipt', { timeout: 150_000 }, () => {
  let net: LocalNetwork
  before(async () => {
    net = await startLocalNetwork({ nodes: 3, seed: 'job-omitted' })
  })
  after(() => net?.stop())

  it('runs the chunk again as a new task and ends with a valid receipt for it', async () => {
    // The first task whose receipt is asked for is answered 410, every time it is asked.
    let omitted: string | undefined
    const omitting: Fetch = (url, init) => {
      const taskId = /\/v1\/tasks\/(0x[0-9a-fA-F]{64})\/receipt$/.exec(url)?.[1]
      if (taskId !== undefined && (omitted ??= taskId) === taskId) {
        const body = { error: { code: 'RECEIPT_OMITTED', message: 'The epoch settled without this task.' } }
        return Promise.resolve(new Response(JSON.stringify(body), { status: 410, headers: { 'content-type': 'application/json' } }))
      }
      return fetch(url, init)
    }
    const client = localRequester(net, { fetch: omitting })
    const fee = 10n ** 15n
    await client.deposit({ amount: 10n * fee })
    const text = new TextEncoder().encode('one two three\n'.repeat(40))
    const job = await client.submitJob({
      program: new Uint8Array(await readFile(exampleProgramPath('word-count'))),
      input: [{ path: 'words.txt', bytes: text }],
      chunkSize: 200,
      fee,
      receipts: true,
    })
    assert.equal(job.status, 'complete', JSON.stringify(job.counts))
    assert.equal(job.receiptsValid, true)
    const rerun = job.chunks.filter((c) => c.attempts.length > 1)
    assert.equal(rerun.length, 1, 'exactly the chunk whose receipt was omitted ran again')
    const chunk = rerun[0]!
    const [first, second] = chunk.attempts
    assert.equal(first!.taskId, omitted)
    assert.notEqual(second!.taskId, first!.taskId)
    assert.equal(chunk.taskId, second!.taskId)
    assert.equal(chunk.receipt?.taskId, second!.taskId)
    assert.ok(job.chunks.every((c) => c.receiptValid === true))
  })
})
