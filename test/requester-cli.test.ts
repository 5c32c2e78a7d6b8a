import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parseEther } from 'viem'
import { EscrowAbi } from '../src/chain/generated/contracts.ts'
import { main } from '../src/cli/main.ts'
import { exitCodes } from '../src/cli/options.ts'
import { exampleProgramPath } from '../src/programs/examplePrograms.ts'
import { wordCountReference } from '../src/programs/wordCount.ts'
import { countWordsLocally, formatWordCounts } from '../examples/word-frequencies/wordFrequencies.ts'
import { startRequesterNetwork } from './helpers/requesterNetwork.ts'
import type { RequesterNetwork } from './helpers/requesterNetwork.ts'
import { tempDir } from './helpers/tempDir.ts'

// The requester commands end to end against node APIs and anvil (test/helpers/requesterNetwork.ts),
// and every bad input: a clear message, its own exit code, and nothing submitted.

const wordCount = exampleProgramPath('word-count')
const merge = new URL('../programs/build/word-count-merge.wasm', import.meta.url).pathname

describe('requester CLI', { timeout: 60_000 }, () => {
  let net: RequesterNetwork
  let dir: string
  let connection: string[]
  let env: Record<string, string>

  async function cli(...args: string[]) {
    const out: string[] = []
    const err: string[] = []
    const code = await main(['node', 'veritask', ...args], {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      signal: new AbortController().signal,
      env,
    })
    return { code, stdout: out.join('\n'), stderr: err.join('\n') }
  }
  const deposited = () =>
    net.chain.publicClient.readContract({ address: net.chain.contracts.escrow, abi: EscrowAbi, functionName: 'depositOf', args: [net.requester.address] })

  before(async () => {
    net = await startRequesterNetwork('cli')
    dir = tempDir('veritask-requester-cli-')
    // An empty network file: flags and env only, whatever .devnet/network.json holds.
    await writeFile(join(dir, 'network.json'), '{}')
    connection = ['--rpc-url', net.chain.anvil.rpcUrl, '--node', net.apis[0]!.url, '--node', net.apis[1]!.url, '--settlement', net.chain.contracts.settlement, '--network', join(dir, 'network.json')]
    env = { VERITASK_KEY: net.requesterKey }
    await mkdir(join(dir, 'texts', 'more'), { recursive: true })
    await writeFile(join(dir, 'texts', 'a.txt'), 'The cat sat on the mat.\nThe dog sat on the log.\n'.repeat(3))
    await writeFile(join(dir, 'texts', 'more', 'b.txt'), 'A cat and a dog and a cat.\n'.repeat(4))
    await writeFile(join(dir, 'texts', 'empty.txt'), '')
    await mkdir(join(dir, 'nothing'))
    await writeFile(join(dir, 'nothing', 'empty.txt'), '')
    await writeFile(join(dir, 'empty.txt'), '')
    await writeFile(join(dir, 'not.wasm'), '(module (func (export "run")))')
  })

  after(() => net.stop())

  it('deposits, submits a task and runs a job with a reduce, with --json', async () => {
    const deposit = await cli('deposit', '0.5', ...connection, '--json')
    assert.equal(deposit.code, exitCodes.ok, deposit.stderr)
    assert.equal(JSON.parse(deposit.stdout).deposited, parseEther('0.5').toString())

    const submit = await cli('submit', wordCount, '--input', join(dir, 'texts', 'a.txt'), '--fee', '0.000001', ...connection, '--json')
    assert.equal(submit.code, exitCodes.ok, submit.stderr)
    const task = JSON.parse(submit.stdout) as { taskId: string; outcome: string; output: string }
    assert.equal(task.outcome, 'verified')
    assert.deepEqual(Buffer.from(task.output, 'base64'), Buffer.from(wordCountReference(await readFile(join(dir, 'texts', 'a.txt')))))

    const overview = await cli('status', ...connection, '--json')
    assert.equal(overview.code, exitCodes.ok, overview.stderr)
    const { escrow, nodeApiUrl } = JSON.parse(overview.stdout) as { escrow: { deposited: string }; nodeApiUrl: string }
    assert.deepEqual([escrow.deposited, nodeApiUrl], [parseEther('0.5').toString(), net.apis[0]!.url])

    const status = await cli('status', task.taskId, ...connection, '--json')
    assert.equal(status.code, exitCodes.ok, status.stderr)
    assert.equal(JSON.parse(status.stdout).phase, 'decided')
    const result = await cli('result', task.taskId, ...connection, '--out', join(dir, 'one.tsv'))
    assert.equal(result.code, exitCodes.ok, result.stderr)
    assert.deepEqual(await readFile(join(dir, 'one.tsv')), Buffer.from(wordCountReference(await readFile(join(dir, 'texts', 'a.txt')))))

    const report = join(dir, 'job.json')
    const out = join(dir, 'counts.tsv')
    const job = await cli('job', wordCount, '--input', join(dir, 'texts'), '--reduce', merge, '--chunk-size', '40', '--fee', '0.000001', '--report', report, '--out', out, ...connection)
    assert.equal(job.code, exitCodes.ok, job.stderr)
    assert.match(job.stdout, /job complete: \d+ chunks/)
    const texts = [await readFile(join(dir, 'texts', 'a.txt')), await readFile(join(dir, 'texts', 'more', 'b.txt'))]
    assert.deepEqual(await readFile(out), Buffer.from(formatWordCounts(countWordsLocally(texts))))
    const written = JSON.parse(await readFile(report, 'utf8')) as { status: string; chunks: Array<{ source: string; taskId: string }>; outputsRoot: string }
    assert.equal(written.status, 'complete')
    assert.ok(written.chunks.length > 4)
    assert.deepEqual([...new Set(written.chunks.map((c) => c.source))], ['a.txt', 'more/b.txt'])
    assert.ok(written.chunks.every((c) => /^0x[0-9a-f]{64}$/.test(c.taskId)))
    assert.match(written.outputsRoot, /^0x[0-9a-f]{64}$/)
  })

  it('gives each bad input its own exit code and a message, and submits nothing', async () => {
    const before = net.accepted()
    const depositBefore = await deposited()
    const cases: Array<[string, string[], number, RegExp]> = [
      ['missing program', ['submit', join(dir, 'missing.wasm'), '--input', join(dir, 'texts', 'a.txt')], exitCodes.inputNotFound, /Cannot read the program .*missing\.wasm/],
      ['missing input file', ['submit', wordCount, '--input', join(dir, 'missing.txt')], exitCodes.inputNotFound, /Cannot read the input .*missing\.txt/],
      ['missing input directory', ['job', wordCount, '--input', join(dir, 'missing-dir')], exitCodes.inputNotFound, /The input .*missing-dir does not exist/],
      ['empty input file', ['submit', wordCount, '--input', join(dir, 'empty.txt')], exitCodes.inputEmpty, /is empty/],
      ['directory of empty files', ['job', wordCount, '--input', join(dir, 'nothing')], exitCodes.inputEmpty, /no bytes to compute on/],
      ['non-WASM program', ['submit', join(dir, 'not.wasm'), '--input', join(dir, 'texts', 'a.txt')], exitCodes.invalidProgram, /not a WebAssembly module/],
      ['non-WASM reduce', ['job', wordCount, '--input', join(dir, 'texts'), '--reduce', join(dir, 'not.wasm')], exitCodes.invalidProgram, /not a WebAssembly module/],
      ['insufficient escrow', ['job', wordCount, '--input', join(dir, 'texts'), '--chunk-size', '40', '--fee', '1'], exitCodes.insufficientEscrow, /nothing was submitted[\s\S]*hint: Deposit at least/],
      ['limits the network refuses', ['submit', wordCount, '--input', join(dir, 'texts', 'a.txt'), '--fuel', '60000000000'], exitCodes.rejected, /limits are outside/],
    ]
    for (const [name, args, code, message] of cases) {
      const run = await cli(...args, ...connection)
      assert.equal(run.code, code, `${name}: ${run.stderr}`)
      assert.match(run.stderr, message, name)
      assert.equal(run.stdout, '', `${name} prints nothing on stdout`)
    }
    assert.equal(net.accepted(), before, 'no node accepted anything')
    assert.equal(await deposited(), depositBefore)
  })

  it('names an unreachable node, an unreachable chain and a missing key with their own exit codes', async () => {
    const settlement = ['--settlement', net.chain.contracts.settlement, '--network', join(dir, 'network.json')]
    const args = ['submit', wordCount, '--input', join(dir, 'texts', 'a.txt')]
    const node = await cli(...args, '--rpc-url', net.chain.anvil.rpcUrl, '--node', 'http://127.0.0.1:1', ...settlement)
    assert.equal(node.code, exitCodes.nodeUnreachable, node.stderr)
    assert.match(node.stderr, /No node API answered at http:\/\/127\.0\.0\.1:1/)
    const chain = await cli(...args, '--rpc-url', 'http://127.0.0.1:9', '--node', net.apis[0]!.url, ...settlement)
    assert.equal(chain.code, exitCodes.chainUnreachable, chain.stderr)
    assert.match(chain.stderr, /on the chain at http:\/\/127\.0\.0\.1:9/)
    env = {}
    try {
      const keyless = await cli(...args, ...connection)
      assert.equal(keyless.code, exitCodes.usage)
      assert.match(keyless.stderr, /No requester key: set \$VERITASK_KEY/)
    } finally {
      env = { VERITASK_KEY: net.requesterKey }
    }
  })
})
