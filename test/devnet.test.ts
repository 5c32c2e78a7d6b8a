import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { startAnvil } from '../src/chain/anvil/startAnvil.ts'
import { readAddressesFile } from '../src/chain/deploy.ts'
import { exitCodes } from '../src/cli/options.ts'
import { runDevnet } from '../src/devnet/runDevnet.ts'
import { runCli } from './helpers/cli.ts'
import type { DevnetReport } from '../src/devnet/runDevnet.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'veritask-devnet-'))
after(() => rm(dir, { recursive: true, force: true }))

const cli = runCli

describe('devnet end to end', () => {
  it('verifies every task, settles each epoch on anvil, pays out what was charged, and proves a receipt', async () => {
    const receiptsFile = join(dir, 'receipts.json')
    const report = await runDevnet({ nodes: 5, tasks: 30, epochTasks: 10, seed: 'e2e', threads: 2, receiptsFile })
    assert.equal(report.verified, 30)
    assert.equal(report.correct, 30, 'every verified result equals a local computation')
    assert.equal(report.failed + report.unresolved, 0)
    assert.equal(report.agreement, true)
    // Each task is one spec, k commits and k reveals, its verifier's challenge and, when audited,
    // the auditor's commit and reveal; commits and reveals share batches: at most 1 + 2(k + 1) + 1
    // messages per task, whatever the node count.
    assert.ok(report.gossip.messagesPerTask > 1 && report.gossip.messagesPerTask <= 2 + 2 * 4, `${report.gossip.messagesPerTask} messages per task`)
    // k executions per task, and one more for each audited task.
    assert.equal(report.perNode.reduce((sum, n) => sum + n.executions, 0), 30 * 3 + report.audited)

    const s = report.settlement!
    assert.equal(s.epochs, 3)
    assert.ok(s.gasPerEpoch > 0)
    assert.equal(BigInt(s.requester.charged), 30n * 10n ** 15n)
    // Every token charged was claimed by an executor or the treasury: the books balance.
    const paid = report.perNode.reduce((sum, n) => sum + BigInt(n.earned), 0n) + BigInt(s.treasury.earned)
    assert.equal(paid, BigInt(s.requester.charged))
    assert.deepEqual([s.receiptCheck?.valid, s.receiptCheck?.tamperedRejected], [true, true])

    // The receipts file serves `veritask receipt`.
    const receipts = JSON.parse(await readFile(receiptsFile, 'utf8')) as Array<{ taskId: string; resultHash: string }>
    assert.equal(receipts.length, 30)
    const ok = await cli('receipt', receipts[7]!.taskId, '--receipts', receiptsFile, '--json')
    assert.equal(ok.code, exitCodes.ok, ok.stderr)
    assert.equal(JSON.parse(ok.stdout).offChain, true)

    const tamperedFile = join(dir, 'tampered.json')
    receipts[7]!.resultHash = `0x${'ab'.repeat(32)}`
    await writeFile(tamperedFile, JSON.stringify(receipts))
    const bad = await cli('receipt', receipts[7]!.taskId, '--receipts', tamperedFile)
    assert.equal(bad.code, exitCodes.failure)
    assert.match(bad.stdout, /off-chain {4}INVALID/)

    assert.equal((await cli('receipt', `0x${'00'.repeat(32)}`, '--receipts', receiptsFile)).code, exitCodes.failure)
    assert.equal((await cli('receipt', '0x1234', '--receipts', receiptsFile)).code, exitCodes.usage)
    assert.equal((await cli('receipt', receipts[0]!.taskId, '--receipts', join(dir, 'missing.json'))).code, exitCodes.failure)
  })

  it('runs without a chain, over a network with latency, with k = 5', async () => {
    // Without audits: every execution is one of the k seats'.
    const report = await runDevnet({ nodes: 6, tasks: 12, k: 5, auditPpm: 0, seed: 'latency', latencyMs: 3, threads: 2, chain: false })
    assert.deepEqual([report.verified, report.correct, report.agreement], [12, 12, true])
    assert.deepEqual(report.policy, { kind: 'replicate', k: 5, quorum: 3, auditPpm: 0 })
    assert.equal(report.perNode.reduce((sum, n) => sum + n.executions, 0), 12 * 5)
    assert.equal(report.settlement, null)
  })

  it('settles on an external chain with --rpc-url, and `veritask receipt --rpc-url` verifies on it', async () => {
    const anvil = await startAnvil()
    try {
      const receipts = join(dir, 'external-receipts.json')
      const addresses = join(dir, 'addresses.json')
      const run = await cli('devnet', '--rpc-url', anvil.rpcUrl, '--nodes', '4', '--tasks', '6', '--epoch-tasks', '3', '--json', '--receipts', receipts, '--addresses', addresses)
      assert.equal(run.code, exitCodes.ok, run.stderr)
      const report = JSON.parse(run.stdout) as DevnetReport
      assert.equal(report.settlement?.epochs, 2)
      const deployed = await readAddressesFile(addresses)
      assert.equal(deployed.settlement, report.settlement?.contracts.settlement)
      const [first] = JSON.parse(await readFile(receipts, 'utf8')) as Array<{ taskId: string }>
      const check = await cli('receipt', first!.taskId, '--receipts', receipts, '--rpc-url', anvil.rpcUrl, '--json')
      assert.equal(check.code, exitCodes.ok, check.stderr)
      assert.deepEqual([JSON.parse(check.stdout).offChain, JSON.parse(check.stdout).onChain], [true, true])
    } finally {
      await anvil.stop()
    }
  })

  it('fails clearly when --rpc-url does not answer, and writes nothing', async () => {
    const receipts = join(dir, 'unreachable.json')
    const run = await cli('devnet', '--rpc-url', 'http://127.0.0.1:9', '--tasks', '3', '--receipts', receipts)
    assert.equal(run.code, exitCodes.failure)
    assert.match(run.stderr, /No EVM JSON-RPC endpoint answers at http:\/\/127\.0\.0\.1:9/)
    await assert.rejects(readFile(receipts))
  })

  it('`veritask devnet --nodes 7 --tasks 100 --k 3 --json` prints one JSON report with verified: 100', () => {
    const run = spawnSync(
      process.execPath,
      ['bin/veritask.js', 'devnet', '--nodes', '7', '--tasks', '100', '--k', '3', '--json', '--receipts', join(dir, 'cli.json')],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    )
    assert.equal(run.status, 0, run.stderr)
    const report = JSON.parse(run.stdout) as DevnetReport
    assert.equal(report.nodes, 7)
    assert.equal(report.verified, 100)
    assert.equal(report.correct, 100)
    assert.equal(report.perNode.length, 7)
    assert.equal(report.settlement?.epochs, 2)
    assert.equal(run.stderr, '', 'nothing on stderr: no progress bar or logs when not on a terminal')
  })
})
