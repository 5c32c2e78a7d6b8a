import { encodeAbiParameters, hexToBigInt, keccak256, maxUint256 } from 'viem'
import type { Address, Hex } from './types.ts'

export interface CommitteeWeightParameters {
  seed: Hex
  epoch: bigint
  node: Address
  /** The node's eligible stake at the epoch's snapshot block: 0 if it was jailed or below the minimum stake then. */
  stake: bigint
  /** All eligible stake at the snapshot block (`StakeManager.totalEligibleStakeAt`). */
  totalStake: bigint
  /** Expected committee size C. */
  committeeSize: bigint
}

/**
 * Threshold sortition for the epoch committee, the same rule as `Settlement.committeeWeight`:
 * a node is on the committee with probability min(1, C·s / S), decided by
 * keccak256(abi.encode(seed, epoch, node)) ≤ ⌊(2^256 − 1) · C·s / S⌋, so anyone can check one
 * member in O(1). A member's weight is max(s, S / C): the Horvitz–Thompson weight, which makes
 * the summed weight of signers an unbiased estimate of the stake behind them — and exactly their
 * stake when everyone is on the committee. Returns 0 for a non-member. Only eligible stake counts,
 * on both sides: a jailed node neither signs nor raises the threshold.
 *
 * Settlement no longer draws its committee this way: since batches carry one aggregate BLS
 * signature, the committee is the snapshot's whole signing set (an aggregate key is of a fixed
 * set), weighed by signing stake (docs/economics.md). The rule stays exported for what it is.
 */
export function committeeWeight({
  seed,
  epoch,
  node,
  stake,
  totalStake,
  committeeSize,
}: CommitteeWeightParameters): bigint {
  if (stake === 0n || totalStake === 0n) return 0n
  const scaled = committeeSize * stake
  if (scaled < totalStake) {
    const h = hexToBigInt(keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint64' }, { type: 'address' }], [seed, epoch, node])))
    if (h > (maxUint256 * scaled) / totalStake) return 0n
  }
  const floor = totalStake / committeeSize
  return stake > floor ? stake : floor
}

/** The weight a batch needs: ⌈2/3 · S⌉ of the eligible stake S. */
export function requiredCommitteeWeight(totalStake: bigint): bigint {
  return (2n * totalStake + 2n) / 3n
}
