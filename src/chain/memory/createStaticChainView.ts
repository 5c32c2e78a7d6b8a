import type { Candidate } from '../../core/sortition.ts'
import type { Address, Hex } from '../../core/types.ts'
import type { ChainView } from '../../ports/node.ts'

export interface StaticNode extends Candidate {
  runtimes: readonly string[]
}

export interface StaticChainViewParameters {
  seed: Hex
  nodes: readonly StaticNode[]
  escrow: ReadonlyMap<Address, bigint>
}

/** A fixed chain state for single-process networks without a chain. */
export function createStaticChainView({ seed, nodes, escrow }: StaticChainViewParameters): ChainView {
  const byRuntime = new Map<string, Candidate[]>()
  for (const node of nodes) {
    for (const runtime of node.runtimes) {
      const list = byRuntime.get(runtime) ?? []
      list.push({ address: node.address, weight: node.weight })
      byRuntime.set(runtime, list)
    }
  }
  return {
    epochSeed: () => seed,
    eligibleNodes: (runtime) => byRuntime.get(runtime) ?? [],
    escrowBalance: (requester) => escrow.get(requester) ?? 0n,
  }
}
