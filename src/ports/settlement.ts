import type { EpochBatch } from '../core/epochBatch.ts'
import type { EpochFacts } from '../core/epochProposal.ts'
import type { Address, Hex } from '../core/types.ts'

/** A node's eligible stake now, and whether a refresh would change it. */
export interface Eligibility {
  eligibleStake: bigint
  stale: boolean
}

/** A member of an epoch's committee: a node with signing stake at the snapshot (eligible, BLS key registered). */
export interface CommitteeMember {
  node: Address
  /** Its signing stake at the snapshot. */
  weight: bigint
  /** Its BLS public key, EIP-2537 encoded (128 bytes). */
  publicKey: Hex
}

/** What a batch is submitted with: the committee's aggregate BLS signature and who did not sign. */
export interface AggregateSignature {
  /** The sum of the signers' signatures of the batch digest, compressed (96 bytes). */
  signature: Hex
  /** The committee members who did not sign, by increasing address. */
  nonSigners: readonly Address[]
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
  /** `node`'s signing stake at the epoch's snapshot: 0 when it is not on the committee (or the epoch is not opened). */
  committeeWeight(epoch: bigint, node: Address): Promise<bigint>
  requiredWeight(epoch: bigint): Promise<bigint>
  /** The epoch's committee (its snapshot's signing set), by increasing address; empty before the epoch opens. */
  committee(epoch: bigint): Promise<readonly CommitteeMember[]>
  submitBatch(batch: EpochBatch, signed: AggregateSignature): Promise<{ gasUsed: bigint }>
  /**
   * `Settlement.proveEquivocation`: one committee member's BLS signatures (compressed) of two
   * different batches of one round of an epoch. Slashes and jails the signer; reverts if the two
   * do not prove it or it was punished.
   */
  proveEquivocation(a: EpochBatch, sigA: Hex, b: EpochBatch, sigB: Hex, signer: Address): Promise<void>
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
  /** Whether `node` registered a BLS key (`StakeManager.blsKeyRegisteredAt(node) > 0`). */
  hasBlsKey(node: Address): Promise<boolean>
  /**
   * `StakeManager.registerBlsKey` as `node` (the adapter's own account, where transactions have a
   * sender): its BLS public key (EIP-2537 G1) and proof of possession (EIP-2537 G2,
   * `BlsKey.proofOfPossession(node)`). Rejects as the contract reverts.
   */
  registerBlsKey(node: Address, publicKey: Hex, proof: Hex): Promise<void>
}
