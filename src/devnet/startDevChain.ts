import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { createPublicClient, createTestClient, createWalletClient, http, parseEther } from 'viem'
import type { Address, Hex, PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createNonceManager, jsonRpc } from 'viem/nonce'
import { startAnvil } from '../chain/anvil/startAnvil.ts'
import type { StartedAnvil } from '../chain/anvil/startAnvil.ts'
import { defaultChainParams, deployContracts, writeAddressesFile } from '../chain/deploy.ts'
import { TestTokenAbi } from '../chain/generated/contracts.ts'
import type { ChainParams, DeployedContracts } from '../chain/deploy.ts'
import { fromProtocolParams } from '../chain/governance/parameters.ts'
import { createSettlementClient } from '../chain/viem/createSettlementClient.ts'
import type { SettlementClient, Wallet } from '../chain/viem/createSettlementClient.ts'
import { defineDevChain } from '../chain/viem/defineDevChain.ts'
import { waitForReceipt } from '../chain/viem/waitForReceipt.ts'
import { VeritaskError } from '../core/errors.ts'
import { deriveBlsKey } from '../crypto/bls.ts'
import type { ProtocolParams } from '../core/params.ts'
import type { ProtocolDomain } from '../core/types.ts'
import { devnetAccount, devnetPrivateKey } from './accounts.ts'

/** anvil's first default account: it deploys the contracts and owns the test token. Public knowledge. */
export const ANVIL_DEPLOYER_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'

/** Each devnet node's stake, unless the caller says otherwise. */
export const DEVNET_STAKE = 1_000n * 10n ** 18n

export interface StartDevChainOptions {
  seed: string
  nodes: number
  /** The protocol parameters the chain governs from genesis. */
  params: ProtocolParams
  epochBlocks?: bigint
  chainParams?: Partial<ChainParams>
  /** Each node's stake. Default 1,000 tokens. */
  stake?: bigint
  /** What each node advertises it runs (by node index). Default: nothing advertised (`wasm` only). */
  capabilities?: (node: number) => readonly string[]
  /** Test tokens minted to the requester. Default 1,000 tokens. */
  requesterTokens?: bigint
  /** Of those, deposited into escrow at once. Default 0. */
  requesterDeposit?: bigint
  /** A block is mined this often (ms), so that epochs pass without traffic; 0 mines only on demand. Default 250. */
  blockMs?: number
  /** An external EVM JSON-RPC endpoint to deploy to instead of spawning anvil. */
  rpcUrl?: string
  /** Key that deploys, owns the test token and funds the accounts; anvil's first key by default. */
  deployerKey?: Hex
  /** Where to write the deployed contract addresses. */
  addressesFile?: string
  signal?: AbortSignal
}

/** The dev-chain cheat codes the devnet hands out (a narrow view of viem's test client). */
export interface DevChainControls {
  mine(args: { blocks: number }): Promise<void>
  increaseTime(args: { seconds: number }): Promise<unknown>
}

export interface DevChain {
  /** The spawned anvil; undefined on an external chain. */
  anvil: StartedAnvil | undefined
  rpcUrl: string
  chainId: number
  publicClient: PublicClient
  testClient: DevChainControls
  client: SettlementClient
  contracts: DeployedContracts
  domain: ProtocolDomain
  /** A wallet for `key` on this chain, with its own nonce manager (transactions may overlap). */
  wallet(key: Hex): Wallet
  deployer: Wallet
  /** The staked node accounts' keys and wallets, in node order (devnet keys: public knowledge). */
  nodeKeys: Hex[]
  nodeWallets: Wallet[]
  requesterKey: Hex
  requester: Wallet
  treasury: Address
  /**
   * Opens `epoch` once its first block has come: mines to it on a dev chain, or waits for the
   * chain to get there. What the follower's opener does on a live network, on the caller's cue.
   */
  openEpoch(epoch: bigint): Promise<void>
  /** Stops mining and anvil. */
  stop(): Promise<void>
}

/**
 * The one dev-chain bootstrap: anvil from npm (or an external chain) with the contracts deployed
 * under `params`, N devnet accounts funded, staked and advertising their capabilities, a requester
 * with gas and test tokens, and blocks mined on a timer or on demand. Under the in-process devnet,
 * the live local network and the multi-process network alike.
 */
export async function startDevChain(options: StartDevChainOptions): Promise<DevChain> {
  const anvil = options.rpcUrl === undefined ? await startAnvil(options.signal === undefined ? {} : { signal: options.signal }) : undefined
  try {
    return await setUp(anvil, anvil?.rpcUrl ?? options.rpcUrl!, options)
  } catch (error) {
    await anvil?.stop()
    throw error
  }
}

async function connect(rpcUrl: string) {
  const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 1 }) })
  try {
    return defineDevChain(rpcUrl, await probe.getChainId())
  } catch (cause) {
    throw new VeritaskError('CHAIN_UNREACHABLE', `No EVM JSON-RPC endpoint answers at ${rpcUrl}.`, {
      cause,
      hint: 'Check --rpc-url, or leave it out to let the devnet start its own anvil.',
    })
  }
}

