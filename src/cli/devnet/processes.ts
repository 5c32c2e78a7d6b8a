import { setMaxListeners } from 'node:events'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import type { Hex } from 'viem'
import { SettlementAbi } from '../../chain/generated/contracts.ts'
import { contentId } from '../../core/contentId.ts'
import { defaultParams } from '../../core/params.ts'
import { signTaskSpec } from '../../core/taskSpec.ts'
import { createNativeSigner } from '../../crypto/secp256k1.ts'
import type { TaskSpec } from '../../core/types.ts'
import { devnetPrivateKey } from '../../devnet/accounts.ts'
import { createChainAnchorer, submitOverHttp, waitForReceiptOverHttp } from '../../devnet/httpRequester.ts'
import { waitForResult } from '../../sdk/actions/waitForResult.ts'
import { createVeritaskClient } from '../../sdk/createVeritaskClient.ts'
import { startProcessNetwork } from '../../devnet/processNetwork.ts'
import { quantile } from '../../devnet/stats.ts'
import { buildWorkload } from '../../devnet/workload.ts'
import type { WorkloadItem } from '../../devnet/workload.ts'
import type { CommandContext } from '../context.ts'
import type { ProgressBar } from '../progress.ts'
import type { SubmissionTerms } from '../../sdk/actions/submitTask.ts'

export interface ProcessesOptions {
  nodes: number
  tasks: number
  k: number
  quorum: number
  /** How often the seats' unanimous results are audited (ppm); the default policy's rate when absent. */
  auditPpm?: number
  seed: string
  concurrency: number
  dir: string
  progress: ProgressBar | undefined
  /** The tasks to run; the seed's mixed workload (`buildWorkload`) by default. */
  workload?: readonly WorkloadItem[]
  /** Wait for every receipt and check it on-chain (default true); benchmarks skip it. */
  checkReceipts?: boolean
}

/** What `veritask devnet --processes` reports (`--json` prints exactly this). */
export interface ProcessesReport {
  nodes: number
  tasks: number
  /** The audit rate of every task's policy (ppm). */
  auditPpm: number
  transport: 'libp2p'
  verified: number
  failed: number
  unresolved: number
  /** Verified results equal to a plain local computation. */
  correct: number
  durationMs: number
  throughputPerSecond: number
  latencyMs: { p50: number; p99: number }
  /** Epochs the node processes settled on-chain, and receipts checked by `Settlement.verifyReceipt`. */
  epochsSettled: number
  receiptsVerified: number
  /** Each node process's start, from spawn to its API serving (ms; all started at once, anvil running). */
  nodeStartMs: number[]
}

/**
 * The devnet with every node in its own `veritask node` process, over libp2p on loopback: anvil,
 * N staked node processes and a requester that anchors its task ids on the chain and submits the
 * workload through the node APIs, waits
 * for every verdict and every receipt, and checks each receipt on-chain.
 */
