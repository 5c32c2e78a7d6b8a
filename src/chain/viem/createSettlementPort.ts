import { zeroHash } from 'viem'
import type { Address, Hex, PublicClient } from 'viem'
import type { DeployedContracts } from '../deploy.ts'
import { EscrowAbi, SettlementAbi, StakeManagerAbi } from '../generated/contracts.ts'
import { fundedOf } from '../../core/escrow.ts'
import type { CommitteeMember, SettlementPort } from '../../ports/settlement.ts'
import { createSettlementClient } from './createSettlementClient.ts'
import { readNetworkParameters } from './readParameters.ts'
import type { Wallet } from './createSettlementClient.ts'

/** Epochs behind the newest asked about whose settled digests stay cached. */
const KEPT_EPOCHS = 16n

export interface CreateSettlementPortParameters {
  publicClient: PublicClient
  contracts: DeployedContracts
  /** The node's own account: it submits the batches it aggregates. */
  wallet: Wallet
  /**
   * The newest block the node has seen (its chain follower's `head`). Answers that change only
   * with a block (an epoch not settled yet, committee weights) are then read once per block seen,
   * where a settler polling every 200 ms read them at every poll; without it, weights are cached
   * per `eth_blockNumber` and settled digests read every time.
   */
  head?: () => bigint
}

/**
 * The settlement port over viem: stakes and escrow are read at the epoch's snapshot block and the
 * rules are the epoch's governed parameters, so every node reads the same facts.
 */
