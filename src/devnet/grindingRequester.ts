import { hashTaskSpec } from '../core/eip712.ts'
import { executorsOf, rankTask } from '../core/task.ts'
import type { Address, Hex, ProtocolDomain, TaskSpec } from '../core/types.ts'
import type { EpochView } from '../ports/node.ts'

export interface GrindingStats {
  /** Specs the requester ground. */
  specs: number
  /** Nonces it tried, in all. */
  nonces: number
  /** Specs for which its guess of the draw gave the coalition every seat (the rest hit `maxNonces`). */
  predictedEverySeat: number
}

export interface GrindingRequester {
  readonly stats: GrindingStats
  /** `spec` with the first nonce whose seats, ranked with `guess` as the draw, are all the coalition's. */
  grind(spec: TaskSpec, view: EpochView, guess: Hex): TaskSpec
}

/**
 * The `grinding-requester` strategy's requester (docs/devnet.md): it belongs to a coalition of
 * strategic colluders and, before signing each spec, tries nonces until the coalition holds every
 * seat under its best guess of the task's draw. Its best guess is the hash of the newest block it
 * knows: the draw block is not mined yet, so every guess is as good as any other, and the seats the
 * nodes draw are the coalition's at the honest rate (docs/protocol.md §2).
 */
export function createGrindingRequester({ coalition, domain, maxNonces = 100_000 }: { coalition: ReadonlySet<Address>; domain: ProtocolDomain; maxNonces?: number }): GrindingRequester {
  const stats: GrindingStats = { specs: 0, nonces: 0, predictedEverySeat: 0 }
  return {
    stats,
    grind(spec, view, guess) {
      stats.specs++
      const k = executorsOf(spec.policy)
      for (let j = 0n; j < BigInt(maxNonces); j++) {
        // The spec's own nonce stays in the high bits: ground specs of different tasks never collide.
        const candidate = { ...spec, nonce: (spec.nonce << 20n) | j }
        stats.nonces++
        const seats = rankTask({ view, taskId: hashTaskSpec(candidate, domain), spec: candidate, draw: guess, backups: 0 }).slice(0, k)
        if (seats.every((node) => coalition.has(node))) {
          stats.predictedEverySeat++
          return candidate
        }
      }
      return spec
    },
  }
}
