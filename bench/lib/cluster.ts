// A lean in-process network for the benchmarks that need to see inside it: N nodes on the memory
// transport, a requester that signs specs and keeps a window of tasks in flight, epochs that roll
// over every `epochTasks` tasks (the nodes then drop what they kept for the closed epoch, as they do
// once its batch is settled on-chain; no chain here), and the numbers the benchmarks read: latency
// per task, gossip traffic, process CPU and memory samples. Unlike runDevnet it keeps nothing per
// task itself (tasks are generated on the fly, latencies go into a preallocated array), so memory
// growth over a long run is the nodes' own.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keccak256, stringToBytes } from 'viem'
import type { Signer } from '../../src/core/signing.ts'
import { createStaticChainView } from '../../src/chain/memory/createStaticChainView.ts'
import type { EpochSnapshot } from '../../src/chain/memory/createStaticChainView.ts'
import { contentId } from '../../src/core/contentId.ts'
import { devnetDomain, hashTaskSpec } from '../../src/core/eip712.ts'
import { DRAW_LEAD_BLOCKS, defaultParams } from '../../src/core/params.ts'
import type { ProtocolParams } from '../../src/core/params.ts'
import { anchorAlone } from '../../src/core/taskAnchor.ts'
import { signTaskSpec } from '../../src/core/taskSpec.ts'
import type { Hex, Policy, TaskLimits, TaskSpec } from '../../src/core/types.ts'
import { createNativeVerifier, verifyNative } from '../../src/crypto/secp256k1.ts'
import { devnetAccount } from '../../src/devnet/accounts.ts'
import { startNodeHost } from '../../src/host/startNodeHost.ts'
import { createMemoryHub } from '../../src/net/memory/createMemoryHub.ts'
import type { VeritaskNode } from '../../src/node/createNode.ts'
import type { Runtime } from '../../src/ports/runtime.ts'
import { createDiskBlobStore } from '../../src/store/disk/createDiskBlobStore.ts'
import { createSqliteNodeStore } from '../../src/store/sqlite/createSqliteNodeStore.ts'
import type { SqliteNodeStore } from '../../src/store/sqlite/createSqliteNodeStore.ts'

export interface ClusterTask {
  program: Uint8Array
  input: Uint8Array
  limits: TaskLimits
}

export interface RunClusterOptions {
  nodes: number
  tasks: number
  /** The i-th task's program and input (made on demand, not kept). */
  task: (i: number) => ClusterTask
  runtime: Runtime
  policy?: Policy
  concurrency?: number
  /** Tasks per epoch; after each epoch every node forgets it (as after settlement). Default 200. */
  epochTasks?: number
  /** Node state in SQLite and blobs on disk under a temp dir (as a daemon keeps them), or in memory. */
  stores?: 'memory' | 'disk'
  /** Where the temp dir for 'disk' stores goes; the OS temp dir by default. */
  tempDir?: string
  /** Called after every `sampleEvery` decided tasks (default 100), e.g. to sample memory. */
  onSample?: (decided: number) => void
  sampleEvery?: number
  seed?: string
  /**
   * Let the nodes share one signature cache, as runDevnet's do (each message is then recovered once
   * per process, not once per node). Off by default: each node checks what it receives itself, as
   * on its own machine.
   */
  sharedSignatureCache?: boolean
  /**
   * Started with the first submission and stopped after the last verdict: e.g. an attacker on the
   * same hub. It gets the hub, the nodes and their staked accounts.
   */
  during?: (cluster: { hub: ReturnType<typeof createMemoryHub>; nodes: readonly VeritaskNode[]; accounts: readonly Signer[] }) => () => Promise<void>
}

export interface ClusterResult {
  durationMs: number
  verified: number
  /** Submit → verdict at the gateway, per task, in ms. */
  latencies: Float64Array
  /** Messages and bytes all nodes published, and all nodes received. */
  published: { messages: number; bytes: number }
  received: { messages: number; bytes: number }
  /** Process CPU over the run (all threads), in ms. */
  cpuMs: number
}

const STAKE = 1_000n * 10n ** 18n
const FEE = 10n ** 15n

