import { createPublicClient, createTestClient, createWalletClient, http, parseEther } from 'viem'
import { createNonceManager, jsonRpc } from 'viem/nonce'
import type { Address, Hex, PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { startAnvil } from '../chain/anvil/startAnvil.ts'
import { defaultChainParams, deployContracts } from '../chain/deploy.ts'
import type { ChainParams, DeployedContracts } from '../chain/deploy.ts'
import { fromProtocolParams } from '../chain/governance/parameters.ts'
import { createChainFollower } from '../chain/viem/createChainFollower.ts'
import { createSettlementClient } from '../chain/viem/createSettlementClient.ts'
import type { Wallet } from '../chain/viem/createSettlementClient.ts'
import { defineDevChain } from '../chain/viem/defineDevChain.ts'
import { defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import { createWasmRuntime } from '../exec/wasm/createWasmRuntime.ts'
import { createMemoryHub } from '../net/memory/createMemoryHub.ts'
import { silentLogger } from '../node/logger.ts'
import type { Logger } from '../node/logger.ts'
import { createMemoryBlobStore, createMemoryNodeStore } from '../store/memory/createMemoryStores.ts'
import { devnetAccount, devnetPrivateKey } from './accounts.ts'
import { startNodeServices } from './startNodeServices.ts'
import type { NodeServices } from './startNodeServices.ts'

/** anvil's first default account: it deploys the contracts and owns the test token. Public knowledge. */
export const ANVIL_DEPLOYER_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

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

const STAKE = 1_000n * 10n ** 18n

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
  const anvil = await startAnvil(options.signal === undefined ? {} : { signal: options.signal })
  const stops: Array<() => Promise<void> | void> = [() => anvil.stop()]
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s()
  }
  try {
    const chain = defineDevChain(anvil.rpcUrl, 31337)
    const transport = http(anvil.rpcUrl)
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient
    const testClient = createTestClient({ chain, transport, mode: 'anvil' })
    const wallet = (key: Hex): Wallet => createWalletClient({ chain, transport, account: privateKeyToAccount(key, { nonceManager: createNonceManager({ source: jsonRpc() }) }) })
    const deployer = wallet(ANVIL_DEPLOYER_KEY)
    const contracts = await deployContracts({
      walletClient: deployer,
      publicClient,
      // The chain governs the protocol parameters: deploy it with the ones asked for.
      params: { ...defaultChainParams, ...fromProtocolParams(params), epochLength: options.epochBlocks ?? defaultChainParams.epochLength, ...options.chainParams },
      treasury: devnetAccount(seed, 'treasury').address,
    })
    const client = createSettlementClient(publicClient, contracts)
    const accounts = Array.from({ length: nodeCount }, (_, i) => devnetAccount(seed, 'node', i))
    const wallets = accounts.map((_, i) => wallet(devnetPrivateKey(seed, 'node', i)))
    const requesterKey = devnetPrivateKey(seed, 'requester')
    const requester = privateKeyToAccount(requesterKey).address
    for (const address of [...accounts.map((a) => a.address), requester]) {
      await testClient.setBalance({ address, value: parseEther('100') })
    }
    for (const w of wallets) {
      await client.mint(deployer, w.account.address, STAKE)
      await client.stake(w, STAKE)
    }
    await client.mint(deployer, requester, options.requesterTokens ?? 1_000n * 10n ** 18n)

    // Epochs pass on their own: a block every blockMs.
    const blockMs = options.blockMs ?? 250
    const miner = setInterval(() => void testClient.mine({ blocks: 1 }).catch(() => {}), blockMs)
    stops.push(() => clearInterval(miner))

    // One follower serves every in-process node (they read the same chain); its charges come from node 0.
    const nodes: NodeServices[] = []
    const follower = createChainFollower({
      publicClient,
      contracts,
      opener: deployer,
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
        wallet: wallets[i]!,
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
      rpcUrl: anvil.rpcUrl,
      chainId: chain.id,
      contracts,
      nodeApiUrls: nodes.map((n) => n.api!.url),
      nodeAddresses: accounts.map((a) => a.address),
      requesterKey,
      requester,
      publicClient,
      nodes,
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
