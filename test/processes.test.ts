import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { contentId } from '../src/core/contentId.ts'
import { signTaskSpec } from '../src/core/taskSpec.ts'
import type { TaskSpec } from '../src/core/types.ts'
import { devnetPrivateKey } from '../src/devnet/accounts.ts'
import { createChainAnchorer, submitOverHttp, waitForReceiptOverHttp, waitForVerdictOverHttp } from '../src/devnet/httpRequester.ts'
import { startProcessNetwork } from '../src/devnet/processNetwork.ts'
import type { ProcessNetwork } from '../src/devnet/processNetwork.ts'
import { buildWorkload } from '../src/devnet/workload.ts'
import type { WorkloadItem } from '../src/devnet/workload.ts'
import { tempDir } from './helpers/tempDir.ts'
import type { SubmissionTerms } from '../src/sdk/actions/submitTask.ts'

const FEE = 10n ** 15n
const VICTIM = 2

/** What a node signed, read from its SQLite file while the node is down. */
function signedState(dataDir: string) {
  const db = new Database(join(dataDir, 'state.db'), { readonly: true })
  try {
    const commits = db.prepare('SELECT task_id, result_hash, salt, commitment FROM own_commits ORDER BY task_id').all()
    const batches = db.prepare('SELECT epoch, round, digest, signature FROM batch_signatures ORDER BY epoch, round').all()
    return { commits: commits as Array<{ task_id: string }>, batches: batches as Array<{ epoch: number; round: number }> }
  } finally {
    db.close()
  }
}

