import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { hexToBigInt, keccak256, stringToBytes } from 'viem'
import type { Address, Hex } from 'viem'
import { contentId } from '../core/contentId.ts'
import { devnetDomain, hashTaskSpec } from '../core/eip712.ts'
import { defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import { isValidReceipt, receiptToJson } from '../core/receipt.ts'
import { reputationPpm } from '../core/reputation.ts'
import type { Receipt } from '../core/receipt.ts'
import { SpecRejectedError } from '../core/errors.ts'
import { signTaskSpec } from '../core/taskSpec.ts'
import type { Policy, TaskSpec, Verdict } from '../core/types.ts'
import { createStaticChainView } from '../chain/memory/createStaticChainView.ts'
import { verifyNative } from '../crypto/secp256k1.ts'
import { createMessageReader } from '../node/messageReader.ts'
import { createWasmRuntime } from '../exec/wasm/createWasmRuntime.ts'
import { createOnnxRuntime } from '../exec/onnx/createOnnxRuntime.ts'
import { outputsAgree } from '../core/comparison.ts'
import { decodeTensor } from '../core/tensor.ts'
import { argmaxRows } from '../programs/classifier.ts'
import type { EpochSnapshot } from '../chain/memory/createStaticChainView.ts'
import { createMemoryHub } from '../net/memory/createMemoryHub.ts'
import { createNode } from '../node/createNode.ts'
import type { VeritaskNode } from '../node/createNode.ts'
import { silentLogger } from '../node/logger.ts'
import type { Logger } from '../node/logger.ts'
import { devnetAccount } from './accounts.ts'
import { createPublicResults, withBehaviour } from './adversaries.ts'
import type { Behaviour } from './adversaries.ts'
import { fromProtocolParams } from '../chain/governance/parameters.ts'
import { startChainNetwork } from './chainNetwork.ts'
import type { ChainNetwork } from './chainNetwork.ts'
import { quantile } from './stats.ts'
import { buildInferenceWorkload, buildWorkload } from './workload.ts'
import type { WorkloadItem } from './workload.ts'

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
  /** Tasks to run instead of the default workload (benchmarks); `tasks` must match its length. */
  workload?: WorkloadItem[]
  /** Run inference tasks on the shipped classifier (runtime `onnx`) instead of the example programs. */
  inference?: boolean
  /** Nodes (the first ones) that hold the classifier and advertise it (`onnx:<model id>`); all by default. */
  modelHolders?: number
  /** Verify by sampling instead of replication: one executor, audited with this probability (ppm). */
  sampleRatePpm?: number
  /** Settle on a real chain (anvil, spawned and stopped here); false runs without a chain. Default true. */
  chain?: boolean
  /** Tasks per epoch: each epoch's tasks are settled in one batch. Default 50. */
  epochTasks?: number
  /** Where to write every task's receipt as JSON (for `veritask receipt`); not written when omitted. */
  receiptsFile?: string
  /** Settle on this external EVM chain instead of spawning anvil (fresh contracts are deployed there). */
  rpcUrl?: string
  /** Deployer key on that chain (it also funds the devnet accounts); anvil's first key by default. */
  deployerKey?: Hex
  /** Where to write the deployed contracts' addresses. */
  addressesFile?: string
  /** How each node behaves, in node order; all honest by default (see `parseAdversaries`). */
  behaviours?: readonly Behaviour[]
  params?: Partial<ProtocolParams>
  logger?: Logger
  onProgress?: (progress: DevnetProgress) => void
  /**
   * Called once per epoch on a chain, while the epoch runs: after half of its tasks are submitted
   * (the rest wait until it resolves). Tests use it to act on the chain mid-run, e.g. to pass a
   * governance proposal; a parameter change made here applies from the next epoch.
   */
  onEpoch?: (epoch: bigint, chain: ChainNetwork) => Promise<void> | void
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
  /** Tokens it earned and claimed on-chain (wei, decimal string); "0" without a chain. */
  earned: string
  /** How the node behaved (`honest` or an adversary from `--adversary`). */
  behaviour: Behaviour
  /** Stake it lost to slashing (wei, decimal string). */
  slashed: string
  /** Earned minus slashed (wei, decimal string; negative for a loss). */
  net: string
  /** Reputation after the last settled epoch, in ppm; null without a chain. */
  reputationPpm: number | null
  /** Whether it is jailed at the end of the run. */
  jailed: boolean
}

