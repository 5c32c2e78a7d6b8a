import { buildAnchorTree, MAX_ANCHOR_LEAVES } from '../core/taskAnchor.ts'
import type { Hex, Signed, SignedSpec, TaskSpec } from '../core/types.ts'

/** Records a root of `count` task ids on-chain (`TaskAnchors.anchor`) and resolves with the block it landed in. */
export type AnchorRoot = (root: Hex, count: number) => Promise<{ block: bigint }>

/** A spec with its anchor proof, and the block its root was anchored in: the spec counts if that is before its draw block. */
export interface AnchoredSpec {
  signed: SignedSpec
  block: bigint
}

export interface TaskAnchorer {
  /**
   * Anchors `signed` (whose id is `taskId`) together with whatever else is asked for while the
   * previous anchor transaction is under way: one transaction, and one leaf paid, per task.
   */
  anchor(signed: Signed<TaskSpec>, taskId: Hex): Promise<AnchoredSpec>
}

interface Waiting {
  signed: Signed<TaskSpec>
  taskId: Hex
  resolve: (anchored: AnchoredSpec) => void
  reject: (error: unknown) => void
}

export interface CreateTaskAnchorerOptions {
  /**
   * Anchor transactions under way at once (default 1). More cut the wait of a spec signed while
   * one is under way, and need a wallet that numbers concurrent transactions (a nonce manager).
   */
  maxInFlight?: number
  /**
   * The chain's newest block, read as a batch is about to be anchored: a spec whose draw block an
   * anchor sent now cannot precede (at or below the head plus one) is handed back as late without
   * being paid for. Without it every spec is anchored.
   */
  head?: () => Promise<bigint>
}

/**
 * Batches task anchors: a requester anchors its task ids before their draw blocks
 * (core/taskAnchor.ts), and an anchor costs a transaction, so specs signed close together share
 * one. A spec is anchored at once when fewer than `maxInFlight` anchor transactions are under way
 * (after the current event-loop turn, so a burst of specs signed together goes in one root);
 * otherwise it waits for one to finish and goes in the next root with every spec that waited. A
 * spec that comes back with a block at or past its draw block (`AnchoredSpec.block`) does not count:
 * the caller signs it again for a later draw block.
 */
export function createTaskAnchorer(anchorRoot: AnchorRoot, { maxInFlight = 1, head }: CreateTaskAnchorerOptions = {}): TaskAnchorer {
  const waiting: Waiting[] = []
  let inFlight = 0
  let scheduled = false

  async function flush(): Promise<void> {
    let batch = waiting.splice(0, MAX_ANCHOR_LEAVES)
    try {
      if (head !== undefined) {
        // An anchor sent now lands in the next block at the earliest: a spec drawn from it or an
        // earlier one would come back late, its leaf paid for nothing.
        const next = (await head()) + 1n
        for (const w of batch) if (w.signed.message.drawBlock <= next) w.resolve({ signed: w.signed, block: next })
        batch = batch.filter((w) => w.signed.message.drawBlock > next)
        if (batch.length === 0) return
      }
      const tree = buildAnchorTree(batch.map((w) => w.taskId))
      const { block } = await anchorRoot(tree.root, tree.count)
      batch.forEach((w, i) => w.resolve({ signed: { ...w.signed, anchor: tree.anchors[i]! }, block }))
    } catch (error) {
      for (const w of batch) w.reject(error)
    }
  }

  function kick(): void {
    if (scheduled || inFlight >= maxInFlight || waiting.length === 0) return
    scheduled = true
    setImmediate(() => {
      scheduled = false
      if (inFlight >= maxInFlight || waiting.length === 0) return
      inFlight++
      void flush().finally(() => {
        inFlight--
        kick()
      })
    })
  }

  return {
    anchor(signed, taskId) {
      return new Promise((resolve, reject) => {
        waiting.push({ signed, taskId, resolve, reject })
        kick()
      })
    },
  }
}
