import type { PublicClient } from 'viem'
import { zeroHash } from 'viem'
import { SettlementAbi, StakeManagerAbi } from '../../chain/generated/contracts.ts'
import type { Address, Hex } from '../../core/types.ts'

/** A node's stake record as the chain holds it now. */
export interface NodeRecord {
  stake: bigint
  /** What the node can sign and be drawn with: 0 while jailed or below the minimum stake. */
  eligibleStake: bigint
  jailed: boolean
  /** The block its jail lasts until; 0 if it was never jailed. */
  jailedUntilBlock: bigint
}

/** What the explorer reads from the chain through the node (read-only). */
export interface ExplorerChainReads {
  /** The outcomes root the settlement contract stored for `epoch`; null while it is not settled. */
  outcomesRoot(epoch: bigint): Promise<Hex | null>
  nodeRecord(node: Address): Promise<NodeRecord>
}

export interface CreateChainReadsParameters {
  publicClient: PublicClient
  contracts: { settlement: Address; stakeManager: Address }
}

export function createChainReads({ publicClient, contracts }: CreateChainReadsParameters): ExplorerChainReads {
  const settlement = { address: contracts.settlement, abi: SettlementAbi } as const
  const stakeManager = { address: contracts.stakeManager, abi: StakeManagerAbi } as const
  return {
    async outcomesRoot(epoch) {
      const root: Hex = await publicClient.readContract({ ...settlement, functionName: 'outcomesRootOf', args: [epoch] })
      return root === zeroHash ? null : root
    },
    async nodeRecord(node) {
      const [stake, eligibleStake, jailed, jailedUntilBlock] = await Promise.all([
        publicClient.readContract({ ...stakeManager, functionName: 'stakeOf', args: [node] }),
        publicClient.readContract({ ...stakeManager, functionName: 'eligibleStakeOf', args: [node] }),
        publicClient.readContract({ ...stakeManager, functionName: 'isJailed', args: [node] }),
        publicClient.readContract({ ...stakeManager, functionName: 'jailedUntil', args: [node] }),
      ])
      return { stake, eligibleStake, jailed, jailedUntilBlock: BigInt(jailedUntilBlock) }
    },
  }
}
