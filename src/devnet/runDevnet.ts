import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { hexToBigInt, keccak256, stringToBytes } from 'viem'
import type { Address, Hex } from 'viem'
import { contentId } from '../core/contentId.ts'
import { devnetDomain } from '../core/eip712.ts'
import { VeritaskError } from '../core/errors.ts'
import { defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import { isValidReceipt, receiptToJson } from '../core/receipt.ts'
import type { Receipt } from '../core/receipt.ts'
import { SpecRejectedError } from '../core/errors.ts'
import { arbitrationSeats, executorsOf, rankTask } from '../core/task.ts'
import { signTaskSpec } from '../core/taskSpec.ts'
import type { Policy, TaskSpec, Verdict } from '../core/types.ts'
import { createStaticChainView } from '../chain/memory/createStaticChainView.ts'
import { verifyNative } from '../crypto/secp256k1.ts'
import { createCachedVrfVerifier } from '../crypto/vrf.ts'
import { createMessageReader } from '../node/messageReader.ts'
import { createWasmRuntime } from '../exec/wasm/createWasmRuntime.ts'
import { createOnnxRuntime } from '../exec/onnx/createOnnxRuntime.ts'
import { outputsAgree } from '../core/comparison.ts'
import { decodeTensor } from '../core/tensor.ts'
import { argmaxRows } from '../programs/classifier.ts'
import { capabilitiesOf } from '../host/capabilities.ts'
import { startNodeHost } from '../host/startNodeHost.ts'
import type { NodeHost } from '../host/startNodeHost.ts'
import { createMemoryHub } from '../net/memory/createMemoryHub.ts'
import type { VeritaskNode } from '../node/createNode.ts'
import { silentLogger } from '../node/logger.ts'
import type { Logger } from '../node/logger.ts'
import type { ChainView, EpochView } from '../ports/node.ts'
import type { Runtime } from '../ports/runtime.ts'
import { devnetAccount } from './accounts.ts'
import { castBehaviours } from './adversaries.ts'
import type { Behaviour } from './adversaries.ts'
import { startInProcessNodes } from './inProcessNodes.ts'
import type { InProcessNodes } from './inProcessNodes.ts'
import { createGrindingRequester } from './grindingRequester.ts'
import type { GrindingStats } from './grindingRequester.ts'
import { createPublicSeats } from './publicSeats.ts'
import { DEVNET_STAKE, startDevChain } from './startDevChain.ts'
import { anchorAlone } from '../core/taskAnchor.ts'
import { anchoredDrawBlock, createDrawLead } from '../sdk/drawLead.ts'
import { signAnchored } from '../sdk/signAnchored.ts'
import type { TaskAnchorer } from '../sdk/taskAnchorer.ts'
import { DEVNET_ANCHOR_TOKENS, createChainAnchorer } from './httpRequester.ts'
import type { DevChain } from './startDevChain.ts'
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
  /** Audit rate (ppm) of the default replicate policy; the protocol default when absent. */
  auditPpm?: number
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
  onEpoch?: (epoch: bigint, chain: DevChain) => Promise<void> | void
  /**
   * Called for each task its gateway accepted, once its draw block has come, with the spec, its
   * epoch's snapshot and its places as every node ranks them (`rankTask` without backups: the
   * seats, then the verifier's place if the policy audits). Public data: what tests and
   * benchmarks count seats by.
   */
  onSeated?: (task: { taskId: Hex; spec: TaskSpec; snapshot: EpochView; places: readonly Address[]; arbitrationSeats: readonly Address[] }) => void
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
  /**
   * Whether it was jailed during the run. Its jail (`jailBlocks`, 100 on the devnet) may have ended
   * by the end of a long run: whether it still is depends on how many blocks the run took.
   */
  jailed: boolean
}