async function setUp(anvil: StartedAnvil | undefined, rpcUrl: string, options: StartDevChainOptions): Promise<DevChain> {
  const chain = await connect(rpcUrl)
  const transport = http(rpcUrl)
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient
  const testClient = createTestClient({ chain, transport, mode: 'anvil' })
  // viem's shared nonce manager would carry nonces over from another chain with the same id.
  const wallet = (key: Hex): Wallet =>
    createWalletClient({ chain, transport, account: privateKeyToAccount(key, { nonceManager: createNonceManager({ source: jsonRpc() }) }) })
  const deployer = wallet(options.deployerKey ?? ANVIL_DEPLOYER_KEY)
  const treasury = devnetAccount(options.seed, 'treasury').address
  const contracts = await deployContracts({
    walletClient: deployer,
    publicClient,
    params: {
      ...defaultChainParams,
      ...fromProtocolParams(options.params),
      epochLength: options.epochBlocks ?? defaultChainParams.epochLength,
      ...options.chainParams,
    },
    treasury,
  })
  if (options.addressesFile !== undefined) {
    await mkdir(dirname(options.addressesFile), { recursive: true })
    await writeAddressesFile(options.addressesFile, { chainId: chain.id, ...contracts })
  }
  const client = createSettlementClient(publicClient, contracts)

  /** Gas money: a dev chain's cheat code where there is one, else a transfer from the deployer. */
  async function fund(address: Address): Promise<void> {
    try {
      await testClient.setBalance({ address, value: parseEther('100') })
    } catch {
      const hash = await deployer.sendTransaction({ to: address, value: parseEther('1'), chain, account: deployer.account })
      await waitForReceipt(publicClient, hash)
    }
  }
  const stake = options.stake ?? DEVNET_STAKE
  const nodeKeys = Array.from({ length: options.nodes }, (_, i) => devnetPrivateKey(options.seed, 'node', i))
  const nodeWallets = nodeKeys.map(wallet)
  for (const [i, node] of nodeWallets.entries()) {
    await fund(node.account.address)
    await client.mint(deployer, node.account.address, stake)
    // The committee signs with BLS: each node's key (derived from its account key) is registered,
    // with its proof of possession, before the first snapshot, so that epoch 0 has its committee.
    const bls = await deriveBlsKey(privateKeyToAccount(nodeKeys[i]!))
    await client.registerBlsKey(node, bls.publicKey, bls.proofOfPossession(node.account.address))
    await client.stake(node, stake)
    const capabilities = options.capabilities?.(i)
    if (capabilities !== undefined) await client.advertiseCapabilities(node, capabilities)
  }
  const requesterKey = devnetPrivateKey(options.seed, 'requester')
  const requester = wallet(requesterKey)
  await fund(requester.account.address)
  const requesterTokens = options.requesterTokens ?? 1_000n * 10n ** 18n
  await client.mint(deployer, requester.account.address, requesterTokens)
  if ((options.requesterDeposit ?? 0n) > 0n) await client.deposit(requester, options.requesterDeposit!)
  // What it keeps beyond its deposit pays for anchoring its task ids (the minimum fee each),
  // approved once here: approvals sent beside anchors under way can run out of gas (one estimated
  // while the allowance was unchanged, mined after an anchor spent some of it).
  const kept = requesterTokens - (options.requesterDeposit ?? 0n)
  if (kept > 0n) {
    const hash = await requester.writeContract({ address: contracts.token, abi: TestTokenAbi, functionName: 'approve', args: [contracts.anchors, kept], account: requester.account, chain })
    await waitForReceipt(publicClient, hash)
  }

  /** Mines to `target` on a dev chain; on any other chain waits for blocks to get there. */
  async function reachBlock(target: bigint): Promise<void> {
    let block = await publicClient.getBlockNumber()
    if (block >= target) return
    try {
      await testClient.mine({ blocks: Number(target - block) })
      return
    } catch {
      // Not a dev chain: blocks come at the chain's own pace.
    }
    while (block < target) {
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      block = await publicClient.getBlockNumber()
    }
  }

  const blockMs = options.blockMs ?? 250
  const miner = blockMs > 0 ? setInterval(() => void testClient.mine({ blocks: 1 }).catch(() => {}), blockMs) : undefined
  return {
    anvil,
    rpcUrl,
    chainId: chain.id,
    publicClient,
    testClient: testClient as DevChainControls,
    client,
    contracts,
    domain: { chainId: chain.id, verifyingContract: contracts.settlement },
    wallet,
    deployer,
    nodeKeys,
    nodeWallets,
    requesterKey,
    requester,
    treasury,
    async openEpoch(epoch) {
      await reachBlock(await client.epochStart(epoch))
      await client.openEpoch(deployer, epoch)
    },
    async stop() {
      clearInterval(miner)
      await anvil?.stop()
    },
  }
}
