import type { Candidate } from '../../core/sortition.ts'
import type { Address, Hex } from '../../core/types.ts'
import type { ChainView } from '../../ports/node.ts'

export interface StaticNode extends Candidate {
  runtimes: readonly string[]
}

/** What a node needs of the chain for one epoch, read once at the epoch boundary. */
export interface EpochSnapshot {
  epoch?: bigint
  seed: Hex
  nodes: readonly StaticNode[]
  /** What each requester can still be charged, as of the snapshot. */
  escrow: ReadonlyMap<Address, bigint>
}

export interface SnapshotChainView extends ChainView {
  /** Moves every reader to the next epoch's snapshot at once. */
  update(snapshot: EpochSnapshot): void
}

/**
 * A chain view served from an epoch snapshot: a fixed chain state for single-process networks
 * without a chain, or the chain adapter's reading of the current epoch.
 */
export function createStaticChainView(initial: EpochSnapshot): SnapshotChainView {
  let snapshot = initial
  let byRuntime = new Map<string, Candidate[]>()
  const index = (s: EpochSnapshot) => {
    byRuntime = new Map()
    for (const node of s.nodes) {
      for (const runtime of node.runtimes) {
        const list = byRuntime.get(runtime) ?? []
        list.push({ address: node.address, weight: node.weight })
        byRuntime.set(runtime, list)
      }
    }
  }
  index(initial)
  return {
    epoch: () => snapshot.epoch ?? 0n,
    epochSeed: () => snapshot.seed,
    eligibleNodes: (runtime) => byRuntime.get(runtime) ?? [],
    escrowBalance: (requester) => snapshot.escrow.get(requester) ?? 0n,
    update(next) {
      snapshot = next
      index(next)
    },
  }
}
