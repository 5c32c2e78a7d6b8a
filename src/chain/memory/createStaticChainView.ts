import type { ProtocolParams } from '../../core/params.ts'
import type { Candidate } from '../../core/sortition.ts'
import type { Address, Hex } from '../../core/types.ts'
import type { AnchorView, BlockView, ChainView, EpochView } from '../../ports/node.ts'
import { createInstantAnchors } from './anchorSources.ts'
import { createInstantBlocks } from './blockSources.ts'

export interface StaticNode extends Candidate {
  runtimes: readonly string[]
}

/** What a node needs of the chain for one epoch, read once at the epoch boundary. */
export interface EpochSnapshot {
  epoch?: bigint
  seed: Hex
  nodes: readonly StaticNode[]
  /** What each requester can still be charged, as of the snapshot; absent where the chain view reads escrow itself. */
  escrow?: ReadonlyMap<Address, bigint>
  /** The epoch's governed parameters, if the chain has any. */
  params?: ProtocolParams
}

export interface SnapshotChainView extends ChainView {
  /** Moves every reader to the next epoch's snapshot at once; earlier epochs stay readable. */
  update(snapshot: EpochSnapshot): void
}

/** Epochs kept readable after a newer one opens: tasks of the previous epoch are still finishing. */
export const KEPT_EPOCHS = 4

/** Indexes a snapshot by runtime, once: sortition reads the candidate list for every task. */
export function toEpochView(snapshot: EpochSnapshot): EpochView {
  const byRuntime = new Map<string, Candidate[]>()
  const eligible = new Set(snapshot.nodes.map((node) => node.address.toLowerCase()))
  for (const node of snapshot.nodes) {
    for (const runtime of node.runtimes) {
      const list = byRuntime.get(runtime) ?? []
      list.push({ address: node.address, weight: node.weight })
      byRuntime.set(runtime, list)
    }
  }
  return {
    epoch: snapshot.epoch ?? 0n,
    seed: snapshot.seed,
    eligibleNodes: (runtime) => byRuntime.get(runtime) ?? [],
    isEligible: (node) => eligible.has(node.toLowerCase()),
    ...(snapshot.params === undefined ? {} : { params: snapshot.params }),
  }
}

/**
 * A chain view served from epoch snapshots: a fixed chain state for single-process networks
 * without a chain, or snapshots read from a chain by whoever drives the epochs. Task draws come
 * from `blocks`: known at once by default (`createInstantBlocks`); task anchors from `anchors`:
 * anything counts as anchored by default (`createInstantAnchors`).
 */
export function createStaticChainView(
  initial: EpochSnapshot,
  blocks: BlockView = createInstantBlocks(initial.seed),
  anchors: AnchorView = createInstantAnchors(),
): SnapshotChainView {
  /** Each kept epoch's view with the escrow of its snapshot: a spec is checked against its own epoch's. */
  const views = new Map<bigint, { view: EpochView; escrow: ReadonlyMap<Address, bigint> }>()
  let current = toEpochView(initial)
  views.set(current.epoch, { view: current, escrow: initial.escrow ?? new Map() })
  return {
    epoch: () => current.epoch,
    snapshot: (epoch) => views.get(epoch)?.view,
    escrowBalance: (requester, epoch) => views.get(epoch)?.escrow.get(requester) ?? 0n,
    head: () => blocks.head(),
    blockHash: (block) => blocks.blockHash(block),
    awaitBlock: (block, timeoutMs) => blocks.awaitBlock(block, timeoutMs),
    anchorOf: (requester, root) => anchors.anchorOf(requester, root),
    update(next) {
      current = toEpochView(next)
      views.set(current.epoch, { view: current, escrow: next.escrow ?? new Map() })
      for (const epoch of views.keys()) if (epoch + BigInt(KEPT_EPOCHS) <= current.epoch) views.delete(epoch)
    },
  }
}