/** What settlement on the chain cost and moved; null when the devnet ran without a chain. */
export interface SettlementReport {
  chainId: number
  contracts: { token: Address; stakeManager: Address; escrow: Address; settlement: Address }
  epochs: number
  /** Tasks the settled batches hold (every decided task, when settlement kept up). */
  settledTasks: number
  /** Mean gas of one `submitBatch`. */
  gasPerEpoch: number
  /** All `submitBatch` gas divided by verified tasks. */
  gasPerVerifiedTask: number
  totalGas: string
  /** `anchored`: task ids the requester anchored on-chain, `anchorFees` what it paid the treasury for them (from its wallet, not the escrow). */
  requester: { address: Address; deposited: string; charged: string; remaining: string; anchored: number; anchorTransactions: number; anchorFees: string }
  /** What the treasury holds: its share of fees and any slashed stake, without the anchor fees. */
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
  /** Tasks that some node verified with a result that is not the true one (under replicate, only where a coalition held every seat). */
  wrongVerdicts: number
  /** With a `grinding-requester` coalition, what its requester's grinding did (`GrindingStats`); null otherwise. */
  grinding: GrindingStats | null
  /** Decided tasks whose verdict counts an auditor: more executors than the policy seats. */
  audited: number
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
  /**
   * From the first submission until every task is decided and, with a chain, every epoch settled:
   * what the throughput counts. Claims, the report's chain reads and shutting down come after.
   */
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

const STAKE = DEVNET_STAKE
const FEE = 10n ** 15n
/** Share of each fee paid to the agreeing executors; the rest goes to the treasury. */
const EXECUTORS_BPS = 8_000
/** Share of its stake a node loses per dissenting reveal. */
const DISSENT_SLASH_BPS = 1_000
/**
 * The devnet's settler timers. Its nodes share one chain follower, so they see each epoch boundary
 * at the same moment and no spec needs a grace period to cross it; a silent aggregator is
 * replaced after 2 s instead of a live network's 10 s. Everything else is the daemon's settler.
 */
const DEVNET_SETTLEMENT = { epochGraceMs: 50, settlerTimers: { takeoverMs: 2_000, pollMs: 25 } }
/** How long the devnet waits for one epoch to settle before it reports the failure. */
const SETTLE_TIMEOUT_MS = 120_000
/**
 * A block every 100 ms, and specs drawn 300 ms (3 blocks) ahead: each task waits about that long
 * for its seats, as on a chain of 100 ms blocks.
 */
const DEVNET_BLOCK_MS = 100
const DEVNET_DRAW_LEAD_MS = 300

/** Rounds of `signAnchored` (each up to `LATE_ANCHOR_RETRIES` + 1 anchors) before a late spec is submitted anyway. */
const LATE_ANCHOR_ROUNDS = 3

/**
 * Runs a whole network in one process: N staked nodes on the in-memory transport sharing one
 * WebAssembly worker pool, and a requester that submits a workload of the example programs and
 * waits for every verdict. On a chain, every node settles each epoch with its own settler, as a
 * `veritask node` does: the devnet only opens the epochs and reports.
 */
export async function runDevnet(options: DevnetOptions = {}): Promise<DevnetReport> {
  const nodeCount = options.nodes ?? 5
  const taskCount = options.tasks ?? 200
  const k = options.k ?? Math.min(3, nodeCount)
  const quorum = options.quorum ?? Math.floor(k / 2) + 1
  const seed = options.seed ?? 'veritask'
  const concurrency = options.concurrency ?? 24
  const logger = options.logger ?? silentLogger
  const params: ProtocolParams = { ...defaultParams, ...options.params, defaultPolicy: { kind: 'replicate', k, quorum, auditPpm: options.auditPpm ?? defaultParams.defaultPolicy.auditPpm } }
  const policy: Policy = options.sampleRatePpm === undefined ? params.defaultPolicy : { kind: 'sample', ratePpm: options.sampleRatePpm }

  const useChain = options.chain ?? true
  const epochTasks = options.epochTasks ?? 50
  const requester = devnetAccount(seed, 'requester')
  const accounts = Array.from({ length: nodeCount }, (_, i) => devnetAccount(seed, 'node', i))
  const workload = options.workload ?? (options.inference === true ? await buildInferenceWorkload(taskCount) : await buildWorkload(seed, taskCount))
  const models = [...new Map(workload.filter((item) => item.runtime === 'onnx').map((item) => [contentId(item.programBytes), item.programBytes])).values()]
  const holders = options.modelHolders ?? nodeCount

  const hub = createMemoryHub({ latencyMs: options.latencyMs ?? 0, dropRate: options.dropRate ?? 0, seed: 7 })
  const wasm = createWasmRuntime({
    maxModuleBytes: params.maxProgramBytes,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  })
  const onnx = createOnnxRuntime(options.threads === undefined ? {} : { concurrency: options.threads })
  let dev: DevChain | undefined
  let network: InProcessNodes | undefined
  let hosts: NodeHost[] = []
  let view: ChainView | undefined
  const cast = castBehaviours({
    behaviours: options.behaviours ?? [],
    seed,
    commitWindowMs: params.commitWindowMs,
    addresses: accounts.map((a) => a.address),
    // The strategic adversaries see what every node sees: the specs the nodes hold and the epoch's snapshot.
    seatsOf: createPublicSeats({
      arbiters: params.arbiters,
      specOf: (taskId) => hosts.map((h) => h.node.getTask(taskId)?.spec).find((spec) => spec !== undefined),
      snapshot: (epoch) => view?.snapshot(epoch),
      blockHash: (block) => view?.blockHash(block),
    }),
  })
  /** Node i's runtimes: the shared pools, wrapped in its behaviour; the first `holders` hold the models. */
  const runtimesOf = (i: number): Record<string, Runtime> => ({
    wasm: cast.wrap(i, wasm),
    ...(i < holders ? { onnx: cast.wrap(i, onnx) } : {}),
  })
  /** What node i advertises: its runtimes and the models it holds (`onnx:<model id>`). */
  const capabilitiesOfNode = (i: number): string[] => capabilitiesOf(runtimesOf(i), models)

  const closeAll = async () => {
    await (network?.stop() ?? Promise.all(hosts.map((h) => h.stop())))
    await wasm.close()
    await onnx.close()
    await dev?.stop()
  }
  try {
    if (useChain) {
      dev = await startDevChain({
        seed,
        nodes: nodeCount,
        // The chain governs the default policy, limits and windows: they start as the devnet's options say.
        params,
        chainParams: {
          executorsBps: EXECUTORS_BPS,
          dissentSlashBps: DISSENT_SLASH_BPS,
          ...(options.sampleRatePpm === undefined ? {} : { sampleRatePpm: options.sampleRatePpm }),
        },
        capabilities: capabilitiesOfNode,
        // Beyond the deposit: each anchored task id pays the minimum fee (core/taskAnchor.ts).
        requesterTokens: FEE * BigInt(taskCount) + DEVNET_ANCHOR_TOKENS,
        requesterDeposit: FEE * BigInt(taskCount),
        // Blocks come on a timer: each task waits for its draw block, a couple of blocks ahead.
        blockMs: DEVNET_BLOCK_MS,
        ...(options.rpcUrl === undefined ? {} : { rpcUrl: options.rpcUrl }),
        ...(options.deployerKey === undefined ? {} : { deployerKey: options.deployerKey }),
        ...(options.addressesFile === undefined ? {} : { addressesFile: options.addressesFile }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      })
      // The first epoch is open before the nodes start: they follow the chain from there.
      await dev.openEpoch(0n)
      // The nodes share this process: each gossip message is decoded and hashed once for all of them.
      const read = createMessageReader({ domain: dev.domain, maxBytes: params.maxMessageBytes, shared: true })
      network = await startInProcessNodes({ dev, hub, params, runtimes: runtimesOf, transport: cast.transport, logger, read, verify: verifyNative, followerPollMs: 20, drawLeadMs: DEVNET_DRAW_LEAD_MS, ...DEVNET_SETTLEMENT })
      hosts = network.nodes
      view = network.follower
    } else {
      const chain = createStaticChainView({
        epoch: 0n,
        seed: keccak256(stringToBytes(`veritask-devnet/${seed}/epoch-seed`)),
        nodes: accounts.map((a, i) => ({ address: a.address, weight: STAKE, runtimes: capabilitiesOfNode(i) })),
        escrow: new Map([[requester.address, FEE * BigInt(taskCount)]]),
      })
      view = chain
      const read = createMessageReader({ domain: devnetDomain, maxBytes: params.maxMessageBytes, shared: true })
      const verifyVrf = createCachedVrfVerifier()
      for (const [i, account] of accounts.entries()) {
        const transport = cast.transport(i, hub.connect(`node-${i}`), { signer: account, domain: devnetDomain })
        const host = await startNodeHost({ account, network: transport, chain, domain: devnetDomain, runtimes: runtimesOf(i), params, logger, verify: verifyNative, verifyVrf, read })
        hosts.push(host)
      }
    }
    // Worker threads start before the clock does: the run measures the network, not thread start-up.
    await wasm.start()
  } catch (error) {
    await closeAll()
    throw error
  }
  const chain = view!
  /** Reports a task's places once its draw block has come (`onSeated`), as every node ranks them. */
  const seated = async (taskId: Hex, spec: TaskSpec, report: NonNullable<DevnetOptions['onSeated']>): Promise<void> => {
    const snapshot = chain.snapshot(spec.epoch)
    const draw = await chain.awaitBlock(spec.drawBlock, Number(spec.deadline) - Date.now())
    if (snapshot === undefined || draw === undefined) return
    const places = rankTask({ view: snapshot, taskId, spec, draw, backups: 0 })
    report({ taskId, spec, snapshot, places, arbitrationSeats: arbitrationSeats({ view: snapshot, taskId, spec, draw, count: (snapshot.params ?? params).arbiters }) })
  }
  const currentEpoch = () => hosts[0]!.node.currentEpoch()
  const domain = dev?.domain ?? devnetDomain
  // A `grinding-requester` coalition's requester grinds each spec for its coalition's seats.
  const grindingCoalition = new Set(accounts.filter((_, i) => cast.behaviourOf(i) === 'grinding-requester').map((a) => a.address))
  const grinder = grindingCoalition.size === 0 ? undefined : createGrindingRequester({ coalition: grindingCoalition, domain })
  const nodes: VeritaskNode[] = hosts.map((h) => h.node)
  // The requester anchors its task ids before their draw blocks (core/taskAnchor.ts): on the chain,
  // in one transaction for the specs signed while the previous one was under way; without a chain
  // (instant anchors), each spec alone.
  const devChain = dev
  const anchoring = { anchored: 0, transactions: 0, fees: 0n }
  const anchorer: TaskAnchorer =
    devChain === undefined
      ? { anchor: async (signed, taskId) => ({ signed: anchorAlone(signed, taskId), block: 0n }) }
      : createChainAnchorer({
          walletClient: devChain.requester,
          publicClient: devChain.publicClient,
          contracts: devChain.contracts,
          // The dev chain's wallets number their transactions, and startDevChain approved the anchors
          // ahead: a spec need not wait for the previous anchor.
          maxInFlight: 4,
          onAnchored: ({ count, paid }) => {
            anchoring.anchored += count
            anchoring.transactions++
            anchoring.fees += paid
          },
        })

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
  /** Tasks handed to `submitOne`, and of those the ones not yet accepted or refused. */
  let launched = 0
  let launching = 0
  let failure: unknown
  let notify: (() => void) | undefined
  const wake = () => notify?.()
  const until = (condition: () => boolean) =>
    (async () => {
      while (!condition()) {
        options.signal?.throwIfAborted()
        await new Promise<void>((resolve) => (notify = resolve))
      }
    })()
  nodes.forEach((node, i) =>
    node.onVerdict((verdict, state) => {
      verdicts[i]!.set(verdict.taskId, verdict)
      if (gatewayOf.get(verdict.taskId) !== i) return wake()
      outcomes.set(verdict.taskId, verdict)
      // A verified result is public from now on: the copier's only source.
      const item = itemOf.get(verdict.taskId)
      const holder = nodes.find((n) => n.address === verdict.executors[0])
      const output = verdict.outcome === 'verified' ? holder?.getBlob(verdict.resultHash) : undefined
      if (item !== undefined && output !== undefined) cast.publicResults.publish(programIdOf(item.programBytes), item.input, output)
      for (const a of [...state.missedCommit, ...state.missedReveal]) missed.set(a, (missed.get(a) ?? 0) + 1)
      const start = submittedAt.get(verdict.taskId)
      if (start !== undefined) latencies.push(performance.now() - start)
      decided++
      options.onProgress?.({ submitted, decided, total: taskCount })
      wake()
    }),
  )
  /** Each settled epoch as its settlers report it: the submitter knows the gas, every node the tasks. */
  const settledEpochs = new Map<bigint, { taskCount: number; gasUsed: bigint | null; at: number }>()
  for (const host of network?.nodes ?? []) {
    host.settler.onSettled((info) => {
      const known = settledEpochs.get(info.epoch)
      settledEpochs.set(info.epoch, {
        taskCount: Math.max(known?.taskCount ?? 0, info.taskCount),
        gasUsed: known?.gasUsed ?? info.gasUsed,
        at: known?.at ?? performance.now(),
      })
      wake()
    })
  }
  /** Waits until every node's settler has seen `count` epochs settled, or reports why not. */
  const settled = async (count: number) => {
    const everyone = () => network!.nodes.every((n) => n.settler.stats().epochsSettled >= count)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const rejected = network!.nodes.map((n) => n.settler.stats().rejected)
        const objections = network!.nodes.map((n) => n.settler.stats().objections)
        reject(
          new VeritaskError('SETTLEMENT_FAILED', `Epochs did not settle: ${settledEpochs.size} of ${count} settled after ${SETTLE_TIMEOUT_MS / 1000} s.`, {
            details: { settled: settledEpochs.size, expected: count, rejected, objections },
            hint: 'Run with --verbose to see each settler: proposals, objections and submissions.',
          }),
        )
        wake()
      }, SETTLE_TIMEOUT_MS)
    })
    try {
      await Promise.race([until(everyone), timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  const started = performance.now()
  const cpuAtStart = process.cpuUsage()
  let settlement: SettlementReport | null = null
  let workDoneAt: number | undefined
  const rejected: Record<string, number> = {}
  const endOfRun = new Map<Address, { slashed: bigint; earned: bigint; jailed: boolean }>()
  /** Task i's spec as the requester signs it now, through `gateway`: ground for its coalition's seats by a grinding requester. */
  const specFor = async (i: number, item: WorkloadItem, gateway: number, policy: Policy, drawBlockOf: (offered: bigint) => bigint): Promise<TaskSpec> => {
    const spec: TaskSpec = {
      requester: requester.address,
      nonce: BigInt(i),
      runtime: item.runtime ?? 'wasm',
      ...(item.comparison === undefined ? {} : { comparison: item.comparison }),
      program: programIdOf(item.programBytes),
      input: contentId(item.input),
      limits: item.limits,
      policy,
      fee: FEE,
      epoch: currentEpoch(),
      drawBlock: drawBlockOf(nodes[gateway]!.nextDrawBlock()),
      deadline: BigInt(Date.now() + 60_000),
    }
    const view = grinder === undefined ? undefined : chain.snapshot(spec.epoch)
    const guess = view === undefined ? undefined : await chain.awaitBlock(chain.head(), 1_000)
    return grinder === undefined || view === undefined || guess === undefined ? spec : grinder.grind(spec, view, guess)
  }
  /** The newest block an anchor of this requester landed in: the chain is at least there, whatever the gateway saw. */
  let lastAnchorBlock = 0n
  const drawLead = createDrawLead()
  /**
   * Signs task i's spec, anchors its id (with the other specs signed meanwhile) and submits it
   * through `gateway`. A spec whose anchor landed in its draw block or later is signed again with a
   * later one (`signAnchored`, as the SDK does).
   */
  const submitOne = async (i: number, item: WorkloadItem, gateway: number, policy: Policy): Promise<void> => {
    // Latency counts from the first signature: anchoring is part of submitting.
    const startedAt = performance.now()
    const anchorOne = () =>
      signAnchored({
        async sign(leadBlocks) {
          // The chain is at least at the last anchor's block, however far behind the gateway's view of it.
          const head = chain.head() > lastAnchorBlock ? chain.head() : lastAnchorBlock
          return signTaskSpec(requester, await specFor(i, item, gateway, policy, (offered) => anchoredDrawBlock(offered, head, leadBlocks)), domain)
        },
        anchorer: {
          async anchor(spec, id) {
            const anchored = await anchorer.anchor(spec, id)
            if (anchored.block > lastAnchorBlock) lastAnchorBlock = anchored.block
            return anchored
          },
        },
        lead: drawLead,
        domain,
      })
    // A spec anchored late every time is submitted anyway: its gateway refuses it (SPEC_NOT_ANCHORED,
    // counted below). It is signed afresh up to LATE_ANCHOR_ROUNDS times first: a chain that jumps
    // many blocks at once (a test mining through a governance vote) can outrun every try of one round.
    let anchored = await anchorOne()
    for (let round = 1; round < LATE_ANCHOR_ROUNDS && !anchored.inTime; round++) anchored = await anchorOne()
    const { signed, taskId } = anchored
    const spec = signed.message
    // The task id is known before submitting, so the gateway's verdict cannot be missed.
    gatewayOf.set(taskId, gateway)
    itemOf.set(taskId, item)
    submittedAt.set(taskId, startedAt)
    try {
      await nodes[gateway]!.submitTask(signed, [item.programBytes, item.input])
    } catch (error) {
      if (!(error instanceof SpecRejectedError)) throw error
      gatewayOf.delete(taskId)
      itemOf.delete(taskId)
      submittedAt.delete(taskId)
      // E.g. too few eligible nodes once adversaries are jailed: the task gets no outcome.
      rejected[error.code] = (rejected[error.code] ?? 0) + 1
      logger.warn('task rejected by its gateway', { taskId, error })
      return
    }
    item.taskId = taskId
    item.epoch = spec.epoch
    if (options.onSeated !== undefined) seated(taskId, spec, options.onSeated).catch((error: unknown) => logger.error('onSeated failed', { taskId, error }))
    submitted++
    options.onProgress?.({ submitted, decided, total: taskCount })
  }
  try {
    // Each epoch's tasks are submitted once the epoch is open; the nodes settle it after it ends.
    const epochs = useChain ? Math.ceil(taskCount / epochTasks) : 1
    const groupEpochs: bigint[] = []
    for (let epoch = 0; epoch < epochs; epoch++) {
      if (dev !== undefined && epoch > 0) await openEpoch(dev, network!, BigInt(epoch))
      const group = useChain ? workload.slice(epoch * epochTasks, (epoch + 1) * epochTasks) : workload
      groupEpochs.push(currentEpoch())
      // The requester follows the chain: the epoch's governed default policy, unless it samples.
      const epochPolicy = options.sampleRatePpm === undefined ? (chain.snapshot(currentEpoch())?.params?.defaultPolicy ?? policy) : policy
      for (const [index, item] of group.entries()) {
        if (dev !== undefined && index === Math.floor(group.length / 2)) await options.onEpoch?.(BigInt(epoch), dev)
        await until(() => failure !== undefined || submitted + launching - decided < concurrency)
        if (failure !== undefined) throw failure
        options.signal?.throwIfAborted()
        const i = launched++
        launching++
        // Submitted concurrently, so that the specs signed while an anchor transaction is under way share the next.
        void submitOne(i, item, i % nodes.length, epochPolicy)
          .catch((error: unknown) => void (failure ??= error))
          .finally(() => {
            launching--
            wake()
          })
      }
      await until(() => failure !== undefined || launching === 0)
      if (failure !== undefined) throw failure
      // The epoch is over when every gateway decided its tasks and no node has a task still open.
      await until(() => decided >= submitted && nodes.every((n) => n.stats().openTasks === 0))
    }
    workDoneAt = performance.now()
    if (dev !== undefined && network !== undefined) {
      // Opening the next epoch ends the last one; then every node settles what is left.
      await openEpoch(dev, network, BigInt(epochs))
      await settled(epochs)
      workDoneAt = performance.now()
      for (const item of workload) {
        const at = item.epoch === undefined ? undefined : settledEpochs.get(item.epoch)?.at
        const start = item.taskId === undefined ? undefined : submittedAt.get(item.taskId)
        if (at !== undefined && start !== undefined) settlementLatencies.push(at - start)
      }
      const receipts = collectReceipts(workload, (taskId) => hosts[gatewayOf.get(taskId) ?? 0]?.settler?.receipt(taskId))
      const earned = await claimAll(dev, network, [...nodes.map((n) => n.address), dev.treasury])
      settlement = await reportSettlement(dev, network, seed, [...outcomes.values()], settledEpochs, receipts, anchoring)
      for (const node of nodes) {
        endOfRun.set(node.address, {
          slashed: STAKE - (await dev.client.stakeOf(node.address)),
          earned: earned.get(node.address) ?? 0n,
          jailed: (await dev.client.jailedUntil(node.address)) > 0n,
        })
      }
      if (options.receiptsFile !== undefined) await writeReceipts(options.receiptsFile, receipts)
    }
  } finally {
    await closeAll()
  }
  const durationMs = (workDoneAt ?? performance.now()) - started
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
    grinding: grinder?.stats ?? null,
    audited: decidedVerdicts.filter((v) => v.executors.length > executorsOf(policy)).length,
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
      const gained = end?.earned ?? 0n
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
        behaviour: cast.behaviourOf(i),
        slashed: slashed.toString(),
        net: (gained - slashed).toString(),
        jailed: end?.jailed ?? false,
      }
    }),
    settlement,
  }
}

