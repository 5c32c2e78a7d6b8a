import { encodeAbiParameters, keccak256 } from 'viem'
import type { Hex } from '../../core/types.ts'
import type { BlockView } from '../../ports/node.ts'

/** The longest delay `setTimeout` takes (2³¹ − 1 ms): a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1

/** Block `n`'s hash in an in-memory chain: `keccak256(abi.encode(seed, n))`. */
function hashOf(seed: Hex, block: bigint): Hex {
  return keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint64' }], [seed, block]))
}

/**
 * Blocks for a network without a chain: the head stays at 0 and any block's hash is known as soon
 * as it is asked for, so a task's seats are drawn at once. Anyone who knows `seed` can compute a
 * draw ahead, so a requester could grind its seats: single-process networks and tests that are
 * not about the draw use it; `createManualBlocks` and a real chain do not allow that.
 */
export function createInstantBlocks(seed: Hex): BlockView {
  return {
    head: () => 0n,
    blockHash: (block) => hashOf(seed, block),
    awaitBlock: async (block) => hashOf(seed, block),
  }
}

export interface ManualBlocks extends BlockView {
  /** Mines `count` blocks (default 1): waiters for them resolve. */
  mine(count?: number): void
}

/**
 * Blocks mined by hand, for tests of the draw: a block's hash is unknown until it is mined (its
 * seed stays with the test, never with the requester), and awaiting a later block waits for `mine`.
 */
export function createManualBlocks(seed: Hex, head = 0n): ManualBlocks {
  const waiters = new Set<{ block: bigint; resolve: (hash: Hex | undefined) => void }>()
  return {
    head: () => head,
    blockHash: (block) => (block <= head ? hashOf(seed, block) : undefined),
    awaitBlock(block, timeoutMs) {
      if (block <= head) return Promise.resolve(hashOf(seed, block))
      return new Promise((resolve) => {
        const waiter = {
          block,
          resolve: (hash: Hex | undefined) => {
            clearTimeout(timer)
            waiters.delete(waiter)
            resolve(hash)
          },
        }
        // A wait alone does not keep the process alive: whoever mines does.
        const timer = setTimeout(() => waiter.resolve(undefined), Math.min(timeoutMs, MAX_TIMER_MS)).unref()
        waiters.add(waiter)
      })
    },
    mine(count = 1) {
      head += BigInt(count)
      for (const waiter of [...waiters]) if (waiter.block <= head) waiter.resolve(hashOf(seed, waiter.block))
    },
  }
}
