import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generatePrivateKey } from 'viem/accounts'
import { AnchorFailedError } from '../chain/viem/anchors.ts'
import { contentId } from '../core/contentId.ts'
import { anchorLeaf } from '../core/taskAnchor.ts'
import { wordCountReference } from '../programs/wordCount.ts'
import { countWordsLocally, formatWordCounts } from '../../examples/word-frequencies/wordFrequencies.ts'
import { mergeProgram as merge, startRequesterNetwork, wordCountProgram as wordCount } from '../../test/helpers/requesterNetwork.ts'
import type { RequesterNetwork } from '../../test/helpers/requesterNetwork.ts'
import { buildChunkOutputTree } from './chunkOutputs.ts'
import { planChunks } from './chunking.ts'
import { createVeritaskClient } from './createVeritaskClient.ts'
import type { VeritaskClient } from './createVeritaskClient.ts'
import { EmptyInputError, InsufficientEscrowError, InsufficientTokensError, InvalidProgramError, JobInterruptedError, NodeUnreachableError } from './errors.ts'
import type { Fetch } from './nodeApi.ts'

// The SDK against three in-memory nodes behind their HTTP APIs, with escrow on a real anvil
// (test/helpers/requesterNetwork.ts). The real WebAssembly path is test/job.test.ts's.

const text = (s: string) => new TextEncoder().encode(s)
const deadUrl = 'http://127.0.0.1:1'
const fee = 1_000n