/** Opens `epoch` on the chain and waits until the nodes' follower has read it. */
async function openEpoch(dev: DevChain, network: InProcessNodes, epoch: bigint): Promise<void> {
  await dev.openEpoch(epoch)
  if (!(await network.follower.awaitEpoch(epoch, 30_000))) {
    throw new VeritaskError('CHAIN_UNREACHABLE', `Epoch ${epoch} was opened, but the nodes did not see it within 30 s.`)
  }
}

/** Each submitted task's receipt as its gateway serves it (tasks a batch left out have none). */
function collectReceipts(workload: readonly WorkloadItem[], receiptOf: (taskId: Hex) => Receipt | null | undefined): Receipt[] {
  const receipts: Receipt[] = []
  for (const item of workload) {
    const receipt = item.taskId === undefined ? undefined : receiptOf(item.taskId)
    if (receipt !== undefined && receipt !== null) receipts.push(receipt)
  }
  return receipts
}

/** Every account that earned something claims it, with a proof against the newest balances root. */
async function claimAll(dev: DevChain, network: InProcessNodes, accounts: readonly Address[]): Promise<Map<Address, bigint>> {
  const earned = new Map<Address, bigint>()
  for (const account of accounts) {
    const proof = network.nodes.map((n) => n.settler.balanceProof(account)).find((p) => p !== undefined)
    if (proof === undefined || proof.earned === 0n) continue
    await dev.client.claim(dev.deployer, account, proof.earned, proof.charged, proof.proof)
    earned.set(account, proof.earned)
  }
  return earned
}

