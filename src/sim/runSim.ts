import { keccak256, stringToBytes } from 'viem'
import { createMemoryChain } from '../chain/memory/createMemoryChain.ts'
import { contentId } from '../core/contentId.ts'
import { createSeededRandom } from '../core/seededRandom.ts'
import { devnetDomain, hashTaskSpec } from '../core/eip712.ts'
import { defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import { anchorAlone } from '../core/taskAnchor.ts'
import { signTaskSpec } from '../core/taskSpec.ts'
import type { Address, Hex, TaskSpec, Verdict } from '../core/types.ts'
import { deriveBlsKey } from '../crypto/bls.ts'
import { createNativeSigner, createNativeVerifier } from '../crypto/secp256k1.ts'
import { createCachedVrfVerifier, createNativeVrfKey } from '../crypto/vrf.ts'
import { devnetPrivateKey } from '../devnet/accounts.ts'
import { castBehaviours } from '../devnet/adversaries.ts'
import type { Behaviour } from '../devnet/adversaries.ts'
import { createPublicSeats } from '../devnet/publicSeats.ts'
import { quantile } from '../devnet/stats.ts'
import { startNodeHost } from '../host/startNodeHost.ts'
import type { NodeHost } from '../host/startNodeHost.ts'
import { createMemoryHub } from '../net/memory/createMemoryHub.ts'
import { createMessageReader } from '../node/messageReader.ts'
import { defaultTaskTerms } from '../sdk/actions/submitTask.ts'
import type { Logger } from '../node/logger.ts'
import { adversaryReport, assertSimBehaviours } from './adversaryReport.ts'
import type { SimAdversaryReport } from './adversaryReport.ts'
import { createCostRuntime, costRuntimeOutput } from './costRuntime.ts'
import type { CostRuntime } from './costRuntime.ts'
import { createSimClock } from './simClock.ts'

/**
 * A network class: one-way delay between two peers of it, in simulated ms, and their bandwidth, so
 * that a message of `b` bytes also takes `8b / (mbps · 1000)` ms (the slower peer's class counts).
 */
export interface LatencyClass {
  name: string
  minMs: number
  maxMs: number
  mbps: number
}

/** The simulator's default classes: a third of the nodes each in one data centre, one region, one continent apart. */
export const defaultLatencyClasses: readonly LatencyClass[] = [
  { name: 'datacentre', minMs: 1, maxMs: 5, mbps: 1_000 },
  { name: 'region', minMs: 10, maxMs: 30, mbps: 100 },
  { name: 'continent', minMs: 40, maxMs: 120, mbps: 20 },
]

/** The default speed classes: how many times the calibrated cost an execution takes. */
export const defaultSpeedClasses: readonly number[] = [1, 1, 2]

export interface SimOptions {
  nodes: number
  tasks: number
  /** Tasks the requester submits per simulated second. Default: 2 per node. */
  ratePerSecond?: number
  /** Simulated ms one execution takes on a speed-1 node (calibrated from the WASM runtime: docs/simulator.md). Default 5. */
  taskMs?: number
  /** Replication of every task. Default 3 of quorum 2. */
  k?: number
  /** Simulated ms per epoch. Default 10,000. */
  epochMs?: number
  latencyClasses?: readonly LatencyClass[]
  speedClasses?: readonly number[]
  seed?: string
  /**
   * Churn: the share of nodes offline at a time (0 to 0.5). Each epoch a new set, drawn from the
   * seed, is cut off from everyone (its timers still run) until the next epoch opens.
   */
  churn?: number
  /** A partition: from `fromMs` to `toMs` (simulated) the odd and the even nodes cannot reach each other. */
  partition?: { fromMs: number; toMs: number }
  /**
   * Each node's behaviour (`parseAdversaries`: the adversaries take the last nodes), from the
   * devnet's adversaries that the simulator models (`simBehaviours`). Default: every node honest.
   */
  adversaries?: readonly Behaviour[]
  /** Each node's stake in wei, in node order (1,000 VTT each by default): a coalition can split its stake over many small nodes. */
  stakes?: readonly bigint[]
  /** Simulated time after which the run stops, settled or not. Default one hour. */
  untilMs?: number
  onProgress?: (progress: { decided: number; total: number; simulatedMs: number }) => void
  /** Where the nodes log (silent by default). */
  logger?: Logger
}

export interface SimReport {
  nodes: number
  tasks: number
  k: number
  taskMs: number
  ratePerSecond: number
  /** The faults injected: the share of nodes offline in each epoch, and the partition window. */
  faults: { churn: number; partition: { fromMs: number; toMs: number } | null }
  outcomes: { verified: number; failed: number; unresolved: number; undecided: number; refused: number }
  /** First submission to last verdict, simulated. */
  simulatedMs: number
  throughputPerSecond: number
  /** Submission to the gateway's verdict, simulated ms. */
  latencyMs: { p50: number; p90: number; p99: number; max: number }
  /** The latency distribution: [q, ms] at q = 0.05, 0.10, …, 0.95 and 0.99. */
  latencyQuantiles: Array<[number, number]>
  /** Gossip messages and bytes each node received, per task of the whole run (mean over nodes). */
  messagesPerNodePerTask: number
  bytesPerNodePerTask: number
  /** Simulated execution time of all nodes, and the real CPU this process spent on everything else (the protocol). */
  cpu: { executionMs: number; protocolMs: number; protocolMsPerNodePerTask: number; coordinationShare: number }
  /** Each epoch with tasks: how many, and when the chain settled it (simulated ms), null if it did not. */
  epochs: Array<{ epoch: number; tasks: number; settledAtMs: number | null }>
  /** Proposals the members would not sign, by reason (core/batchCheck.ts), summed over members. */
  objections: Record<string, number>
  /**
   * How views that differed came together, summed over members: evidence published with objections,
   * certificates kept as evidence (from it and from refused proposals), and batches signed once
   * others vouched for tasks a member never saw.
   */
  convergence: { evidencePublished: number; evidenceTaken: number; signedOnVouches: number }
  /** With adversaries: wrong results verified against the prediction, and each behaviour's money. Null without. */
  adversaries: SimAdversaryReport | null
  /** Real time the run took. */
  wallMs: number
}

const STAKE = 1_000n * 10n ** 18n
const FEE = 10n ** 15n

/**
 * Runs N real nodes (`startNodeHost`: the same node and settler as `veritask node`) on simulated
 * adapters: the memory hub delivering on a simulated clock with per-pair latency classes, the
 * in-memory chain (stake, escrow, epochs, BLS settlement), and a cost-model runtime with speed
 * classes. A requester submits `tasks` at a steady rate; epochs open on the clock and settle.
 */
export async function runSim(options: SimOptions): Promise<SimReport> {
  const started = performance.now()
  const n = options.nodes
  const seed = options.seed ?? 'veritask-sim'
  const k = options.k ?? 3
  const taskMs = options.taskMs ?? 5
  const rate = options.ratePerSecond ?? 2 * n
  const epochMs = options.epochMs ?? 10_000
  const latencyClasses = options.latencyClasses ?? defaultLatencyClasses
  const speedClasses = options.speedClasses ?? defaultSpeedClasses
  const untilMs = options.untilMs ?? 3_600_000
  if (!(n >= k + 1)) throw new RangeError(`A simulation needs more than k = ${k} nodes.`)
  const behaviours = options.adversaries ?? []
  assertSimBehaviours(behaviours)

  const clock = createSimClock()
  /** A PRNG of its own for each use, all drawn from the run's seed. */
  const randomFor = (label: string) => createSeededRandom(Number.parseInt(keccak256(stringToBytes(`${seed}/${label}`)).slice(2, 10), 16))
  // The devnet's default policy (with its audit rate) at the chosen k.
  const params: ProtocolParams = { ...defaultParams, defaultPolicy: { ...defaultParams.defaultPolicy, kind: 'replicate', k, quorum: Math.floor(k / 2) + 1 } }
  const keys = Array.from({ length: n }, (_, i) => devnetPrivateKey(seed, 'node', i))
  const accounts = keys.map((key) => createNativeSigner(key))
  const requesterKey = devnetPrivateKey(seed, 'requester')
  const requester = createNativeSigner(requesterKey)
  const chain = createMemoryChain({
    treasury: createNativeSigner(devnetPrivateKey(seed, 'treasury')).address,
    seed: keccak256(stringToBytes(`${seed}/epochs`)),
    parameters: { commitWindowMs: params.commitWindowMs, revealWindowMs: params.revealWindowMs },
    baseParams: params,
  })
  if (options.stakes !== undefined && (options.stakes.length !== n || options.stakes.some((s) => s <= 0n))) {
    throw new RangeError(`stakes must give each of the ${n} nodes a positive stake.`)
  }
  const stakeOf = (i: number) => options.stakes?.[i] ?? STAKE
  for (const [i, account] of accounts.entries()) {
    const bls = await deriveBlsKey(account)
    await chain.registerBlsKey(account.address, bls.publicKey, bls.proofOfPossession(account.address))
    chain.stake(account.address, stakeOf(i))
  }
  chain.deposit(requester.address, FEE * BigInt(options.tasks))
  const firstEpoch = chain.openEpoch()

  // Peer i's latency class and speed class come from its index, spread evenly.
  const peerIndex = (peer: string) => Number(peer.slice('node-'.length))
  // Where in its class's range a pair's latency lies: fixed per pair, from per-node draws of the seed.
  const draws = randomFor('latency')
  const offsets = Array.from({ length: n }, () => draws())
  const jitter = (a: string, b: string) => (offsets[peerIndex(a)]! + offsets[peerIndex(b)]!) % 1
  /** Nodes cut off by churn in the current epoch. */
  let offline = new Set<number>()
  const churned = Math.floor((options.churn ?? 0) * n)
  if (!(churned >= 0 && churned <= n / 2)) throw new RangeError('churn must be between 0 and 0.5')
  const churn = (epoch: bigint) => {
    const draw = randomFor(`churn/${epoch}`)
    offline = new Set()
    while (offline.size < churned) offline.add(Math.floor(draw() * n))
  }
  const partitioned = (a: number, b: number) =>
    options.partition !== undefined && clock.now() >= options.partition.fromMs && clock.now() < options.partition.toMs && a % 2 !== b % 2
  const hub = createMemoryHub({
    schedule: (delayMs, fn) => void clock.setTimer(delayMs, fn),
    latencyMs: (from, to, bytes) => {
      const c = latencyClasses[Math.max(peerIndex(from) % latencyClasses.length, peerIndex(to) % latencyClasses.length)]!
      return c.minMs + jitter(from, to) * (c.maxMs - c.minMs) + (bytes * 8) / (c.mbps * 1_000)
    },
    reachable: (from, to) => {
      const [a, b] = [peerIndex(from), peerIndex(to)]
      return !offline.has(a) && !offline.has(b) && !partitioned(a, b)
    },
  })
  churn(firstEpoch)
  /** With adversaries, the specs submitted so far: what gossip shows every node, adversaries included. */
  const specs = new Map<Hex, TaskSpec>()
  // The adversaries rank each task's places from public data, as every node can.
  const seatsOf = createPublicSeats({ arbiters: params.arbiters, specOf: (taskId) => specs.get(taskId), snapshot: (epoch) => chain.snapshot(epoch), blockHash: (block) => chain.blockHash(block) })
  const cast = castBehaviours({ behaviours, seed, commitWindowMs: params.commitWindowMs, addresses: accounts.map((a) => a.address), seatsOf })
  const runtimes: CostRuntime[] = []
  // One process: each message is decoded and its signatures recovered once for all nodes, as in the in-process devnet.
  const read = createMessageReader({ domain: devnetDomain, maxBytes: params.maxMessageBytes, shared: true })
  const verify = createNativeVerifier({ cacheSize: 1 << 16 })
  const verifyVrf = createCachedVrfVerifier({ cacheSize: 1 << 16 })
  const hosts: NodeHost[] = []
  for (const [i, account] of accounts.entries()) {
    const runtime = createCostRuntime({ clock, costMs: taskMs * speedClasses[i % speedClasses.length]! })
    runtimes.push(runtime)
    hosts.push(
      await startNodeHost({
        account,
        vrf: createNativeVrfKey(keys[i]!),
        network: cast.transport(i, hub.connect(`node-${i}`), { signer: account, domain: devnetDomain }),
        chain,
        settlement: chain,
        domain: devnetDomain,
        runtimes: { wasm: cast.wrap(i, runtime) },
        params,
        clock,
        verify,
        verifyVrf,
        read,
        batchWindowMs: 0,
        // Seeded salts: a run repeats exactly (audit draws hash the commitments). Never outside a simulation.
        randomBytes: seededBytes(randomFor(`salts/${i}`)),
        ...(options.logger === undefined ? {} : { logger: options.logger.child({ node: i }) }),
      }),
    )
  }

  // The requester: one program, a distinct input per task, submitted at a steady rate through gateways in turn.
  const program = stringToBytes('veritask-sim program')
  const submittedAt = new Map<Hex, number>()
  const decidedAt = new Map<Hex, { verdict: Verdict; at: number }>()
  const taskEpochs = new Map<Hex, bigint>()
  let refused = 0
  hosts.forEach((host, i) =>
    host.node.onVerdict((verdict) => {
      const taskId = verdict.taskId
      if (submittedAt.has(taskId) && !decidedAt.has(taskId) && gatewayOf.get(taskId) === i) {
        decidedAt.set(taskId, { verdict, at: clock.now() })
        // Its seats while its epoch's snapshot is still at hand (the chain view keeps a few).
        if (behaviours.length > 0) seatsAtVerdict.set(taskId, seatsOf(taskId)?.seats)
        options.onProgress?.({ decided: decidedAt.size, total: options.tasks, simulatedMs: clock.now() })
      }
    }),
  )
  const gatewayOf = new Map<Hex, number>()
  const seatsAtVerdict = new Map<Hex, readonly Address[] | undefined>()
  /** Task i's input: its spec's nonce is i. */
  const inputOf = (i: number | bigint) => stringToBytes(`task ${i}`)
  const submit = async (i: number) => {
    // The requester reaches a node that is online and, in a partition, on its side (the even one).
    let gateway = i % n
    while (offline.has(gateway) || partitioned(gateway, 0)) gateway = (gateway + 1) % n
    const node = hosts[gateway]!.node
    const input = inputOf(i)
    const spec: TaskSpec = {
      requester: requester.address,
      nonce: BigInt(i),
      runtime: 'wasm',
      program: contentId(program),
      input: contentId(input),
      limits: { fuel: 1_000_000n, memoryPages: 16, outputBytes: 1_024 },
      policy: params.defaultPolicy,
      fee: FEE,
      epoch: chain.epoch(),
      drawBlock: node.nextDrawBlock(),
      // The SDK's default: a task undecided by then is unresolved, and its epoch may settle.
      deadline: BigInt(clock.now() + defaultTaskTerms.deadlineMs),
    }
    const taskId = hashTaskSpec(spec, devnetDomain)
    // The in-memory chain's anchors are instant: a root alone proves its one id.
    const signed = anchorAlone(await signTaskSpec(requester, spec, devnetDomain), taskId)
    submittedAt.set(taskId, clock.now())
    if (behaviours.length > 0) specs.set(taskId, spec)
    gatewayOf.set(taskId, gateway)
    taskEpochs.set(taskId, spec.epoch)
    try {
      await node.submitTask(signed, [program, input])
    } catch {
      refused++
      submittedAt.delete(taskId)
      taskEpochs.delete(taskId)
    }
  }
  for (let i = 0; i < options.tasks; i++) clock.setTimer((i * 1_000) / rate, () => void submit(i))
  // Epochs open on the clock for as long as tasks are in flight, and one more so that the last ends.
  const decidedAll = () => decidedAt.size + refused >= options.tasks
  let lastOpen = 0
  const openNext = () => {
    churn(chain.openEpoch())
    lastOpen = clock.now()
    if (!decidedAll()) clock.setTimer(epochMs, openNext)
  }
  clock.setTimer(epochMs, openNext)

  /** Epochs the chain settled, as the first node's settler saw them, and when. */
  const settled = new Map<bigint, number>()
  hosts[0]!.settler?.onSettled(({ epoch }) => settled.set(epoch, clock.now()))
  const epochsWithTasks = () => [...new Set(taskEpochs.values())].sort((a, b) => (a < b ? -1 : 1))
  const settledAll = () => epochsWithTasks().every((e) => settled.has(e))
  const cpuBefore = process.cpuUsage()
  await clock.run({ done: decidedAll, untilMs })
  // The last epoch with tasks ends once the next opens; then its settlement runs.
  if (decidedAll() && clock.now() > lastOpen) openNext()
  await clock.run({ done: settledAll, untilMs: clock.now() + 4 * epochMs + 2 * defaultTaskTerms.deadlineMs })
  const cpuUsed = process.cpuUsage(cpuBefore)

  const latencies = [...decidedAt].map(([taskId, { at }]) => at - submittedAt.get(taskId)!)
  const firstSubmit = [...submittedAt.values()].reduce((a, b) => Math.min(a, b), Infinity)
  const lastDecided = [...decidedAt.values()].reduce((a, d) => Math.max(a, d.at), -Infinity)
  const count = (outcome: string) => [...decidedAt.values()].filter((d) => d.verdict.outcome === outcome).length
  const received = hosts.map((_, i) => hub.statsOf(`node-${i}`))
  const executionMs = runtimes.reduce((sum, r) => sum + r.busyMs(), 0)
  const protocolMs = (cpuUsed.user + cpuUsed.system) / 1_000
  const report: SimReport = {
    nodes: n,
    tasks: options.tasks,
    k,
    taskMs,
    ratePerSecond: rate,
    faults: { churn: churned / n, partition: options.partition ?? null },
    outcomes: { verified: count('verified'), failed: count('failed'), unresolved: count('unresolved'), undecided: options.tasks - decidedAt.size - refused, refused },
    simulatedMs: Math.round(lastDecided - firstSubmit),
    throughputPerSecond: Math.round((decidedAt.size / Math.max(1, lastDecided - firstSubmit)) * 10_000) / 10,
    latencyMs: {
      p50: Math.round(quantile(latencies, 0.5)),
      p90: Math.round(quantile(latencies, 0.9)),
      p99: Math.round(quantile(latencies, 0.99)),
      max: Math.round(latencies.reduce((a, b) => Math.max(a, b), 0)),
    },
    messagesPerNodePerTask: round2(received.reduce((s, r) => s + r.messagesReceived, 0) / n / options.tasks),
    bytesPerNodePerTask: Math.round(received.reduce((s, r) => s + r.bytesReceived, 0) / n / options.tasks),
    cpu: {
      executionMs: Math.round(executionMs),
      protocolMs: Math.round(protocolMs),
      protocolMsPerNodePerTask: round2(protocolMs / n / options.tasks),
      coordinationShare: round2(protocolMs / (protocolMs + executionMs)),
    },
    latencyQuantiles: [...Array.from({ length: 19 }, (_, i) => (i + 1) / 20), 0.99].map((q) => [q, Math.round(quantile(latencies, q))]),
    epochs: epochsWithTasks().map((e) => ({ epoch: Number(e), tasks: [...taskEpochs.values()].filter((t) => t === e).length, settledAtMs: settled.get(e) ?? null })),
    objections: sumCounts(hosts.map((h) => h.settler?.stats().objections ?? {})),
    convergence: sumCounts(
      hosts.map((h) => {
        const { evidencePublished = 0, evidenceTaken = 0, signedOnVouches = 0 } = h.settler?.stats() ?? {}
        return { evidencePublished, evidenceTaken, signedOnVouches }
      }),
    ) as SimReport['convergence'],
    adversaries:
      behaviours.length === 0
        ? null
        : adversaryReport({
            behaviours,
            addresses: accounts.map((a) => a.address),
            tasks: [...specs].map(([taskId, spec]) => ({
              taskId,
              verdict: decidedAt.get(taskId)?.verdict,
              trueResult: contentId(costRuntimeOutput(spec.program, inputOf(spec.nonce))),
            })),
            seatsOf: (taskId) => seatsAtVerdict.get(taskId),
            staked: (node) => stakeOf(accounts.findIndex((a) => a.address === node)),
            stakeOf: (node) => chain.stakeOf(node),
            jailedUntil: (node) => chain.jailedUntil(node),
            // The balances of the last batch the first node's settler took: cumulative over the run.
            earned: (node) => hosts[0]!.settler?.balanceProof(node)?.earned ?? 0n,
            k,
            auditPpm: params.defaultPolicy.auditPpm ?? 0,
          }),
    wallMs: Math.round(performance.now() - started),
  }
  await Promise.all(hosts.map((h) => h.stop()))
  return report
}

const round2 = (x: number) => Math.round(x * 100) / 100

function sumCounts(counts: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const sum: Record<string, number> = {}
  for (const c of counts) for (const [key, value] of Object.entries(c)) sum[key] = (sum[key] ?? 0) + value
  return sum
}

/** Bytes from a seeded PRNG. */
const seededBytes = (random: () => number) => (length: number) => Uint8Array.from({ length }, () => Math.floor(random() * 256))