export async function runCluster(options: RunClusterOptions): Promise<ClusterResult> {
  const seed = options.seed ?? 'bench'
  const concurrency = options.concurrency ?? 32
  const epochTasks = options.epochTasks ?? 200
  const sampleEvery = options.sampleEvery ?? 100
  const params: ProtocolParams = { ...defaultParams }
  const policy = options.policy ?? params.defaultPolicy
  const requester = devnetAccount(seed, 'requester')
  const accounts = Array.from({ length: options.nodes }, (_, i) => devnetAccount(seed, 'node', i))
  const snapshot = (epoch: bigint): EpochSnapshot => ({
    epoch,
    seed: keccak256(stringToBytes(`bench/${seed}/epoch/${epoch}`)),
    nodes: accounts.map((a) => ({ address: a.address, weight: STAKE, runtimes: ['wasm'] })),
    // Escrow for the whole run: what a settled epoch charged is no longer reserved by the nodes.
    escrow: new Map([[requester.address, FEE * BigInt(options.tasks)]]),
  })
  const chain = createStaticChainView(snapshot(0n))
  const hub = createMemoryHub({ seed: 7 })
  const dir = options.stores === 'disk' ? mkdtempSync(join(options.tempDir ?? tmpdir(), 'veritask-bench-')) : undefined
  const stores: SqliteNodeStore[] = []
  // Started by the node host, as every node is; no settlement port, since there is no chain here.
  const hosts = await Promise.all(
    accounts.map((account, i) => {
      const persistent =
        dir === undefined
          ? {}
          : {
              store: stores[stores.push(createSqliteNodeStore({ path: join(dir, `node-${i}`, 'state.db') })) - 1],
              blobs: createDiskBlobStore({ dir: join(dir, `node-${i}`, 'blobs') }),
            }
      return startNodeHost({
        account,
        network: hub.connect(`node-${i}`),
        chain,
        runtimes: { wasm: options.runtime },
        params,
        domain: devnetDomain,
        verify: options.sharedSignatureCache === true ? verifyNative : createNativeVerifier({ cacheSize: 0 }),
        ...persistent,
      })
    }),
  )
  const nodes: VeritaskNode[] = hosts.map((host) => host.node)

  const latencies = new Float64Array(options.tasks)
  const submittedAt = new Map<Hex, { index: number; at: number }>()
  let decided = 0
  let verified = 0
  let wake: (() => void) | undefined
  nodes.forEach((node, i) =>
    node.onVerdict((verdict) => {
      const pending = submittedAt.get(verdict.taskId)
      if (pending === undefined || pending.index % nodes.length !== i) return wake?.()
      submittedAt.delete(verdict.taskId)
      latencies[pending.index] = performance.now() - pending.at
      if (verdict.outcome === 'verified') verified++
      decided++
      if (decided % sampleEvery === 0) options.onSample?.(decided)
      wake?.()
    }),
  )
  const settledTasks = () => nodes.every((n) => n.stats().openTasks === 0)

  const cpu0 = process.cpuUsage()
  const started = performance.now()
  const stopDuring = options.during?.({ hub, nodes, accounts })
  try {
    let epoch = 0n
    for (let i = 0; i < options.tasks; i++) {
      while (i - decided >= concurrency) await new Promise<void>((resolve) => (wake = resolve))
      if (i > 0 && i % epochTasks === 0) {
        // Close the epoch: wait for its tasks everywhere, move every node on, forget the old one.
        while (decided < i || !settledTasks()) await new Promise<void>((resolve) => (wake = resolve))
        chain.update(snapshot(epoch + 1n))
        for (const node of nodes) node.forgetEpoch(epoch)
        epoch++
      }
      const { program, input, limits } = options.task(i)
      const spec: TaskSpec = {
        requester: requester.address,
        nonce: BigInt(i),
        runtime: 'wasm',
        program: contentId(program),
        input: contentId(input),
        limits,
        policy,
        fee: FEE,
        epoch,
        drawBlock: chain.head() + DRAW_LEAD_BLOCKS,
        deadline: BigInt(Date.now() + 60_000),
      }
      // No chain here: the static view's anchors are instant, so each id is anchored alone, with no transaction.
      const signed = anchorAlone(await signTaskSpec(requester, spec, devnetDomain), hashTaskSpec(spec, devnetDomain))
      const gateway = nodes[i % nodes.length] as VeritaskNode
      const at = performance.now()
      const taskId = await gateway.submitTask(signed, [program, input])
      submittedAt.set(taskId, { index: i, at })
    }
    while (decided < options.tasks) await new Promise<void>((resolve) => (wake = resolve))
  } finally {
    await stopDuring?.()
    await Promise.all(hosts.map((host) => host.stop()))
    for (const store of stores) store.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  }
  const durationMs = performance.now() - started
  const cpu = process.cpuUsage(cpu0)
  const traffic = { published: { messages: 0, bytes: 0 }, received: { messages: 0, bytes: 0 } }
  for (let i = 0; i < nodes.length; i++) {
    const s = hub.statsOf(`node-${i}`)
    traffic.published.messages += s.messagesPublished
    traffic.published.bytes += s.bytesPublished
    traffic.received.messages += s.messagesReceived
    traffic.received.bytes += s.bytesReceived
  }
  return { durationMs, verified, latencies, ...traffic, cpuMs: (cpu.user + cpu.system) / 1000 }
}

/**
 * A runtime that executes nothing: its output is the first 32 bytes of the input, the same on every
 * node. With it, every CPU cycle a run spends is protocol work.
 */
export const echoRuntime: Runtime = {
  name: 'wasm',
  execute: async ({ input }) => ({ status: 'ok', output: input.slice(0, 32), fuelUsed: 1n }),
  close: async () => {},
}