describe('node processes over libp2p, with a crash', () => {
  let net: ProcessNetwork
  const dir = tempDir('veritask-processes-')
  const logs: string[] = []
  /** Where the test stands, for the watchdog's report. */
  const progress: string[] = []
  const step = (label: string) => progress.push(`${label} (${Math.round(performance.now() / 1000)} s)`)
  before(async () => {
    step('starting')
    // Wide windows: five node processes, anvil and the test share two cores.
    net = await startProcessNetwork({ nodes: 5, dir, blockMs: 100, epochBlocks: 50n, onLog: (i, line) => logs.push(`${i} ${line}`), params: { commitWindowMs: 8_000, revealWindowMs: 5_000 } })
    step('started')
  })
  let failed = false
  after(async () => {
    // The nodes' settlement story, for whoever reads a failure.
    if (failed) for (const line of logs.filter((l) => /proposed|not signed|failed|settled|"warn"|"error"/.test(l)).slice(-60)) console.error(line.slice(0, 500))
    await net?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('verifies and settles a workload while one executor is killed -9 and restarted', async () => {
    // The test runner kills a file that runs too long without a word: say where it stood first.
    const watchdog = setTimeout(() => {
      console.error(`still running after 150 s, at: ${progress.join(' → ')}; the last node log lines:`)
      for (const line of logs.slice(-80)) console.error(line.slice(0, 400))
    }, 150_000)
    watchdog.unref()
    try {
      await crashAndRecover()
    } catch (error) {
      failed = true
      throw error
    } finally {
      clearTimeout(watchdog)
    }
  })

  async function crashAndRecover(): Promise<void> {
    await net.client.deposit(net.requester, 1_000n * FEE)
    const domain = { chainId: net.chainId, verifyingContract: net.contracts.settlement }
    const requester = privateKeyToAccount(devnetPrivateKey('veritask', 'requester'))
    // Its task ids are anchored on the chain before their draw blocks, from the same wallet.
    const anchorer = createChainAnchorer({ walletClient: net.requester, publicClient: net.publicClient, contracts: net.contracts })
    const workload = await buildWorkload('processes', 24)
    const tasks: Array<{ taskId: Hex; api: string; expected: Hex }> = []
    const submit = async (item: WorkloadItem, nonce: number, gateway: number) => {
      const api = net.nodes[gateway]!.ready!.api
      const spec = ({ epoch, drawBlock }: SubmissionTerms): TaskSpec => ({
        requester: net.requester.account.address,
        nonce: BigInt(nonce),
        runtime: 'wasm',
        program: contentId(item.programBytes),
        input: contentId(item.input),
        limits: item.limits,
        policy: { kind: 'replicate', k: 3, quorum: 2 },
        fee: FEE,
        epoch,
        drawBlock,
        deadline: BigInt(Date.now() + 120_000),
      })
      const taskId = await submitOverHttp(api, (terms) => signTaskSpec(requester, spec(terms), domain), item.programBytes, item.input, { anchorer, domain, head: () => net.publicClient.getBlockNumber({ cacheTime: 0 }) })
      tasks.push({ taskId, api, expected: contentId(item.expected) })
    }
    const others = [0, 1, 3, 4]

    // Phase 1: all nodes up; the victim dies with tasks in flight.
    step('phase 1')
    for (const [i, item] of workload.slice(0, 8).entries()) await submit(item, i, others[i % others.length]!)
    step('submitted 8')
    await net.nodes[VICTIM]!.kill('SIGKILL')
    step('killed')
    // Phase 2: it is down; backups take its seats.
    for (const [i, item] of workload.slice(8, 16).entries()) await submit(item, 8 + i, others[i % others.length]!)
    step('submitted 16')
    for (const [i, t] of tasks.entries()) {
      await waitForVerdictOverHttp(t.api, t.taskId, { signal: AbortSignal.timeout(60_000) })
      step(`verdict ${i}`)
    }
    const beforeRestart = signedState(net.nodes[VICTIM]!.dataDir)

    // Phase 3: it restarts on its data dir, rejoins, and takes tasks again, as a gateway too.
    const ready = await net.nodes[VICTIM]!.start()
    step('restarted')
    for (const [i, item] of workload.slice(16).entries()) await submit(item, 16 + i, [VICTIM, ...others][i % 5]!)
    step('submitted 24')

    // Every task is verified, and settled with a receipt the chain accepts for its right result:
    // the verdict and the batch stand on signed evidence, so the victim's crash and restart cost
    // nothing but the seats it missed.
    const outcomes: string[] = []
    for (const [i, t] of tasks.entries()) {
      const verdict = await waitForVerdictOverHttp(t.api, t.taskId, { signal: AbortSignal.timeout(60_000) }).catch((e: unknown) => {
        throw new Error(`no verdict for task ${i}`, { cause: e })
      })
      // As the SDK does, ask the gateway, then every other node: a node that did not take part in
      // settling an epoch may not hold its proposal.
      const apis = [t.api, ...net.nodes.flatMap((n) => (n.ready === null || n.ready.api === t.api ? [] : [n.ready.api]))]
      const found = new AbortController()
      const signal = AbortSignal.any([found.signal, AbortSignal.timeout(60_000)])
      const receipt = await Promise.any(apis.map((api) => waitForReceiptOverHttp(api, t.taskId, { signal })))
        .catch((e: unknown) => {
          throw new Error(`no receipt for task ${i}`, { cause: e })
        })
        .finally(() => found.abort())
      step(`receipt ${i}`)
      outcomes.push(`${i}: verdict ${verdict.outcome}, receipt ${receipt?.outcome ?? 'none'}`)
      if (verdict.outcome !== 'verified' || receipt?.outcome !== 'verified') continue
      assert.equal(verdict.resultHash, t.expected)
      assert.equal(receipt.resultHash, t.expected)
      assert.equal(await net.client.verifyReceipt(receipt), true)
      assert.equal(await net.client.verifyReceipt({ ...receipt, resultHash: t.taskId }), false)
    }
    const settled = outcomes.filter((o) => o.endsWith('verdict verified, receipt verified'))
    assert.equal(settled.length, tasks.length, `every task verified and settled:\n${outcomes.join('\n')}`)
    const status = (await (await fetch(`${ready.api}/v1/status`)).json()) as { stats: { specsAccepted: number } }
    assert.ok(status.stats.specsAccepted >= 8, 'the restarted node accepted the tasks after its restart')

    // Nothing it signed before the crash was signed differently after it.
    await net.nodes[VICTIM]!.kill('SIGTERM')
    const afterRun = signedState(net.nodes[VICTIM]!.dataDir)
    for (const commit of beforeRestart.commits) {
      assert.deepEqual(afterRun.commits.find((c) => c.task_id === commit.task_id), commit)
    }
    for (const batch of beforeRestart.batches) {
      assert.deepEqual(afterRun.batches.find((b) => b.epoch === batch.epoch && b.round === batch.round), batch)
    }
  }
})
