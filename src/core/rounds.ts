import { keccak256, stringToBytes } from 'viem'
import { rankCandidates } from './sortition.ts'
import type { Candidate } from './sortition.ts'
import type { Address, Hex } from './types.ts'

export interface RoundAggregatorParameters {
  /** The epoch's seed. */
  seed: Hex
  epoch: bigint
  round: number
  /** The epoch's eligible nodes, weighted by snapshot stake. */
  candidates: readonly Candidate[]
}

/**
 * The aggregator of one settlement round of an epoch: the first of a stake-weighted draw of its
 * own, so each round's aggregator is honest with probability its honest stake share, whoever
 * failed before it. Round r's aggregator proposes once r takeovers have passed since the epoch's
 * tasks were done; members sign one batch per round (docs/protocol.md).
 */
export function roundAggregator({ seed, epoch, round, candidates }: RoundAggregatorParameters): Address | undefined {
  return rankCandidates({ seed, taskId: keccak256(stringToBytes(`aggregator/${epoch}/${round}`)), candidates, count: 1 })[0]
}