/** What settlement on the chain cost and moved; null when the devnet ran without a chain. */
export interface SettlementReport {
  chainId: number
  contracts: { token: Address; stakeManager: Address; escrow: Address; settlement: Address }
  epochs: number
  /** Mean gas of one `submitBatch`. */
  gasPerEpoch: number
  /** All `submitBatch` gas divided by verified tasks. */
  gasPerVerifiedTask: number
  totalGas: string
  requester: { address: Address; deposited: string; charged: string; remaining: string }
  treasury: { address: Address; earned: string }
  /** A random task's receipt checked by `Settlement.verifyReceipt`, and the same receipt tampered with. */
  receiptCheck: { taskId: Hex; epoch: string; valid: boolean; tamperedRejected: boolean } | null
}

/** The devnet's summary; `veritask devnet --json` prints exactly this (see docs/devnet.md). */
export interface DevnetReport {
  nodes: number
  tasks: number
  policy: Policy
  verified: number
  failed: number
  unresolved: number
  /** Tasks the gateway refused, by error code (they got no outcome). */
  rejected: Record<string, number>
  /** Verified results whose bytes equal a plain local computation of the same program. */
  correct: number
  /** Tasks that some node verified with a result that is not the true one (0 under replicate). */
  wrongVerdicts: number
  /**
   * Inference tasks: how many input rows there were, and how many verified predictions (each output
   * row's argmax) match the data set's label. Null without inference tasks.
   */
  accuracy: { samples: number; correct: number } | null
  /** Whether every node reached the gateway's verdict for every task it decided. */
  agreement: boolean
  /**
   * Tasks some node decided differently from the gateway (e.g. a commit that reached it after its
   * own deadline). Settlement reconciles them: the committee signs the aggregator's outcome when it
   * has the signed reveals to back it.
   */
  disagreements: number
  durationMs: number
  /** CPU time the whole process (all threads: nodes, task execution, GC) spent during the run, in ms. */
  cpuMs: number
  throughputPerSecond: number
  latencyMs: { p50: number; p95: number; p99: number; max: number }
  /** Submit → the task's epoch batch settled on-chain; null without a chain. */
  settlementLatencyMs: { p50: number; p95: number; p99: number; max: number } | null
  gossip: { messages: number; bytes: number; messagesPerTask: number }
  perNode: DevnetNodeReport[]
  settlement: SettlementReport | null
}