async function reportSettlement(
  dev: DevChain,
  network: InProcessNodes,
  seed: string,
  verdicts: Verdict[],
  epochs: ReadonlyMap<bigint, { taskCount: number; gasUsed: bigint | null }>,
  receipts: readonly Receipt[],
  anchoring: { anchored: number; transactions: number; fees: bigint },
): Promise<SettlementReport> {
  const totalGas = [...epochs.values()].reduce((sum, e) => sum + (e.gasUsed ?? 0n), 0n)
  const verified = verdicts.filter((v) => v.outcome === 'verified').length
  const requester = dev.requester.account.address
  const deposited = await dev.client.depositOf(requester)
  const charged = network.nodes[0]!.settler.charged(requester)

  let receiptCheck: SettlementReport['receiptCheck'] = null
  const candidates = receipts.filter((r) => r.outcome === 'verified')
  if (candidates.length > 0) {
    const pick = candidates[Number(hexToBigInt(keccak256(stringToBytes(`receipt/${seed}`))) % BigInt(candidates.length))]!
    const tampered = { ...pick, resultHash: keccak256(stringToBytes('a different result')) }
    receiptCheck = {
      taskId: pick.taskId,
      epoch: pick.epoch.toString(),
      valid: isValidReceipt(pick) && (await dev.client.verifyReceipt(pick)),
      tamperedRejected: !(await dev.client.verifyReceipt(tampered)),
    }
  }
  const { token, stakeManager, escrow, settlement } = dev.contracts
  return {
    chainId: dev.chainId,
    contracts: { token, stakeManager, escrow, settlement },
    epochs: epochs.size,
    settledTasks: [...epochs.values()].reduce((sum, e) => sum + e.taskCount, 0),
    gasPerEpoch: epochs.size === 0 ? 0 : Math.round(Number(totalGas) / epochs.size),
    gasPerVerifiedTask: verified === 0 ? 0 : round1(Number(totalGas) / verified),
    totalGas: totalGas.toString(),
    requester: {
      address: requester,
      deposited: deposited.toString(),
      charged: charged.toString(),
      remaining: (deposited - charged).toString(),
      anchored: anchoring.anchored,
      anchorTransactions: anchoring.transactions,
      anchorFees: anchoring.fees.toString(),
    },
    treasury: { address: dev.treasury, earned: ((await dev.client.tokenBalance(dev.treasury)) - anchoring.fees).toString() },
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