export async function runProcessDevnet(context: CommandContext, options: ProcessesOptions): Promise<ProcessesReport> {
  const auditPpm = options.auditPpm ?? defaultParams.defaultPolicy.auditPpm ?? 0
  const net = await startProcessNetwork({ nodes: options.nodes, seed: options.seed, dir: options.dir, signal: context.signal })
  try {
    const requester = privateKeyToAccount(devnetPrivateKey(options.seed, 'requester'))
    // Specs are signed with libsecp256k1, as nodes sign (the same RFC 6979 bytes as viem's pure-JS account, ~7 ms less CPU each).
    const specSigner = createNativeSigner(devnetPrivateKey(options.seed, 'requester'))
    const fee = 10n ** 15n
    const workload = options.workload ?? (await buildWorkload(options.seed, options.tasks))
    await net.client.deposit(net.requester, fee * BigInt(workload.length))
    const domain = { chainId: net.chainId, verifyingContract: net.contracts.settlement }
    // The requester anchors its task ids before their draw blocks, paying the minimum fee per id
    // from the tokens it holds beyond its deposit; submissions in flight together share an anchor.
    const anchorer = createChainAnchorer({ walletClient: net.requester, publicClient: net.publicClient, contracts: net.contracts })
    // Each verdict comes from the event stream of the node the task was submitted to, as an SDK
    // requester's does: that node accepted the spec, so it decides the task even if another node,
    // a moment behind on the epoch, refused it. Polling only while the stream is down.
    // Every wait in flight and every node's event stream listen to the command's one abort signal.
    setMaxListeners(options.concurrency + 2 * net.nodes.length + 8, context.signal)
    const clients = net.nodes.map((n) =>
      createVeritaskClient({ rpcUrl: net.rpcUrl, nodeApiUrl: n.ready!.api, account: requester, settlement: net.contracts.settlement, chainId: net.chainId }),
    )
    const started = performance.now()
    const latencies: number[] = []
    const outcomes: Array<{ taskId: Hex; api: string; outcome: string; correct: boolean }> = []
    let next = 0
    const worker = async () => {
      while (next < workload.length) {
        context.signal.throwIfAborted()
        const i = next++
        const item = workload[i]!
        const gateway = i % net.nodes.length
        const api = net.nodes[gateway]!.ready!.api
        const spec = ({ epoch, drawBlock }: SubmissionTerms): TaskSpec => ({
          requester: requester.address,
          nonce: BigInt(i),
          runtime: 'wasm',
          program: contentId(item.programBytes),
          input: contentId(item.input),
          limits: item.limits,
          policy: { kind: 'replicate', k: options.k, quorum: options.quorum, auditPpm },
          fee,
          epoch,
          drawBlock,
          deadline: BigInt(Date.now() + 120_000),
        })
        const begun = performance.now()
        const taskId = await submitOverHttp(api, (terms) => signTaskSpec(specSigner, spec(terms), domain), item.programBytes, item.input, { anchorer, domain, head: () => net.publicClient.getBlockNumber({ cacheTime: 0 }) })
        const { verdict } = await waitForResult(clients[gateway]!, { taskId, output: false, signal: context.signal })
        latencies.push(performance.now() - begun)
        outcomes.push({ taskId, api, outcome: verdict.outcome, correct: verdict.outcome === 'verified' && verdict.resultHash === contentId(item.expected) })
        options.progress?.update(outcomes.length, workload.length, 'decided')
      }
    }
    await Promise.all(Array.from({ length: Math.min(options.concurrency, workload.length) }, worker))
    const durationMs = performance.now() - started
    let receiptsVerified = 0
    for (const { taskId, api } of options.checkReceipts === false ? [] : outcomes) {
      const receipt = await waitForReceiptOverHttp(api, taskId, { signal: context.signal })
      if (receipt !== null && (await net.client.verifyReceipt(receipt))) receiptsVerified++
    }
    options.progress?.done()
    const count = (outcome: string) => outcomes.filter((o) => o.outcome === outcome).length
    return {
      nodes: options.nodes,
      tasks: workload.length,
      auditPpm,
      transport: 'libp2p',
      verified: count('verified'),
      failed: count('failed'),
      unresolved: count('unresolved'),
      correct: outcomes.filter((o) => o.correct).length,
      durationMs: Math.round(durationMs),
      throughputPerSecond: Math.round((workload.length / durationMs) * 10_000) / 10,
      latencyMs: { p50: Math.round(quantile(latencies, 0.5)), p99: Math.round(quantile(latencies, 0.99)) },
      epochsSettled: Number(await net.publicClient.readContract({ address: net.contracts.settlement, abi: SettlementAbi, functionName: 'settledEpochCount' })),
      receiptsVerified,
      nodeStartMs: net.nodes.flatMap((n) => (n.startMs === null ? [] : [Math.round(n.startMs)])),
    }
  } finally {
    await net.stop()
    await rm(join(options.dir), { recursive: true, force: true })
  }
}

export function formatProcessesReport(r: ProcessesReport): string {
  return [
    `veritask devnet: ${r.nodes} node processes over libp2p, ${r.tasks} tasks, audit=${r.auditPpm / 1_000_000}`,
    '',
    `  verified     ${r.verified}   (${r.correct} match a local computation)`,
    `  failed       ${r.failed}`,
    `  unresolved   ${r.unresolved}`,
    `  throughput   ${r.throughputPerSecond} tasks/s over ${(r.durationMs / 1000).toFixed(1)} s`,
    `  latency      p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms (submit → verdict, over HTTP)`,
    `  settlement   ${r.epochsSettled} epochs settled by the nodes; ${r.receiptsVerified}/${r.tasks} receipts verified on-chain`,
    `  node start   ${r.nodeStartMs.join(', ')} ms (spawn → API serving, all at once)`,
  ].join('\n')
}