const STAKE = 1_000n * 10n ** 18n
const FEE = 10n ** 15n
/** Share of each fee paid to the agreeing executors; the rest goes to the treasury. */
const EXECUTORS_BPS = 8_000
/** Share of its stake a node loses per dissenting reveal. */
const DISSENT_SLASH_BPS = 1_000

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
  const policy: Policy = options.sampleRatePpm === undefined ? params.defaultPolicy : { kind: 'sample', ratePpm: options.sampleRatePpm }

  const useChain = options.chain ?? true
  const epochTasks = options.epochTasks ?? 50
  const requester = devnetAccount(seed, 'requester')
  const accounts = Array.from({ length: nodeCount }, (_, i) => devnetAccount(seed, 'node', i))
  const workload = options.workload ?? (options.inference === true ? await buildInferenceWorkload(taskCount) : await buildWorkload(seed, taskCount))
  const modelIds = [...new Set(workload.filter((item) => item.runtime === 'onnx').map((item) => contentId(item.programBytes)))]
  const holders = options.modelHolders ?? nodeCount
  /** What each node advertises: wasm, and onnx with the models it holds (`onnx:<model id>`). */
  const capabilitiesOf = (i: number): string[] => (i < holders ? ['wasm', 'onnx', ...modelIds.map((id) => `onnx:${id}`)] : ['wasm'])
  const advertise = (snapshot: EpochSnapshot): EpochSnapshot => ({
    ...snapshot,
    nodes: snapshot.nodes.map((n) => ({ ...n, runtimes: capabilitiesOf(accounts.findIndex((a) => a.address === n.address)) })),
  })

  const settlementNet = useChain
    ? await startChainNetwork({
        ...(options.rpcUrl === undefined ? {} : { rpcUrl: options.rpcUrl }),
        ...(options.deployerKey === undefined ? {} : { deployerKey: options.deployerKey }),
        ...(options.addressesFile === undefined ? {} : { addressesFile: options.addressesFile }),
        seed,
        signers: accounts,
        stake: STAKE,
        deposit: FEE * BigInt(taskCount),
        split: { executorsBps: EXECUTORS_BPS },
        dissentSlashBps: DISSENT_SLASH_BPS,
        // The chain governs the default policy, limits and windows: they start as the devnet's options say.
        params: {
          ...fromProtocolParams(params),
          ...(options.sampleRatePpm === undefined ? {} : { sampleRatePpm: options.sampleRatePpm }),
        },
        nodeParams: params,
      })
    : undefined
  const domain = settlementNet?.domain ?? devnetDomain
  const chain = createStaticChainView({
    epoch: 0n,
    seed: keccak256(stringToBytes(`veritask-devnet/${seed}/epoch-seed`)),
    nodes: accounts.map((a, i) => ({ address: a.address, weight: STAKE, runtimes: capabilitiesOf(i) })),
    escrow: new Map([[requester.address, FEE * BigInt(taskCount)]]),
  })
  const hub = createMemoryHub({ latencyMs: options.latencyMs ?? 0, dropRate: options.dropRate ?? 0, seed: 7 })
  const wasm = createWasmRuntime({
    maxModuleBytes: params.maxProgramBytes,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  })
  const onnx = createOnnxRuntime(options.threads === undefined ? {} : { concurrency: options.threads })
  const behaviours = options.behaviours ?? accounts.map((): Behaviour => 'honest')
  const publicResults = createPublicResults()
  const behaviourOptions = { seed, slowDelayMs: params.commitWindowMs + 250, offlineAfter: 3, publicResults }
  // The nodes share this process: each gossip message is decoded and hashed once for all of them.
  const read = createMessageReader({ domain, maxBytes: params.maxMessageBytes, shared: true })
  const nodes: VeritaskNode[] = accounts.map((account, i) =>
    createNode({
      account,
      network: hub.connect(`node-${i}`),
      chain,
      runtimes: {
        wasm: withBehaviour(wasm, behaviours[i] ?? 'honest', behaviourOptions),
        ...(i < holders ? { onnx: withBehaviour(onnx, behaviours[i] ?? 'honest', behaviourOptions) } : {}),
      },
      params,
      domain,
      logger,
      verify: verifyNative,
      read,
    }),
  )

  const verdicts = nodes.map(() => new Map<Hex, Verdict>())
  /** The verdict of each task at its gateway, the node it was submitted to: the summary's view. */
  const outcomes = new Map<Hex, Verdict>()
  const gatewayOf = new Map<Hex, number>()
  const itemOf = new Map<Hex, WorkloadItem>()
  const missed = new Map<Address, number>()
  const submittedAt = new Map<Hex, number>()
  const latencies: number[] = []
  const settlementLatencies: number[] = []
  let decided = 0
  let submitted = 0
  let notifyDecided: (() => void) | undefined
  nodes.forEach((node, i) =>
    node.onVerdict((verdict, state) => {
      verdicts[i]!.set(verdict.taskId, verdict)
      if (gatewayOf.get(verdict.taskId) !== i) return notifyDecided?.()
      outcomes.set(verdict.taskId, verdict)
      // A verified result is public from now on: the copier's only source.
      const item = itemOf.get(verdict.taskId)
      const holder = nodes.find((n) => n.address === verdict.executors[0])
      const output = verdict.outcome === 'verified' ? holder?.getBlob(verdict.resultHash) : undefined
      if (item !== undefined && output !== undefined) publicResults.publish(programIdOf(item.programBytes), item.input, output)
      for (const a of [...state.missedCommit, ...state.missedReveal]) missed.set(a, (missed.get(a) ?? 0) + 1)
      const start = submittedAt.get(verdict.taskId)
      if (start !== undefined) latencies.push(performance.now() - start)
      decided++
      options.onProgress?.({ submitted, decided, total: taskCount })
      notifyDecided?.()
    }),
  )
  for (const node of nodes) node.start()
  // Worker threads start before the clock does: the run measures the network, not thread start-up.
  await wasm.start().catch(async (error: unknown) => {
    await Promise.all([...nodes.map((n) => n.stop()), wasm.close(), settlementNet?.stop()])
    throw error
  })

  const started = performance.now()
  const cpuAtStart = process.cpuUsage()
  let settlement: SettlementReport | null = null
  const earned = new Map<Address, bigint>()
  const rejected: Record<string, number> = {}
  const endOfRun = new Map<Address, { slashed: bigint; reputationPpm: number; jailed: boolean }>()
  try {
    // Each epoch's tasks are submitted once the epoch is open, and settled together after.
    const epochs = useChain ? Math.ceil(taskCount / epochTasks) : 1
    for (let epoch = 0; epoch < epochs; epoch++) {
      if (settlementNet !== undefined) chain.update(advertise(await settlementNet.beginEpoch(BigInt(epoch))))
      const group = useChain ? workload.slice(epoch * epochTasks, (epoch + 1) * epochTasks) : workload
      // The requester follows the chain: the epoch's governed default policy, unless it samples.
      const epochPolicy = options.sampleRatePpm === undefined ? (chain.snapshot(chain.epoch())?.params?.defaultPolicy ?? policy) : policy
      for (const [index, item] of group.entries()) {
        if (settlementNet !== undefined && index === Math.floor(group.length / 2)) await options.onEpoch?.(BigInt(epoch), settlementNet)
        while (submitted - decided >= concurrency) await new Promise<void>((resolve) => (notifyDecided = resolve))
        options.signal?.throwIfAborted()
        const i = submitted
        const spec: TaskSpec = {
          requester: requester.address,
          nonce: BigInt(i),
          runtime: item.runtime ?? 'wasm',
          ...(item.comparison === undefined ? {} : { comparison: item.comparison }),
          program: programIdOf(item.programBytes),
          input: contentId(item.input),
          limits: item.limits,
          policy: epochPolicy,
          fee: FEE,
          epoch: chain.epoch(),
          deadline: BigInt(Date.now() + 60_000),
        }
        const signed = await signTaskSpec(requester, spec, domain)
        const gateway = i % nodes.length
        // The task id is known before submitting, so the gateway's verdict cannot be missed.
        const taskId = hashTaskSpec(spec, domain)
        gatewayOf.set(taskId, gateway)
        itemOf.set(taskId, item)
        submittedAt.set(taskId, performance.now())
        try {
          await nodes[gateway]!.submitTask(signed, [item.programBytes, item.input])
        } catch (error) {
          // E.g. too few eligible nodes once adversaries are jailed: the task gets no outcome.
          if (!(error instanceof SpecRejectedError)) throw error
          rejected[error.code] = (rejected[error.code] ?? 0) + 1
          logger.warn('task rejected by its gateway', { taskId, error })
          continue
        }
        item.taskId = taskId
        submitted++
        options.onProgress?.({ submitted, decided, total: taskCount })
      }
      // The epoch is over when every gateway decided its tasks and no node has a task still open.
      while (decided < submitted || nodes.some((n) => n.stats().openTasks > 0)) {
        options.signal?.throwIfAborted()
        await new Promise<void>((resolve) => (notifyDecided = resolve))
      }
      if (settlementNet !== undefined) {
        await settlementNet.settleEpoch(BigInt(epoch), nodes)
        const settledAt = performance.now()
        for (const item of group) {
          const start = item.taskId === undefined ? undefined : submittedAt.get(item.taskId)
          if (start !== undefined) settlementLatencies.push(settledAt - start)
        }
      }
    }
    if (settlementNet !== undefined) {
      for (const [account, claim] of await settlementNet.claimAll()) earned.set(account, claim.earned)
      settlement = await reportSettlement(settlementNet, seed, [...outcomes.values()])
      const block = await settlementNet.client.currentBlock()
      for (const node of nodes) {
        const stake = await settlementNet.client.stakeOf(node.address)
        endOfRun.set(node.address, {
          slashed: STAKE - stake,
          reputationPpm: Number(reputationPpm(settlementNet.recordOf(node.address))),
          jailed: (await settlementNet.client.jailedUntil(node.address)) > block,
        })
      }
      if (options.receiptsFile !== undefined) await writeReceipts(options.receiptsFile, settlementNet.receipts)
    }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()))
    await wasm.close()
    await onnx.close()
    await settlementNet?.stop()
  }
  const durationMs = performance.now() - started
  const cpu = process.cpuUsage(cpuAtStart)

  /** The bytes of a verified result, from any node that holds them. */
  const resultBytes = (hash: Hex) => nodes.map((n) => n.getBlob(hash)).find((bytes) => bytes !== undefined)
  /** Whether a verified result is the true one: the local run's bytes, or within the task's comparison of them. */
  const isTrue = (item: WorkloadItem, hash: Hex): boolean => {
    if (hash === contentId(item.expected)) return true
    const bytes = item.comparison === undefined ? undefined : resultBytes(hash)
    return bytes !== undefined && item.comparison !== undefined && outputsAgree(item.comparison, item.expected, bytes)
  }
  let correct = 0
  let accuracy: DevnetReport['accuracy'] = null
  for (const item of workload) {
    const verdict = item.taskId === undefined ? undefined : outcomes.get(item.taskId)
    if (verdict?.outcome === 'verified' && isTrue(item, verdict.resultHash)) correct++
    if (item.labels === undefined) continue
    accuracy ??= { samples: 0, correct: 0 }
    accuracy.samples += item.labels.length
    const bytes = verdict?.outcome === 'verified' ? resultBytes(verdict.resultHash) : undefined
    if (bytes === undefined) continue
    const output = decodeTensor(bytes)
    const predicted = argmaxRows(output.data, output.dims[output.dims.length - 1])
    accuracy.correct += predicted.filter((label, row) => label === item.labels![row]).length
  }
  const disagreed = new Set<Hex>()
  for (const map of verdicts) for (const [id, v] of map) if (!sameVerdict(outcomes.get(id), v)) disagreed.add(id)
  const itemById = new Map(workload.flatMap((item) => (item.taskId === undefined ? [] : [[item.taskId, item] as const])))
  const wrongTasks = new Set<Hex>()
  for (const map of verdicts) {
    for (const v of map.values()) {
      const item = itemById.get(v.taskId)
      if (v.outcome === 'verified' && (item === undefined || !isTrue(item, v.resultHash))) wrongTasks.add(v.taskId)
    }
  }
  const wrongVerdicts = wrongTasks.size
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
    rejected,
    correct,
    wrongVerdicts,
    accuracy,
    agreement: disagreed.size === 0,
    disagreements: disagreed.size,
    durationMs: Math.round(durationMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    throughputPerSecond: Math.round((taskCount / durationMs) * 1000 * 10) / 10,
    latencyMs: {
      p50: round1(quantile(latencies, 0.5)),
      p95: round1(quantile(latencies, 0.95)),
      p99: round1(quantile(latencies, 0.99)),
      max: round1(quantile(latencies, 1)),
    },
    settlementLatencyMs:
      settlementLatencies.length === 0
        ? null
        : {
            p50: round1(quantile(settlementLatencies, 0.5)),
            p95: round1(quantile(settlementLatencies, 0.95)),
            p99: round1(quantile(settlementLatencies, 0.99)),
            max: round1(quantile(settlementLatencies, 1)),
          },
    gossip: { ...gossip, messagesPerTask: round1(gossip.messages / taskCount) },
    perNode: nodes.map((node, i) => {
      const s = node.stats()
      const end = endOfRun.get(node.address)
      const gained = earned.get(node.address) ?? 0n
      const slashed = end?.slashed ?? 0n
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
        earned: gained.toString(),
        behaviour: behaviours[i] ?? 'honest',
        slashed: slashed.toString(),
        net: (gained - slashed).toString(),
        reputationPpm: end?.reputationPpm ?? null,
        jailed: end?.jailed ?? false,
      }
    }),
    settlement,
  }
}

