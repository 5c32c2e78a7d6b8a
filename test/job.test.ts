import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { main } from '../src/cli/main.ts'
import { exitCodes } from '../src/cli/options.ts'
import { contentId } from '../src/core/contentId.ts'
import { startLocalNetwork } from '../src/devnet/localNetwork.ts'
import type { LocalNetwork } from '../src/devnet/localNetwork.ts'
import { exampleProgramPath } from '../src/programs/examplePrograms.ts'
import { wordCountReference } from '../src/programs/wordCount.ts'
import { buildChunkOutputTree, planChunks } from '../src/sdk/index.ts'
import { localRequester } from './helpers/localRequester.ts'
import type { InputFile, JobReport, VeritaskClient } from '../src/sdk/index.ts'
import { countWordsLocally, parseWordCounts } from '../examples/word-frequencies/wordFrequencies.ts'

// The requester's whole path over a live local network (anvil, staked nodes with their HTTP APIs,
// real WebAssembly, epochs settled on-chain by the nodes): a word-frequency job of 1,000+ chunks
// through the SDK, checked against a plain local count; every chunk's receipt verified on-chain;
// a tampered receipt rejected.

const CHUNK_SIZE = 120

/** Deterministic text: `files` files of about `bytes` bytes each, words from a fixed vocabulary. */
function corpus(files: number, bytes: number): InputFile[] {
  const vocabulary = Array.from({ length: 300 }, (_, i) => `w${keccak256(stringToBytes(`word ${i}`)).slice(2, 4 + (i % 7))}`)
  let state = keccak256(stringToBytes('corpus'))
  const next = () => {
    state = keccak256(state)
    return Number.parseInt(state.slice(2, 10), 16)
  }
  return Array.from({ length: files }, (_, f) => {
    const lines: string[] = []
    let size = 0
    while (size < bytes) {
      const line = Array.from({ length: 6 + (next() % 6) }, () => vocabulary[next() % vocabulary.length]!).join(next() % 3 === 0 ? ', ' : ' ')
      lines.push(line)
      size += line.length + 1
    }
    return { path: `book-${String(f).padStart(2, '0')}.txt`, bytes: new TextEncoder().encode(`${lines.join('\n')}\n`) }
  })
}

describe('a job over the live local network', { timeout: 180_000 }, () => {
  let net: LocalNetwork
  let client: VeritaskClient
  let job: JobReport
  const files = corpus(12, 10_500)

  before(async () => {
    net = await startLocalNetwork({ nodes: 4, seed: 'job-e2e' })
    client = localRequester(net)
  })

  after(() => net?.stop())

  it('maps 1,000+ chunks and reduces them to the same word counts as a local computation', async () => {
    const chunks = planChunks({ files, chunkSize: CHUNK_SIZE })
    assert.ok(chunks.length >= 1_000, `${chunks.length} chunks`)
    const fee = 10n ** 15n
    await client.deposit({ amount: fee * BigInt(chunks.length + 10) })

    job = await client.submitJob({
      program: new Uint8Array(await readFile(exampleProgramPath('word-count'))),
      reduce: new Uint8Array(await readFile(new URL('../programs/build/word-count-merge.wasm', import.meta.url))),
      input: files,
      chunkSize: CHUNK_SIZE,
      fee,
      // The protocol's spot-check policy: one executor per chunk, one in five re-executed by a
      // verifier, a mismatch escalated to full replication. Replication is covered by
      // test/devnet.test.ts; here it would only multiply the run time of 1,000+ tasks.
      policy: { kind: 'sample', ratePpm: 200_000 },
      concurrency: 48,
      receipts: true,
    })
    assert.equal(job.status, 'complete', JSON.stringify(job.counts))
    assert.equal(job.chunks.length, chunks.length)
    assert.deepEqual(job.counts, { pending: 0, verified: chunks.length, failed: 0, unresolved: 0, rejected: 0 })

    // The answer: the reduce's verified output equals a plain local count over the same files.
    assert.deepEqual(parseWordCounts(job.output!), countWordsLocally(files.map((f) => f.bytes)))
    // Every chunk's verified output equals a local run of the program's reference: same outputs root.
    const local = chunks.map((c) => ({ index: c.index, input: contentId(c.bytes), resultHash: contentId(wordCountReference(c.bytes)) }))
    assert.equal(job.outputsRoot, buildChunkOutputTree(local).root)
  })

  it('has a receipt for every chunk that verifies on-chain, and rejects a tampered one', async () => {
    assert.equal(job.receiptsValid, true)
    for (const chunk of job.chunks) {
      assert.equal(chunk.receiptValid, true, `chunk ${chunk.index}`)
      assert.equal(chunk.receipt?.taskId, chunk.taskId)
      assert.equal(chunk.receipt?.resultHash, chunk.resultHash)
    }
    assert.equal(job.reduceSteps.at(-1)?.receiptValid, true)

    const receipt = job.chunks[job.chunks.length >> 1]!.receipt!
    assert.deepEqual(await client.verifyReceipt({ receipt }), { offChain: true, onChain: true, matches: true, valid: true })
    const otherResult = await client.verifyReceipt({ receipt: { ...receipt, resultHash: job.chunks[0]!.resultHash! } })
    assert.deepEqual([otherResult.offChain, otherResult.onChain, otherResult.valid], [false, false, false])
    const fewerExecutors = await client.verifyReceipt({ receipt: { ...receipt, executors: receipt.executors.slice(1) } })
    assert.equal(fewerExecutors.valid, false)
    const otherEpoch = await client.verifyReceipt({ receipt: { ...receipt, epoch: receipt.epoch + 1n } })
    assert.equal(otherEpoch.onChain, false)
    // A valid receipt for another task does not pass for this one.
    assert.equal((await client.verifyReceipt({ receipt, taskId: job.chunks[0]!.taskId! })).valid, false)
  })

  it('`veritask result <taskId> --receipt` prints a chunk output with its receipt verified on-chain', async () => {
    const chunk = job.chunks[7]!
    const out: string[] = []
    const err: string[] = []
    // The second node first: it did not take the task, so the result comes from the node after it.
    const connection = ['--rpc-url', net.rpcUrl, '--node', net.nodeApiUrls[1]!, '--node', net.nodeApiUrls[0]!, '--settlement', net.contracts.settlement]
    const code = await main(['node', 'veritask', 'result', chunk.taskId!, '--receipt', '--json', ...connection], {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      signal: new AbortController().signal,
      env: { VERITASK_KEY: net.requesterKey },
    })
    assert.equal(code, exitCodes.ok, err.join('\n'))
    const printed = JSON.parse(out.join('\n')) as { outcome: string; resultHash: string; output: string; receiptValid: boolean }
    assert.deepEqual([printed.outcome, printed.resultHash, printed.receiptValid], ['verified', chunk.resultHash, true])
    assert.equal(contentId(Buffer.from(printed.output, 'base64')), chunk.resultHash)
  })
})
