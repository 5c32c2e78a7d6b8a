import { mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { createPublicClient, createTestClient, createWalletClient, http, keccak256, parseEther, stringToBytes } from 'viem'
import type { Address, Hex, PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { startAnvil } from '../chain/anvil/startAnvil.ts'
import type { StartedAnvil } from '../chain/anvil/startAnvil.ts'
import { defaultChainParams, deployContracts, writeAddressesFile } from '../chain/deploy.ts'
import type { ChainParams, DeployedContracts } from '../chain/deploy.ts'
import type { EpochSnapshot } from '../chain/memory/createStaticChainView.ts'
import { createSettlementClient } from '../chain/viem/createSettlementClient.ts'
import { toProtocolParams } from '../chain/governance/parameters.ts'
import type { NetworkParameterValues } from '../chain/governance/parameters.ts'
import { readNetworkParameters } from '../chain/viem/readParameters.ts'
import type { ProtocolParams } from '../core/params.ts'
import type { SettlementClient, Wallet } from '../chain/viem/createSettlementClient.ts'
import { findBatchObjection } from '../core/batchCheck.ts'
import type { BatchObjection } from '../core/batchCheck.ts'
import { buildEpochBatch, hashEpochBatch } from '../core/epochBatch.ts'
import type { SettledTask } from '../core/epochBatch.ts'
import { defaultReputationParams, emptyRecord, isReputationJailable, recordTask, sortitionWeight } from '../core/reputation.ts'
import type { NodeRecord } from '../core/reputation.ts'
import { VeritaskError } from '../core/errors.ts'
import type { Balance, EpochBatchResult, RewardSplit } from '../core/epochBatch.ts'
import { buildReceipt } from '../core/receipt.ts'
import type { Receipt } from '../core/receipt.ts'
import { rankCandidates } from '../core/sortition.ts'
import type { ProtocolDomain } from '../core/types.ts'
import type { Signer } from '../core/signing.ts'
import type { VeritaskNode } from '../node/createNode.ts'
import { devnetPrivateKey } from './accounts.ts'
import { ANVIL_DEPLOYER_KEY } from './startDevChain.ts'
import { defineDevChain } from '../chain/viem/defineDevChain.ts'
import { waitForReceipt } from '../chain/viem/waitForReceipt.ts'


export interface ChainNetworkOptions {
  /** An external EVM JSON-RPC endpoint to use instead of spawning anvil. */
  rpcUrl?: string
  /** Key that deploys the contracts, owns the test token and funds the devnet accounts; anvil's first key by default. */
  deployerKey?: Hex
  /** Where to write the deployed contract addresses (for `veritask receipt --rpc-url`, and later nodes). */
  addressesFile?: string
  seed: string
  /** Node signers (committee signatures) in node order; their keys come from the devnet seed. */
  signers: readonly Signer[]
  stake: bigint
  deposit: bigint
  /** The initial governed reward split (each epoch settles with its own governed `executorsBps`). */
  split: RewardSplit
  /** The initial governed share of its stake a node loses per dissenting reveal, in basis points. */
  dissentSlashBps: number
  /** Initial governed parameters (and the escrow delay) the contracts are deployed with. */
  params?: Partial<ChainParams>
  /** The nodes' own settings, for what the chain does not govern (backups, maxK, maxMessageBytes). */
  nodeParams?: ProtocolParams
}

/** The dev-chain cheat codes the devnet hands out (a narrow view of viem's test client). */
export interface DevChainControls {
  mine(args: { blocks: number }): Promise<void>
  increaseTime(args: { seconds: number }): Promise<unknown>
}

export interface SettledEpoch {
  epoch: bigint
  taskCount: number
  gasUsed: bigint
  signers: number
}

/**
 * A real chain for the devnet: anvil from npm on a loopback port, the contracts deployed, the
 * nodes funded and staked, the requester's escrow deposited. Drives epochs: opens each one (mining
 * to its first block), and settles it with a committee-signed batch built from the nodes' verdicts.
 */
export async function startChainNetwork(options: ChainNetworkOptions) {
  if (options.rpcUrl !== undefined) return setUp(options.rpcUrl, async () => {}, options)
  const anvil: StartedAnvil = await startAnvil()
  try {
    return await setUp(anvil.rpcUrl, () => anvil.stop(), options)
  } catch (error) {
    await anvil.stop()
    throw error
  }
}

async function connect(rpcUrl: string) {
  const probe = createPublicClient({ transport: http(rpcUrl, { retryCount: 1 }) })
  let chainId: number
  try {
    chainId = await probe.getChainId()
  } catch (cause) {
    throw new VeritaskError('CHAIN_UNREACHABLE', `No EVM JSON-RPC endpoint answers at ${rpcUrl}.`, {
      cause,
      hint: 'Check --rpc-url, or leave it out to let the devnet start its own anvil.',
    })
  }
  return defineDevChain(rpcUrl, chainId)
}

async function setUp(
  rpcUrl: string,
  stopChain: () => Promise<void>,
  { seed, signers, stake, deposit, split, dissentSlashBps, params, nodeParams, deployerKey, addressesFile }: ChainNetworkOptions,
) {
  const chain = await connect(rpcUrl)
  const transport = http(rpcUrl)
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient
  const testClient = createTestClient({ chain, transport, mode: 'anvil' })
  const wallet = (key: Hex): Wallet => createWalletClient({ chain, transport, account: privateKeyToAccount(key) })

  const deployer = wallet(deployerKey ?? ANVIL_DEPLOYER_KEY)
  const treasury = privateKeyToAccount(devnetPrivateKey(seed, 'treasury')).address
  const chainParams = { ...defaultChainParams, executorsBps: split.executorsBps, dissentSlashBps, ...params }
  const contracts: DeployedContracts = await deployContracts({
    walletClient: deployer,
    publicClient,
    params: chainParams,
    treasury,
  })
  if (addressesFile !== undefined) {
    await mkdir(dirname(addressesFile), { recursive: true })
    await writeAddressesFile(addressesFile, { chainId: chain.id, ...contracts })
  }
  const client: SettlementClient = createSettlementClient(publicClient, contracts)
  const domain: ProtocolDomain = { chainId: chain.id, verifyingContract: contracts.settlement }

  const nodeWallets = signers.map((_, i) => wallet(devnetPrivateKey(seed, 'node', i)))
  const requesterWallet = wallet(devnetPrivateKey(seed, 'requester'))
  // Gas money for the devnet accounts: a dev chain's cheat code where there is one, else a transfer.
  for (const w of [...nodeWallets, requesterWallet]) {
    try {
      await testClient.setBalance({ address: w.account.address, value: parseEther('100') })
    } catch {
      const hash = await deployer.sendTransaction({ to: w.account.address, value: parseEther('1'), chain, account: deployer.account })
      await waitForReceipt(publicClient, hash)
    }
  }
  for (const w of nodeWallets) {
    await client.mint(deployer, w.account.address, stake)
    await client.stake(w, stake)
  }
  await client.mint(deployer, requesterWallet.account.address, deposit)
  await client.deposit(requesterWallet, deposit)

  const requester = requesterWallet.account.address
  let cumulative: ReadonlyMap<Address, Balance> = new Map()
  let latest: EpochBatchResult | undefined
  const settled: SettledEpoch[] = []
  const receipts: Receipt[] = []
  let current:
    | (EpochSnapshot & { snapshotBlock: bigint; stakes: Map<Address, bigint>; governed: NetworkParameterValues })
    | undefined
  /** Every node's settled record: its reputation scales its sortition weight from the next epoch on. */
  const records = new Map<Address, NodeRecord>()

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

  // Annotated, so that the declaration names viem's PublicClient instead of spelling it out.
  const clients: { publicClient: PublicClient } = { publicClient }
  return {
    rpcUrl,
    ...clients,
    contracts,
    domain,
    client,
    /** Dev-chain controls the governance test uses to pass voting periods and the timelock. */
    testClient: testClient as DevChainControls,
    /** The nodes' accounts on the chain (they stake, settle batches, and vote), in node order. */
    nodeWallets: nodeWallets as readonly Wallet[],
    requester,
    treasury,
    settled,
    receipts,

    /**
     * Mines to the epoch's first block, opens it, and reads what nodes need of it: seed, eligible
     * nodes, escrow, and the governed parameters the epoch opened with.
     */
    async beginEpoch(epoch: bigint): Promise<EpochSnapshot> {
      const start = await client.epochStart(epoch)
      await reachBlock(start)
      const info = await client.openEpoch(deployer, epoch)
      const { values: governed } = await readNetworkParameters(publicClient, { settlement: contracts.settlement, epoch })
      const addresses = nodeWallets.map((w) => w.account.address)
      const stakes = await Promise.all(addresses.map((a) => client.stakeAt(a, info.snapshotBlock)))
      const jailedUntil = await Promise.all(addresses.map((a) => client.jailedUntil(a)))
      const charged = cumulative.get(requester)?.charged ?? 0n
      const available = (await client.depositOf(requester)) - charged - (await client.withdrawnOf(requester))
      current = {
        epoch,
        seed: info.seed,
        snapshotBlock: info.snapshotBlock,
        stakes: new Map(addresses.map((a, i) => [a, stakes[i]!])),
        // Jailed nodes and nodes below the minimum stake are out of sortition; reputation scales the rest.
        nodes: addresses
          .map((address, i) => ({
            address,
            weight: sortitionWeight(stakes[i]!, records.get(address) ?? emptyRecord),
            runtimes: ['wasm'],
            eligible: stakes[i]! >= governed.minStake && jailedUntil[i]! <= info.snapshotBlock,
          }))
          .filter((n) => n.eligible)
          .map(({ address, weight, runtimes }) => ({ address, weight, runtimes })),
        escrow: new Map([[requester, available]]),
        params: toProtocolParams(governed, nodeParams),
        governed,
      }
      return current
    },

    /**
     * Settles an epoch: a deterministic aggregator proposes the epoch's settled tasks; every
     * committee member checks them against the signed reveals it saw (`findBatchObjection`),
     * computes the batch from them itself, and signs its digest; the aggregator submits the
     * signatures, sorted by signer.
     */
    async settleEpoch(epoch: bigint, nodes: readonly VeritaskNode[]): Promise<SettledEpoch> {
      if (current?.epoch !== epoch) throw new Error(`epoch ${epoch} was not begun`)
      const snapshot = current
      const reputation = { ...defaultReputationParams, jailBelowPpm: snapshot.governed.jailBelowPpm }
      // Reputation after this epoch's tasks decides who is jailed without a slash.
      const recordsAfter = (tasks: readonly SettledTask[]) => {
        const next = new Map(records)
        for (const t of tasks) recordTask(next, t.verdict, t.missed ?? [])
        return next
      }
      const build = (tasks: readonly SettledTask[]) =>
        buildEpochBatch({
          epoch,
          tasks,
          previous: cumulative,
          chargeable: snapshot.escrow,
          accounts: [requester],
          treasury,
          split: { executorsBps: snapshot.governed.executorsBps },
          penalties: {
            stakes: snapshot.stakes,
            dissentSlashBps: snapshot.governed.dissentSlashBps,
            jailUntilBlock: snapshot.snapshotBlock + snapshot.governed.jailBlocks,
            jail: [...recordsAfter(tasks)].filter(([, r]) => isReputationJailable(r, reputation)).map(([a]) => a),
          },
        })
      const [aggregatorAddress] = rankCandidates({
        seed: snapshot.seed,
        taskId: keccak256(stringToBytes(`aggregator/${epoch}`)),
        candidates: snapshot.nodes,
        count: 1,
      })
      const aggregatorIndex = nodes.findIndex((n) => n.address === aggregatorAddress)
      const proposed = nodes[aggregatorIndex]!.decidedTasks(epoch)
      const proposal = build(proposed)
      const digest = hashEpochBatch(proposal.batch, domain)

      const signatures: Array<{ signer: Address; signature: Hex }> = []
      const objections: Array<{ node: Address } & BatchObjection> = []
      for (const [i, node] of nodes.entries()) {
        if ((await client.committeeWeight(epoch, node.address)) === 0n) continue
        const objection = findBatchObjection(proposed, node.decidedTasks(epoch))
        if (objection !== null) {
          objections.push({ node: node.address, ...objection })
          continue
        }
        // The member computes the batch itself and signs only the digest it arrives at.
        if (hashEpochBatch(build(proposed).batch, domain) !== digest) continue
        signatures.push({ signer: node.address, signature: await signers[i]!.sign({ hash: digest }) })
      }
      signatures.sort((a, b) => (a.signer.toLowerCase() < b.signer.toLowerCase() ? -1 : 1))
      let gasUsed: bigint
      try {
        ;({ gasUsed } = await client.submitBatch(nodeWallets[aggregatorIndex]!, proposal.batch, signatures.map((s) => s.signature)))
      } catch (cause) {
        throw new VeritaskError('SETTLEMENT_FAILED', `Epoch ${epoch} could not be settled: ${signatures.length} committee members signed.`, {
          cause,
          details: { epoch, signers: signatures.length, objections },
          hint: 'Members refuse a batch they have no evidence for; see details.objections.',
        })
      }

      cumulative = proposal.cumulative
      latest = proposal
      for (const [address, record] of recordsAfter(proposed)) records.set(address, record)
      for (const task of nodes[aggregatorIndex]!.decidedTasks(epoch)) {
        if (proposal.outcomes === null) break
        receipts.push(
          buildReceipt({ verdict: task.verdict, epoch, tree: proposal.outcomes, chainId: domain.chainId, settlement: contracts.settlement }),
        )
      }
      for (const node of nodes) node.forgetEpoch(epoch)
      const result = { epoch, taskCount: proposal.batch.taskCount, gasUsed, signers: signatures.length }
      settled.push(result)
      return result
    },

    /** Every node and the treasury claim what they earned, with a proof against the latest balances root. */
    async claimAll(): Promise<Map<Address, { earned: bigint; gasUsed: bigint }>> {
      const claims = new Map<Address, { earned: bigint; gasUsed: bigint }>()
      const tree = latest?.balances
      if (tree === null || tree === undefined) return claims
      for (const [, leaf] of tree.entries()) {
        const [account, earned, charged] = leaf
        if (earned === 0n) continue
        const { gasUsed } = await client.claim(deployer, account, earned, charged, tree.getProof(leaf) as Hex[])
        claims.set(account, { earned, gasUsed })
      }
      return claims
    },

    charged: (account: Address) => cumulative.get(account)?.charged ?? 0n,
    /** A node's settled record and the reputation it gives. */
    recordOf: (node: Address) => records.get(node) ?? emptyRecord,

    stop: stopChain,
  }
}

export type ChainNetwork = Awaited<ReturnType<typeof startChainNetwork>>
