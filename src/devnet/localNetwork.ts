import type { Address, Hex, PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { ChainParams, DeployedContracts } from '../chain/deploy.ts'
import { createChainFollower } from '../chain/viem/createChainFollower.ts'
import { defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import { createWasmRuntime } from '../exec/wasm/createWasmRuntime.ts'
import { createMemoryHub } from '../net/memory/createMemoryHub.ts'
import { silentLogger } from '../node/logger.ts'
import type { Logger } from '../node/logger.ts'
import { createMemoryBlobStore, createMemoryNodeStore } from '../store/memory/createMemoryStores.ts'
import { ANVIL_DEPLOYER_KEY, startDevChain } from './startDevChain.ts'
import { startNodeServices } from './startNodeServices.ts'
import type { NodeServices } from './startNodeServices.ts'

export interface LocalNetworkOptions {
  /** Nodes, all with equal stake. Default 5. */
  nodes?: number
  /** Seeds the accounts. */
  seed?: string
  /** A block is mined this often (ms), so that epochs pass on their own. Default 250. */
  blockMs?: number
  /** Blocks per epoch. Default 20 (5 s with the default block time). */
  epochBlocks?: bigint
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
  nodes: NodeServices[]
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
    const { publicClient, contracts } = dev
    const accounts = dev.nodeKeys.map((key) => privateKeyToAccount(key))
    // One follower serves every in-process node (they read the same chain); its charges come from node 0.
    const nodes: NodeServices[] = []
    const follower = createChainFollower({
      publicClient,
      contracts,
      opener: dev.wallet(ANVIL_DEPLOYER_KEY),
      charged: (r) => nodes[0]?.settler.charged(r) ?? 0n,
      baseParams: params,
      logger,
    })
    await follower.start()
    stops.push(() => follower.stop())
    const hub = createMemoryHub({ seed: 7 })
    const wasm = createWasmRuntime({ maxModuleBytes: params.maxProgramBytes })
    stops.push(() => wasm.close())
    for (const [i, account] of accounts.entries()) {
      const services = await startNodeServices({
        account,
        wallet: dev.wallet(dev.nodeKeys[i]!),
        network: hub.connect(`node-${i}`),
        publicClient,
        contracts,
        runtimes: { wasm },
        blobs: createMemoryBlobStore(),
        store: createMemoryNodeStore(),
        params,
        logger: logger.child({ node: i }),
        api: {},
        follower,
      })
      nodes.push(services)
      stops.push(() => services.stop())
    }
    return {
      rpcUrl: dev.anvil.rpcUrl,
      chainId: dev.chainId,
      contracts,
      nodeApiUrls: nodes.map((n) => n.api!.url),
      nodeAddresses: accounts.map((a) => a.address),
      requesterKey: dev.requesterKey,
      requester: dev.requester.account.address,
      publicClient,
      nodes,
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
