import { createPublicClient, createTestClient, createWalletClient, http, parseEther } from 'viem'
import type { Hex, PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createNonceManager, jsonRpc } from 'viem/nonce'
import { startAnvil } from '../chain/anvil/startAnvil.ts'
import type { StartedAnvil } from '../chain/anvil/startAnvil.ts'
import { defaultChainParams, deployContracts } from '../chain/deploy.ts'
import type { ChainParams, DeployedContracts } from '../chain/deploy.ts'
import { fromProtocolParams } from '../chain/governance/parameters.ts'
import { createSettlementClient } from '../chain/viem/createSettlementClient.ts'
import type { SettlementClient, Wallet } from '../chain/viem/createSettlementClient.ts'
import { defineDevChain } from '../chain/viem/defineDevChain.ts'
import type { ProtocolParams } from '../core/params.ts'
import { devnetAccount, devnetPrivateKey } from './accounts.ts'

/** anvil's first default account: it deploys the contracts and owns the test token. Public knowledge. */
export const ANVIL_DEPLOYER_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

const STAKE = 1_000n * 10n ** 18n

export interface StartDevChainOptions {
  seed: string
  nodes: number
  /** The protocol parameters the chain governs from genesis. */
  params: ProtocolParams
  epochBlocks?: bigint
  chainParams?: Partial<ChainParams>
  /** Test tokens minted to the requester (not deposited). Default 1,000 tokens. */
  requesterTokens?: bigint
  /** A block is mined this often (ms), so that epochs pass without traffic. Default 250. */
  blockMs?: number
  signal?: AbortSignal
}

export interface DevChain {
  anvil: StartedAnvil
  chainId: number
  publicClient: PublicClient
  client: SettlementClient
  contracts: DeployedContracts
  /** A wallet for `key` on this chain, with its own nonce manager (transactions may overlap). */
  wallet(key: Hex): Wallet
  /** The staked node accounts' keys, in node order (devnet keys: public knowledge). */
  nodeKeys: Hex[]
  requesterKey: Hex
  requester: Wallet
  /** Stops mining and anvil. */
  stop(): Promise<void>
}

/**
 * anvil with the contracts deployed under `params`, N devnet accounts funded and staked, a requester
 * with gas and test tokens, and blocks mined on a timer: the chain under the live networks.
 */
export async function startDevChain(options: StartDevChainOptions): Promise<DevChain> {
  const anvil = await startAnvil(options.signal === undefined ? {} : { signal: options.signal })
  try {
    const chain = defineDevChain(anvil.rpcUrl, 31337)
    const transport = http(anvil.rpcUrl)
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient
    const testClient = createTestClient({ chain, transport, mode: 'anvil' })
    // viem's shared nonce manager would carry nonces over from another chain with the same id.
    const wallet = (key: Hex): Wallet =>
      createWalletClient({ chain, transport, account: privateKeyToAccount(key, { nonceManager: createNonceManager({ source: jsonRpc() }) }) })
    const deployer = wallet(ANVIL_DEPLOYER_KEY)
    const contracts = await deployContracts({
      walletClient: deployer,
      publicClient,
      params: {
        ...defaultChainParams,
        ...fromProtocolParams(options.params),
        epochLength: options.epochBlocks ?? defaultChainParams.epochLength,
        ...options.chainParams,
      },
      treasury: devnetAccount(options.seed, 'treasury').address,
    })
    const client = createSettlementClient(publicClient, contracts)
    const nodeKeys = Array.from({ length: options.nodes }, (_, i) => devnetPrivateKey(options.seed, 'node', i))
    for (const key of nodeKeys) {
      const node = wallet(key)
      await testClient.setBalance({ address: node.account.address, value: parseEther('100') })
      await client.mint(deployer, node.account.address, STAKE)
      await client.stake(node, STAKE)
    }
    const requesterKey = devnetPrivateKey(options.seed, 'requester')
    const requester = wallet(requesterKey)
    await testClient.setBalance({ address: requester.account.address, value: parseEther('100') })
    await client.mint(deployer, requester.account.address, options.requesterTokens ?? 1_000n * 10n ** 18n)
    const miner = setInterval(() => void testClient.mine({ blocks: 1 }).catch(() => {}), options.blockMs ?? 250)
    return {
      anvil,
      chainId: chain.id,
      publicClient,
      client,
      contracts,
      wallet,
      nodeKeys,
      requesterKey,
      requester,
      async stop() {
        clearInterval(miner)
        await anvil.stop()
      },
    }
  } catch (error) {
    await anvil.stop()
    throw error
  }
}