async function reportSettlement(net: ChainNetwork, seed: string, verdicts: Verdict[]): Promise<SettlementReport> {
  const totalGas = net.settled.reduce((sum, e) => sum + e.gasUsed, 0n)
  const verified = verdicts.filter((v) => v.outcome === 'verified').length
  const deposited = await net.client.depositOf(net.requester)
  const charged = net.charged(net.requester)

  let receiptCheck: SettlementReport['receiptCheck'] = null
  const candidates = net.receipts.filter((r) => r.outcome === 'verified')
  if (candidates.length > 0) {
    const pick = candidates[Number(hexToBigInt(keccak256(stringToBytes(`receipt/${seed}`))) % BigInt(candidates.length))]!
    const tampered = { ...pick, resultHash: keccak256(stringToBytes('a different result')) }
    receiptCheck = {
      taskId: pick.taskId,
      epoch: pick.epoch.toString(),
      valid: isValidReceipt(pick) && (await net.client.verifyReceipt(pick)),
      tamperedRejected: !(await net.client.verifyReceipt(tampered)),
    }
  }
  const { token, stakeManager, escrow, settlement } = net.contracts
  return {
    chainId: net.domain.chainId,
    contracts: { token, stakeManager, escrow, settlement },
    epochs: net.settled.length,
    gasPerEpoch: net.settled.length === 0 ? 0 : Math.round(Number(totalGas) / net.settled.length),
    gasPerVerifiedTask: verified === 0 ? 0 : round1(Number(totalGas) / verified),
    totalGas: totalGas.toString(),
    requester: {
      address: net.requester,
      deposited: deposited.toString(),
      charged: charged.toString(),
      remaining: (deposited - charged).toString(),
    },
    treasury: { address: net.treasury, earned: (await net.client.tokenBalance(net.treasury)).toString() },
    receiptCheck,
  }
}

async function writeReceipts(path: string, receipts: readonly Receipt[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, `${JSON.stringify(receipts.map(receiptToJson), null, 1)}\n`)
}

/** Content ids of workload programs: every task of a workload shares one program array. */
const programIds = new WeakMap<Uint8Array, Hex>()
function programIdOf(bytes: Uint8Array): Hex {
  let id = programIds.get(bytes)
  if (id === undefined) {
    id = contentId(bytes)
    programIds.set(bytes, id)
  }
  return id
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
