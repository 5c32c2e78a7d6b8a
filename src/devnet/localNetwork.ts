import { privateKeyToAddress } from 'viem/accounts'
import type { Address, Hex, PublicClient } from 'viem'
import type { ChainParams, DeployedContracts } from '../chain/deploy.ts'
import { defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import { createWasmRuntime } from '../exec/wasm/createWasmRuntime.ts'
import { createMemoryHub } from '../net/memory/createMemoryHub.ts'
import { silentLogger } from '../node/logger.ts'
import type { Logger } from '../node/logger.ts'
import { castBehaviours } from './adversaries.ts'
import type { Behaviour } from './adversaries.ts'
import { startDevChain } from './startDevChain.ts'
import { startInProcessNodes } from './inProcessNodes.ts'
import type { InProcessNodes, SettlingNode } from './inProcessNodes.ts'
import { createPublicSeats } from './publicSeats.ts'
export interface LocalNetworkOptions {
  /** Nodes, all with equal stake. Default 5. */
  nodes?: number
  /** Seeds the accounts. */
  seed?: string
  /** A block is mined this often (ms), so that epochs pass on their own. Default 250. */
  blockMs?: number
  /** Blocks per epoch. Default 20 (5 s with the default block time). */
  epochBlocks?: bigint
  /**
   * How long after an epoch ends its specs are still accepted, and its batch waits. Default 1 s:
   * gossip over the in-memory transport crosses in milliseconds, not the commit window of a WAN.
   */
  epochGraceMs?: number
  /**
   * How node i behaves (honest past the list's end), as `veritask devnet --adversary` casts it.
   * A copier here never finds a result to copy (the in-process devnet publishes its verified
   * results for it; a live network has no such oracle), so it misses every seat.
   */
  behaviours?: readonly Behaviour[]
  /** Test tokens minted to the requester (not deposited). Default 1,000 tokens. */
  requesterTokens?: bigint
  params?: Partial<ProtocolParams>
  chainParams?: Partial<ChainParams>
  logger?: Logger
  signal?: AbortSignal
}

export interface LocalNetwork {
  rpcUrl: string
  chainId: number
  contracts: DeployedContracts
  /** Each node's HTTP API, in node order. */
  nodeApiUrls: string[]
  nodeAddresses: Address[]
  /** A requester with gas money and test tokens, nothing deposited yet. A devnet key: public knowledge. */
  requesterKey: Hex
  requester: Address
  publicClient: PublicClient
  nodes: SettlingNode[]
  stop(): Promise<void>
}

/**
 * A live local network that runs until stopped: anvil with the contracts, N staked nodes on the
 * in-memory transport, each with its HTTP API, following the chain and settling every epoch
 * themselves. Blocks are mined on a timer so that epochs pass without traffic. What `veritask
 * devnet --serve` runs, and what SDK tests run against.
 */
export async function startLocalNetwork(options: LocalNetworkOptions = {}): Promise<LocalNetwork> {
  const seed = options.seed ?? 'veritask'
  const nodeCount = options.nodes ?? 5
  const logger = options.logger ?? silentLogger
  const params: ProtocolParams = { ...defaultParams, ...options.params }
  const dev = await startDevChain({
    seed,
    nodes: nodeCount,
    params,
    ...(options.epochBlocks === undefined ? {} : { epochBlocks: options.epochBlocks }),
    ...(options.chainParams === undefined ? {} : { chainParams: options.chainParams }),
    ...(options.requesterTokens === undefined ? {} : { requesterTokens: options.requesterTokens }),
    ...(options.blockMs === undefined ? {} : { blockMs: options.blockMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
  const stops: Array<() => Promise<void> | void> = [() => dev.stop()]
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s()
  }
  try {
    const wasm = createWasmRuntime({ maxModuleBytes: params.maxProgramBytes })
    stops.push(() => wasm.close())
    let network: InProcessNodes | undefined
    const cast = castBehaviours({
      behaviours: options.behaviours ?? [],
      seed,
      commitWindowMs: params.commitWindowMs,
      addresses: dev.nodeKeys.map((key) => privateKeyToAddress(key)),
      // What every node sees: the specs the nodes hold and the epoch's snapshot.
      seatsOf: createPublicSeats({
        arbiters: params.arbiters,
        specOf: (taskId) => network?.nodes.map((h) => h.node.getTask(taskId)?.spec).find((spec) => spec !== undefined),
        snapshot: (epoch) => network?.follower.snapshot(epoch),
        blockHash: (block) => network?.follower.blockHash(block),
      }),
    })
    const started = await startInProcessNodes({
      dev,
      hub: createMemoryHub({ seed: 7 }),
      params,
      runtimes: (i) => ({ wasm: cast.wrap(i, wasm) }),
      transport: cast.transport,
      logger,
      api: true,
      openEpochs: true,
      epochGraceMs: options.epochGraceMs ?? 1_000,
    })
    network = started
    stops.push(() => started.stop())
    const { nodes } = started
    return {
      rpcUrl: dev.rpcUrl,
      chainId: dev.chainId,
      contracts: dev.contracts,
      nodeApiUrls: nodes.map((n) => n.api!.url),
      nodeAddresses: nodes.map((n) => n.node.address),
      requesterKey: dev.requesterKey,
      requester: dev.requester.account.address,
      publicClient: dev.publicClient,
      nodes,
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