describe('sdk client against node APIs and anvil', { timeout: 60_000 }, () => {
  let net: RequesterNetwork
  let client: VeritaskClient
  const accepted = () => net.accepted()
  const connect = (overrides: Partial<Parameters<typeof createVeritaskClient>[0]> = {}) =>
    createVeritaskClient({
      rpcUrl: net.chain.anvil.rpcUrl,
      nodeApiUrl: net.apis[0]!.url,
      account: net.requester,
      settlement: net.chain.contracts.settlement,
      pollIntervalMs: 10,
      ...overrides,
    })

  before(async () => {
    net = await startRequesterNetwork('sdk')
    client = connect()
  })

  after(() => net.stop())

  it('deposits into escrow and reports what is spendable', async () => {
    const { deposited, hash } = await client.deposit({ amount: 10n ** 6n })
    assert.equal(deposited, 10n ** 6n)
    assert.match(hash, /^0x[0-9a-f]{64}$/)
    const escrow = await client.getEscrow()
    assert.equal(escrow.deposited, 10n ** 6n)
    // These nodes cannot report charges: the client counts its own submissions against the deposit.
    assert.equal(escrow.source, 'client')
    assert.equal(escrow.spendable, 10n ** 6n - client.ledger.submittedFees)
  })

  it('submits a task and waits for its verified, checked output', async () => {
    const input = text('the quick brown fox jumps over the lazy dog, the end')
    const { taskId, duplicate, signed } = await client.submitTask({ program: wordCount, input, fee })
    assert.equal(duplicate, false)
    // These nodes read no chain and name no anchors contract: the id travels anchored alone.
    assert.equal((await client.chain()).anchors, undefined)
    assert.deepEqual(signed.anchor, { root: anchorLeaf(taskId), index: 0, proof: [] })
    const result = await client.waitForResult({ taskId })
    assert.equal(result.outcome, 'verified')
    assert.deepEqual(result.output, wordCountReference(input))
    assert.equal(result.verdict.resultHash, contentId(wordCountReference(input)))
    const task = await client.getTask({ taskId })
    assert.equal(task.phase, 'decided')
    assert.equal(task.verdict?.outcome, 'verified')
  })

  it('refuses a program that is not WebAssembly before sending anything', async () => {
    const before = accepted()
    await assert.rejects(client.submitTask({ program: text('(module)'), input: text('x'), fee }), InvalidProgramError)
    await assert.rejects(client.uploadProgram({ program: text('not wasm at all') }), (e: unknown) => e instanceof InvalidProgramError && e.code === 'SDK_INVALID_PROGRAM')
    assert.equal(accepted(), before)
  })

  it('anchors at the TaskAnchors contract it is given, and names a wallet that cannot pay for it before submitting', async () => {
    // Gas, no tokens: the anchor's minimum fee is paid from the wallet, not the escrow.
    const broke = connect({ account: generatePrivateKey(), anchors: net.chain.contracts.anchors })
    assert.equal((await broke.chain()).anchors, net.chain.contracts.anchors)
    const before = accepted()
    await assert.rejects(broke.submitTask({ program: wordCount, input: text('unpaid'), fee }), (e: unknown) => {
      assert.ok(e instanceof InsufficientTokensError, String(e))
      assert.equal(e.code, 'SDK_INSUFFICIENT_TOKENS')
      assert.ok(e.cause instanceof AnchorFailedError && e.cause.code === 'CHAIN_ANCHOR_FAILED')
      assert.match(e.hint ?? '', /wallet/)
      return true
    })
    assert.equal(accepted(), before, 'nothing was submitted')
  })

  it('falls back to the second node API URL when the first is down', async () => {
    const fallback = connect({ nodeApiUrl: [deadUrl, net.apis[1]!.url], retry: { attempts: 2, baseDelayMs: 1 } })
    const { programId } = await fallback.uploadProgram({ program: wordCount })
    const { taskId } = await fallback.submitTask({ program: programId, input: text('fallback works'), fee })
    assert.equal((await fallback.waitForResult({ taskId })).outcome, 'verified')
    assert.equal(fallback.api.preferredUrl, net.apis[1]!.url)
  })

  it('retries a failing node API with backoff, and names it when it never answers', async () => {
    let calls = 0
    const flaky: Fetch = (url, init) => (++calls <= 2 ? Promise.reject(new TypeError('fetch failed')) : fetch(url, init))
    const retrying = connect({ retry: { attempts: 3, baseDelayMs: 1 }, fetch: flaky })
    const { taskId } = await retrying.submitTask({ program: wordCount, input: text('third time lucky'), fee })
    assert.ok(calls >= 4, `status, then the POST after two failures: ${calls} calls`)
    assert.equal((await client.waitForResult({ taskId })).outcome, 'verified')

    const dead = connect({ nodeApiUrl: [deadUrl, 'http://127.0.0.1:2'], retry: { attempts: 2, baseDelayMs: 1 } })
    await assert.rejects(dead.submitTask({ program: wordCount, input: text('x'), fee }), (e: unknown) => {
      assert.ok(e instanceof NodeUnreachableError)
      assert.equal(e.code, 'SDK_NODE_UNREACHABLE')
      assert.deepEqual(e.details.attempts, 4)
      return true
    })
  })

  it('runs a job: chunks mapped, reduced, the same answer as a local count, with the outputs root', async () => {
    const files = [
      { path: 'a.txt', bytes: text('It was the best of times, it was the worst of times,\nit was the age of wisdom\n'.repeat(6)) },
      { path: 'sub/b.txt', bytes: text('Call me Ishmael. Some years ago, never mind how long precisely\n'.repeat(5)) },
    ]
    const seen: number[] = []
    const job = await client.submitJob({ program: wordCount, reduce: merge, input: files, chunkSize: 64, fee, onProgress: (p) => p.phase === 'map' && seen.push(p.done) })
    const chunks = planChunks({ files, chunkSize: 64 })
    assert.ok(chunks.length > 10)
    assert.equal(job.status, 'complete')
    assert.equal(job.chunks.length, chunks.length)
    assert.ok(job.chunks.every((c) => c.status === 'verified' && c.attempts.length === 1))
    assert.deepEqual(job.output, formatWordCounts(countWordsLocally(files.map((f) => f.bytes))))
    const local = chunks.map((c) => ({ index: c.index, input: contentId(c.bytes), resultHash: contentId(wordCountReference(c.bytes)) }))
    assert.equal(job.outputsRoot, buildChunkOutputTree(local).root)
    assert.equal(job.reduceSteps.length, 1)
    assert.equal(job.feesSubmitted, fee * BigInt(chunks.length + 1))
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b))
    assert.equal(seen.at(-1), chunks.length)
  })

  it('reports failed and unresolved chunks instead of dropping them, and resumes only what is unfinished', async () => {
    const inputs = [text('alpha beta'), text('TRAP here'), text('gamma'), text('SPLIT brain'), text('delta')]
    net.switches.split = true
    const first = await client.submitJob({ program: wordCount, reduce: merge, input: inputs, fee, maxAttempts: 2 })
    assert.equal(first.status, 'incomplete')
    assert.deepEqual(first.chunks.map((c) => c.status), ['verified', 'failed', 'verified', 'unresolved', 'verified'])
    assert.equal(first.chunks[1]!.attempts.length, 1, 'a deterministic failure is not retried')
    assert.deepEqual(first.chunks[3]!.attempts.map((a) => a.outcome), ['unresolved', 'unresolved'])
    assert.notEqual(first.chunks[3]!.attempts[0]!.taskId, first.chunks[3]!.attempts[1]!.taskId, 'a retry is a new task')
    assert.equal(first.outputsRoot, null)
    assert.deepEqual(first.reduceSteps, [])
    assert.deepEqual(first.counts, { pending: 0, verified: 3, failed: 1, unresolved: 1, rejected: 0 })

    net.switches.split = false
    const before = accepted()
    const second = await client.submitJob({ program: wordCount, reduce: merge, input: inputs, fee, maxAttempts: 2, resume: first })
    assert.equal(accepted() - before, 1, 'only the unresolved chunk ran again')
    assert.deepEqual(second.chunks.map((c) => c.status), ['verified', 'failed', 'verified', 'verified', 'verified'])
    assert.equal(second.chunks[3]!.attempts.length, 3)
    assert.equal(second.status, 'incomplete', 'a failed chunk keeps the job incomplete')
  })

  it('submits a chunk again after a refusal that says nothing about the job’s terms, and completes', async () => {
    // The node refuses the first five submissions as if the epoch turned each time (409
    // SPEC_WRONG_EPOCH): submitTask signs again three times, then the job pauses and tries again.
    let posts = 0
    const refusing: Fetch = async (input, init) => {
      if (init?.method === 'POST' && String(input).endsWith('/v1/tasks') && ++posts <= 5) {
        return new Response(JSON.stringify({ error: { code: 'SPEC_WRONG_EPOCH', message: 'The epoch turned.' } }), { status: 409, headers: { 'content-type': 'application/json' } })
      }
      return fetch(input, init)
    }
    const before = accepted()
    const job = await connect({ fetch: refusing }).submitJob({ program: wordCount, input: [text('first chunk'), text('second chunk')], fee, concurrency: 1 })
    assert.equal(job.status, 'complete', JSON.stringify(job.counts))
    assert.deepEqual(job.chunks.map((c) => c.attempts.map((a) => a.outcome)), [['verified'], ['verified']])
    assert.equal(posts, 7, 'five refused, then one submission per chunk')
    assert.equal(accepted() - before, 2)
  })

  it('reports an interrupted job with the tasks already submitted, and resumes it without submitting any twice', async () => {
    const inputs = Array.from({ length: 30 }, (_, i) => text(`interrupted chunk ${i} of thirty`))
    const before = accepted()
    const controller = new AbortController()
    const error = await client
      .submitJob({ program: wordCount, input: inputs, fee, concurrency: 4, signal: controller.signal, onProgress: (p) => p.done >= 5 && controller.abort(new Error('stop')) })
      .then(() => assert.fail('the job should have been interrupted'), (e: unknown) => e)
    assert.ok(error instanceof JobInterruptedError, String(error))
    const partial = error.report
    assert.equal(partial.status, 'incomplete')
    assert.ok(partial.counts.verified >= 5 && partial.counts.pending > 0, JSON.stringify(partial.counts))
    const submitted = partial.chunks.filter((c) => c.attempts.length > 0).length
    assert.equal(accepted() - before, submitted, 'every task the node accepted is in the report')

    const resumed = await client.submitJob({ program: wordCount, input: inputs, fee, resume: partial })
    assert.equal(resumed.status, 'complete')
    assert.equal(accepted() - before, inputs.length, 'each chunk was submitted once, across both runs')
    assert.ok(resumed.chunks.every((c) => c.attempts.length === 1 && c.attempts[0]!.outcome === 'verified'))
  })

  it('checks the escrow covers the whole job before submitting anything, and refuses an empty input', async () => {
    const before = accepted()
    const inputs = Array.from({ length: 50 }, (_, i) => text(`chunk ${i}`))
    await assert.rejects(client.submitJob({ program: wordCount, input: inputs, fee: 10n ** 5n }), (e: unknown) => {
      assert.ok(e instanceof InsufficientEscrowError)
      assert.equal(e.details.required, 50n * 10n ** 5n)
      return true
    })
    await assert.rejects(client.submitJob({ program: wordCount, input: [new Uint8Array()], fee }), EmptyInputError)
    await assert.rejects(client.submitJob({ program: wordCount, input: [{ path: 'empty.txt', bytes: new Uint8Array() }], fee }), EmptyInputError)
    assert.equal(accepted(), before)
  })
})
