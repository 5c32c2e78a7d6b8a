import { keccak256, stringToBytes } from 'viem'
import type { Address, Hex } from 'viem'
import { contentId } from '../core/contentId.ts'
import { devnetDomain, hashTaskSpec } from '../core/eip712.ts'
import { defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import { signTaskSpec } from '../core/taskSpec.ts'
import type { ReplicatePolicy, TaskSpec, Verdict } from '../core/types.ts'
import { createStaticChainView } from '../chain/memory/createStaticChainView.ts'
import { verifyNative } from '../crypto/secp256k1.ts'
import { createWasmRuntime } from '../exec/wasm/createWasmRuntime.ts'
import { createMemoryHub } from '../net/memory/createMemoryHub.ts'
import { createNode } from '../node/createNode.ts'
import type { VeritaskNode } from '../node/createNode.ts'
import { silentLogger } from '../node/logger.ts'
import type { Logger } from '../node/logger.ts'
import { devnetAccount } from './accounts.ts'
import { quantile } from './stats.ts'
import { buildWorkload } from './workload.ts'

export interface DevnetOptions {
  /** Nodes, all with equal stake. */
  nodes?: number
  /** Tasks in the workload. */
  tasks?: number
  /** Replication: executors per task and the matching reveals needed. */
  k?: number
  quorum?: number
  /** Seeds the accounts, the epoch seed and the workload. */
  seed?: string
  /** Tasks in flight at once. */
  concurrency?: number
  /** One-way latency and loss of the in-memory transport. */
  latencyMs?: number
  dropRate?: number
  /** Worker threads of the shared WebAssembly pool; one per core by default. */
  threads?: number
  params?: Partial<ProtocolParams>
  logger?: Logger
  onProgress?: (progress: DevnetProgress) => void
  signal?: AbortSignal
}

export interface DevnetProgress {
  submitted: number
  decided: number
  total: number
}

export interface DevnetNodeReport {
  address: Address
  stake: string
  executions: number
  commits: number
  reveals: number
  /** Tasks where this node's reveal was part of the winning result. */
  agreed: number
  /** Tasks where it revealed a different result. */
  dissented: number
  /** Commit or reveal deadlines it let pass. */
  missed: number
  /** Messages it rejected, by error code. */
  rejected: Record<string, number>
}

/** The devnet's summary; `veritask devnet --json` prints exactly this (see docs/devnet.md). */
export interface DevnetReport {
  nodes: number
  tasks: number
  policy: ReplicatePolicy
  verified: number
  failed: number
  unresolved: number
  /** Verified results whose bytes equal a plain local computation of the same program. */
  correct: number
  /** Whether every node reached the gateway's verdict for every task it decided. */
  agreement: boolean
  durationMs: number
  throughputPerSecond: number
  latencyMs: { p50: number; p99: number; max: number }
  gossip: { messages: number; bytes: number; messagesPerTask: number }
  perNode: DevnetNodeReport[]
}

const STAKE = 1_000n * 10n ** 18n
const FEE = 10n ** 15n

/**
 * Runs a whole network in one process: N staked nodes on the in-memory transport sharing one
 * WebAssembly worker pool, and a requester that submits a workload of the example programs and
 * waits for every verdict.
 */
export async function runDevnet(options: DevnetOptions = {}): Promise<DevnetReport> {
  const nodeCount = options.nodes ?? 5
  const taskCount = options.tasks ?? 200
  const k = options.k ?? Math.min(3, nodeCount)
  const quorum = options.quorum ?? Math.floor(k / 2) + 1
  const seed = options.seed ?? 'veritask'
  const concurrency = options.concurrency ?? 24
  const logger = options.logger ?? silentLogger
  const params: ProtocolParams = { ...defaultParams, ...options.params, defaultPolicy: { kind: 'replicate', k, quorum } }
  const policy = params.defaultPolicy

  const requester = devnetAccount(seed, 'requester')
  const accounts = Array.from({ length: nodeCount }, (_, i) => devnetAccount(seed, 'node', i))
  const chain = createStaticChainView({
    seed: keccak256(stringToBytes(`veritask-devnet/${seed}/epoch-seed`)),
    nodes: accounts.map((a) => ({ address: a.address, weight: STAKE, runtimes: ['wasm'] })),
    escrow: new Map([[requester.address, FEE * BigInt(taskCount)]]),
  })
  const hub = createMemoryHub({ latencyMs: options.latencyMs ?? 0, dropRate: options.dropRate ?? 0, seed: 7 })
  const wasm = createWasmRuntime({
    maxModuleBytes: params.maxProgramBytes,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  })
  const nodes: VeritaskNode[] = accounts.map((account, i) =>
    createNode({
      account,
      network: hub.connect(`node-${i}`),
      chain,
      runtimes: { wasm },
      params,
      domain: devnetDomain,
      logger,
      verify: verifyNative,
    }),
  )

  const verdicts = nodes.map(() => new Map<Hex, Verdict>())
  /** The verdict of each task at its gateway, the node it was submitted to: the summary's view. */
  const outcomes = new Map<Hex, Verdict>()
  const gatewayOf = new Map<Hex, number>()
  const missed = new Map<Address, number>()
  const submittedAt = new Map<Hex, number>()
  const latencies: number[] = []
  let decided = 0
  let submitted = 0
  let notifyDecided: (() => void) | undefined
  nodes.forEach((node, i) =>
    node.onVerdict((verdict, state) => {
      verdicts[i]!.set(verdict.taskId, verdict)
      if (gatewayOf.get(verdict.taskId) !== i) return notifyDecided?.()
      outcomes.set(verdict.taskId, verdict)
      for (const a of [...state.missedCommit, ...state.missedReveal]) missed.set(a, (missed.get(a) ?? 0) + 1)
      const start = submittedAt.get(verdict.taskId)
      if (start !== undefined) latencies.push(performance.now() - start)
      decided++
      options.onProgress?.({ submitted, decided, total: taskCount })
      notifyDecided?.()
    }),
  )
  for (const node of nodes) node.start()

  const workload = await buildWorkload(seed, taskCount)
  const started = performance.now()
  try {
    for (const [i, item] of workload.entries()) {
      while (submitted - decided >= concurrency) await new Promise<void>((resolve) => (notifyDecided = resolve))
      options.signal?.throwIfAborted()
      const spec: TaskSpec = {
        requester: requester.address,
        nonce: BigInt(i),
        runtime: 'wasm',
        program: contentId(item.programBytes),
        input: contentId(item.input),
        limits: item.limits,
        policy,
        fee: FEE,
        deadline: BigInt(Date.now() + 60_000),
      }
      const signed = await signTaskSpec(requester, spec, devnetDomain)
      const gateway = i % nodes.length
      const t0 = performance.now()
      // The task id is known before submitting, so the gateway's verdict cannot be missed.
      const taskId = hashTaskSpec(spec, devnetDomain)
      gatewayOf.set(taskId, gateway)
      submittedAt.set(taskId, t0)
      await nodes[gateway]!.submitTask(signed, [item.programBytes, item.input])
      item.taskId = taskId
      submitted++
      options.onProgress?.({ submitted, decided, total: taskCount })
    }
    // Done when every gateway decided its tasks and no node has a task still open.
    while (decided < taskCount || nodes.some((n) => n.stats().openTasks > 0)) {
      options.signal?.throwIfAborted()
      await new Promise<void>((resolve) => (notifyDecided = resolve))
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()))
    await wasm.close()
  }
  const durationMs = performance.now() - started

  let correct = 0
  for (const item of workload) {
    const verdict = item.taskId === undefined ? undefined : outcomes.get(item.taskId)
    if (verdict?.outcome === 'verified' && verdict.resultHash === contentId(item.expected)) correct++
  }
  const agreement = verdicts.every((map) => [...map].every(([id, v]) => sameVerdict(outcomes.get(id), v)))
  const decidedVerdicts = [...outcomes.values()]
  const gossip = nodes.reduce(
    (sum, n, i) => {
      const s = hub.statsOf(`node-${i}`)
      return { messages: sum.messages + s.messagesPublished, bytes: sum.bytes + s.bytesPublished }
    },
    { messages: 0, bytes: 0 },
  )

  return {
    nodes: nodeCount,
    tasks: taskCount,
    policy,
    verified: decidedVerdicts.filter((v) => v.outcome === 'verified').length,
    failed: decidedVerdicts.filter((v) => v.outcome === 'failed').length,
    unresolved: decidedVerdicts.filter((v) => v.outcome === 'unresolved').length,
    correct,
    agreement,
    durationMs: Math.round(durationMs),
    throughputPerSecond: Math.round((taskCount / durationMs) * 1000 * 10) / 10,
    latencyMs: {
      p50: round1(quantile(latencies, 0.5)),
      p99: round1(quantile(latencies, 0.99)),
      max: round1(quantile(latencies, 1)),
    },
    gossip: { ...gossip, messagesPerTask: round1(gossip.messages / taskCount) },
    perNode: nodes.map((node) => {
      const s = node.stats()
      return {
        address: node.address,
        stake: STAKE.toString(),
        executions: s.executions,
        commits: s.commitsSent,
        reveals: s.revealsSent,
        agreed: decidedVerdicts.filter((v) => v.executors.includes(node.address)).length,
        dissented: decidedVerdicts.filter((v) => v.dissenters.includes(node.address)).length,
        missed: missed.get(node.address) ?? 0,
        rejected: s.rejected,
      }
    }),
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10
}

function sameVerdict(a: Verdict | undefined, b: Verdict): boolean {
  return (
    a !== undefined &&
    a.outcome === b.outcome &&
    a.resultHash === b.resultHash &&
    a.executors.join() === b.executors.join() &&
    a.dissenters.join() === b.dissenters.join()
  )
}