export function createSettlementPort({ publicClient, contracts, wallet, head }: CreateSettlementPortParameters): SettlementPort {
  const settlement = { address: contracts.settlement, abi: SettlementAbi } as const
  const stakeManager = { address: contracts.stakeManager, abi: StakeManagerAbi } as const
  const escrow = { address: contracts.escrow, abi: EscrowAbi } as const
  const client = createSettlementClient(publicClient, contracts)
  const weights = new Map<string, bigint>()
  let weightsAt: bigint | undefined
  let treasury: Address | undefined
  const committees = new Map<bigint, readonly CommitteeMember[]>()
  /** Settled digests (final once set), and the block each unsettled epoch was last read at. */
  const settledDigests = new Map<bigint, Hex>()
  const unsettledAt = new Map<bigint, bigint>()
  /** `Escrow.depositorAt`, append-only: read once per index. */
  const depositors: Address[] = []

  return {
    async epochFacts(epoch, requesters, nodes) {
      const blockNumber = BigInt(await publicClient.readContract({ ...settlement, functionName: 'snapshotBlockOf', args: [epoch] }))
      treasury ??= await publicClient.readContract({ ...settlement, functionName: 'treasury' })
      // The spending rule (core/escrow.ts): escrow as it stood at the snapshot, pending withdrawals not spendable.
      const funded = new Map<Address, bigint>()
      for (const requester of requesters) {
        const [deposited, withdrawn, [pendingWithdrawal]] = await Promise.all([
          publicClient.readContract({ ...escrow, functionName: 'depositOf', args: [requester], blockNumber }),
          publicClient.readContract({ ...escrow, functionName: 'withdrawnOf', args: [requester], blockNumber }),
          publicClient.readContract({ ...escrow, functionName: 'pendingWithdrawalOf', args: [requester], blockNumber }),
        ])
        funded.set(requester, fundedOf({ deposited, withdrawn, pendingWithdrawal }))
      }
      // Every depositor by the snapshot gets a balance leaf, so that it can withdraw without ever being charged.
      const depositorCount = await publicClient.readContract({ ...escrow, functionName: 'depositorCount', blockNumber })
      for (let i = BigInt(depositors.length); i < depositorCount; i++) {
        depositors.push(await publicClient.readContract({ ...escrow, functionName: 'depositorAt', args: [i], blockNumber }))
      }
      const stakes = new Map<Address, bigint>()
      for (const node of nodes) stakes.set(node, await publicClient.readContract({ ...stakeManager, functionName: 'stakeAt', args: [node, blockNumber] }))
      // The epoch's governed rules: the reward split, the dissent slash and the jail term.
      const { values } = await readNetworkParameters(publicClient, { settlement: contracts.settlement, epoch })
      return {
        funded,
        depositors: depositors.slice(0, Number(depositorCount)),
        stakes,
        jailUntilBlock: blockNumber + values.jailBlocks,
        treasury,
        split: { executorsBps: values.executorsBps },
        dissentSlashBps: values.dissentSlashBps,
      }
    },
    async lastSettledEpoch() {
      const count = BigInt(await publicClient.readContract({ ...settlement, functionName: 'settledEpochCount' }))
      return count === 0n ? null : count - 1n
    },
    balancesRoot: () => publicClient.readContract({ ...settlement, functionName: 'balancesRoot' }),
    async settledDigest(epoch) {
      const known = settledDigests.get(epoch)
      if (known !== undefined) return known
      const block = head?.()
      if (block !== undefined && unsettledAt.get(epoch) === block) return null
      const digest: Hex = await publicClient.readContract({ ...settlement, functionName: 'settledBatchDigestOf', args: [epoch] })
      if (digest !== zeroHash) {
        settledDigests.set(epoch, digest)
        unsettledAt.delete(epoch)
        // Settlers ask about the last few epochs only.
        for (const e of settledDigests.keys()) if (e < epoch - KEPT_EPOCHS) settledDigests.delete(e)
        return digest
      }
      if (block !== undefined) unsettledAt.set(epoch, block)
      for (const e of unsettledAt.keys()) if (e < epoch - KEPT_EPOCHS) unsettledAt.delete(e)
      return null
    },
    async committeeWeight(epoch, node) {
      // A weight changes with the chain, not only with the epoch (it is 0 before the epoch opens
      // and once a batch jails the node), so it is cached for one block only: a settler adding up
      // its signers' weights asks for each of them again and again within a block.
      const block = head?.() ?? (await publicClient.getBlockNumber({ cacheTime: 0 }))
      if (block !== weightsAt) {
        weights.clear()
        weightsAt = block
      }
      const key = `${epoch}/${node}`
      const cached = weights.get(key)
      if (cached !== undefined) return cached
      const weight = await client.committeeWeight(epoch, node)
      weights.set(key, weight)
      return weight
    },
    requiredWeight: (epoch) => publicClient.readContract({ ...settlement, functionName: 'requiredWeight', args: [epoch] }),
    async committee(epoch) {
      // Fixed once the epoch is open (its snapshot is in the past): read once.
      const cached = committees.get(epoch)
      if (cached !== undefined) return cached
      const members = await client.committee(epoch)
      if (members.length > 0) committees.set(epoch, members)
      return members
    },
    submitBatch: (batch, signed) => client.submitBatch(wallet, batch, signed),
    async proveEquivocation(a, sigA, b, sigB, signer) {
      await client.proveEquivocation(wallet, a, sigA, b, sigB, signer)
    },
    isEquivocationPunished: (epoch, node) => publicClient.readContract({ ...settlement, functionName: 'isEquivocationPunished', args: [epoch, node] }),
    async eligibilityOf(node) {
      const [eligibleStake, stale] = await Promise.all([
        publicClient.readContract({ ...stakeManager, functionName: 'eligibleStakeOf', args: [node] }),
        publicClient.readContract({ ...stakeManager, functionName: 'isEligibilityStale', args: [node] }),
      ])
      return { eligibleStake, stale }
    },
    async refreshEligibility(node) {
      await client.refreshEligibility(wallet, node)
    },
    hasBlsKey: async (node) => (await client.blsKeyRegisteredAt(node)) > 0n,
    async registerBlsKey(node, publicKey, proof) {
      if (node.toLowerCase() !== wallet.account.address.toLowerCase()) throw new Error('registerBlsKey: the port registers its own account only')
      await client.registerBlsKey(wallet, publicKey, proof)
    },
  }
}
