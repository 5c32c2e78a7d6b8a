import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createWalletClient, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { readAddressesFile } from '../src/chain/deploy.ts'
import { createSettlementClient } from '../src/chain/viem/createSettlementClient.ts'
import { defineDevChain } from '../src/chain/viem/defineDevChain.ts'
import { createChainAnchorer, submitOverHttp } from '../src/devnet/httpRequester.ts'
import { contentId } from '../src/core/contentId.ts'
import { parseReceipt } from '../src/core/receipt.ts'
import { signTaskSpec } from '../src/core/taskSpec.ts'
import type { Hex, TaskSpec } from '../src/core/types.ts'
import { startLocalNetwork } from '../src/devnet/localNetwork.ts'
import type { LocalNetwork } from '../src/devnet/localNetwork.ts'
import { buildWorkload } from '../src/devnet/workload.ts'
import { eventually } from './helpers/eventually.ts'
import { tempDir } from './helpers/tempDir.ts'
import type { SubmissionTerms } from '../src/sdk/actions/submitTask.ts'

const FEE = 10n ** 15n

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('live local network: nodes follow the chain and settle epochs themselves', () => {
  let net: LocalNetwork
  before(async () => {
    net = await startLocalNetwork({ nodes: 4, blockMs: 100, epochBlocks: 20n })
  })
  after(async () => {
    await net?.stop()
  })

  it('verifies tasks submitted over HTTP and serves receipts the chain accepts', async () => {
    const chain = defineDevChain(net.rpcUrl, net.chainId)
    const requester = createWalletClient({ chain, transport: http(net.rpcUrl), account: privateKeyToAccount(net.requesterKey) })
    const client = createSettlementClient(net.publicClient, net.contracts)
    await client.deposit(requester, 100n * FEE)

    const domain = net.nodes[0]!.domain
    // Each spec's id is anchored on the chain before its draw block, paid from the tokens beside the deposit.
    const anchorer = createChainAnchorer({ walletClient: requester, publicClient: net.publicClient, contracts: net.contracts })
    const workload = await buildWorkload('live', 6)
    const submitted: Array<{ taskId: Hex; expected: Hex }> = []
    for (const [i, item] of workload.entries()) {
      const gateway = net.nodeApiUrls[i % net.nodeApiUrls.length]!
      const spec = ({ epoch, drawBlock }: SubmissionTerms): TaskSpec => ({
        requester: requester.account.address,
        nonce: BigInt(i),
        runtime: 'wasm',
        program: contentId(item.programBytes),
        input: contentId(item.input),
        limits: item.limits,
        policy: { kind: 'replicate', k: 3, quorum: 2 },
        fee: FEE,
        epoch,
        drawBlock,
        deadline: BigInt(Date.now() + 60_000),
      })
      // A deposit counts from the first epoch whose snapshot follows it: until then the node answers 402 and the spec is signed again.
      const taskId = await submitOverHttp(gateway, (terms) => signTaskSpec(requester.account, spec(terms), domain), item.programBytes, item.input, { anchorer, domain, head: () => net.publicClient.getBlockNumber({ cacheTime: 0 }), retryMs: 30_000 })
      submitted.push({ taskId, expected: contentId(item.expected) })
    }

    for (const [i, { taskId, expected }] of submitted.entries()) {
      const gateway = net.nodeApiUrls[i % net.nodeApiUrls.length]!
      const task = await eventually(async () => {
        const { body } = await getJson(`${gateway}/v1/tasks/${taskId}`)
        return body.phase === 'decided' ? body : undefined
      })
      const verdict = task.verdict as { outcome: string; resultHash: Hex }
      assert.equal(verdict.outcome, 'verified')
      assert.equal(verdict.resultHash, expected)
      const receiptJson = await eventually(async () => {
        const { status, body } = await getJson(`${gateway}/v1/tasks/${taskId}/receipt`)
        if (status === 404) {
          assert.equal((body.error as { code: string }).code, 'RECEIPT_NOT_READY')
          return undefined
        }
        return body
      })
      const receipt = parseReceipt(receiptJson)
      assert.equal(receipt.resultHash, expected)
      assert.equal(await client.verifyReceipt(receipt), true)
      assert.equal(await client.verifyReceipt({ ...receipt, resultHash: contentId(new Uint8Array([1, 2, 3])) }), false)
    }
    // Every node saw the epochs settle, and a batch was paid for by its aggregator.
    assert.ok(net.nodes.every((n) => n.settler.stats().epochsSettled >= 1))
    assert.ok(net.nodes.some((n) => n.settler.stats().batchesSubmitted >= 1))
  })
})

describe('veritask devnet --serve', () => {
  it('prints the network, serves until interrupted, then stops cleanly', async () => {
    const { main } = await import('../src/cli/main.ts')
    const controller = new AbortController()
    let printed: (text: string) => void = () => {}
    const output = new Promise<string>((resolve) => (printed = resolve))
    const errors: string[] = []
    const dir = tempDir('veritask-serve-')
    const networkFile = join(dir, 'network.json')
    const exit = main(['node', 'veritask', 'devnet', '--serve', '--nodes', '3', '--json', '--network-file', networkFile, '--addresses', join(dir, 'addresses.json')], {
      stdout: (text) => printed(text),
      stderr: (text) => errors.push(text),
      signal: controller.signal,
    })
    // If the command ends before it prints, say why instead of waiting forever.
    const first = await Promise.race([output, exit.then((code) => assert.fail(`devnet --serve exited ${code}: ${errors.join('\n')}`))])
    const info = JSON.parse(first) as { rpcUrl: string; nodes: Array<{ api: string }>; requester: { privateKey: string } }
    assert.equal(info.nodes.length, 3)
    assert.match(info.requester.privateKey, /^0x[0-9a-f]{64}$/)
    for (const { api } of info.nodes) assert.equal((await getJson(`${api}/health`)).status, 200)
    // Each node names the anchors contract requesters anchor their task ids at.
    const anchors = (info as unknown as { contracts: { anchors: string } }).contracts.anchors
    for (const { api } of info.nodes) assert.equal((await getJson(`${api}/v1/status`)).body.anchors, anchors)
    // The CLI's requester commands and `veritask node` read these files.
    assert.deepEqual(JSON.parse(readFileSync(networkFile, 'utf8')), info)
    assert.equal((await readAddressesFile(join(dir, 'addresses.json'))).settlement, (info as unknown as { contracts: { settlement: string } }).contracts.settlement)
    controller.abort()
    assert.equal(await exit, 0)
    await assert.rejects(fetch(`${info.nodes[0]!.api}/health`))
    await assert.rejects(fetch(info.rpcUrl, { method: 'POST', body: '{}' }))
    rmSync(dir, { recursive: true, force: true })
  })
})
