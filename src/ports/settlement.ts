import type { EpochBatch } from '../core/epochBatch.ts'
import type { EpochFacts } from '../core/epochProposal.ts'
import type { Address, Hex } from '../core/types.ts'

/** A node's eligible stake now, and whether a refresh would change it. */
export interface Eligibility {
  eligibleStake: bigint
  stale: boolean
}

/**
 * What the epoch settler needs of the settlement contract. Reads are the same for every node
 * (epoch facts are read at the epoch's snapshot block); `submitBatch` sends a transaction from
 * the node's own account.
 */
export interface SettlementPort {
  /** Escrow funding of `requesters` and stakes of `nodes` at the epoch's snapshot, plus the fixed batch rules. */
  epochFacts(epoch: bigint, requesters: readonly Address[], nodes: readonly Address[]): Promise<EpochFacts>
  /** The newest settled epoch, or null before the first settlement. */
  lastSettledEpoch(): Promise<bigint | null>
  /** The cumulative-balances root of the newest settled epoch (zero before any). */
  balancesRoot(): Promise<Hex>
  /** The digest of the batch settled for `epoch`, or null while it is not settled. */
  settledDigest(epoch: bigint): Promise<Hex | null>
  committeeWeight(epoch: bigint, node: Address): Promise<bigint>
  requiredWeight(epoch: bigint): Promise<bigint>
  submitBatch(batch: EpochBatch, signatures: readonly Hex[]): Promise<{ gasUsed: bigint }>
  /**
   * `Settlement.proveEquivocation`: one committee member's signatures of two different batches of
   * one epoch. Slashes and jails the signer; reverts if the two do not prove it or it was punished.
   */
  proveEquivocation(a: EpochBatch, sigA: Hex, b: EpochBatch, sigB: Hex): Promise<void>
  /** Whether `node`'s equivocation in `epoch` was proven already. */
  isEquivocationPunished(epoch: bigint, node: Address): Promise<boolean>
  /**
   * `node`'s eligible stake now (the stake it can sign with: 0 while jailed or below the minimum),
   * and whether that record is stale: its jail ran out, or the minimum stake changed across its
   * stake, so that `refreshEligibility` would change it.
   */
  eligibilityOf(node: Address): Promise<Eligibility>
  /** `StakeManager.refreshEligibility(node)`, which anyone may send: brings the record up to date. */
  refreshEligibility(node: Address): Promise<void>
}
