import assert from 'node:assert/strict'
import { arbitrationQuorum, executorsOf } from '../../src/core/task.ts'
import type { Address } from '../../src/core/types.ts'
import { runDevnet } from '../../src/devnet/runDevnet.ts'
import type { DevnetOptions, DevnetReport } from '../../src/devnet/runDevnet.ts'

/** The per-node reports of the nodes cast as `behaviour`. */
export function byBehaviour(report: DevnetReport, behaviour: string) {
  return report.perNode.filter((n) => n.behaviour === behaviour)
}

/**
 * Runs the devnet and ranks every submitted task's first-stage seats from public data (the
 * epoch's seed and stake snapshot, the spec's k), as the nodes and the coalition do. Returns the
 * report, how many tasks had all their seats (and all their seats and the verifier's place) held
 * by nodes cast as `behaviour`, and how many seats it held in each task.
 */
export async function runCountingSeats(
  options: DevnetOptions,
  behaviour: string,
): Promise<{
  report: DevnetReport
  heldEverySeat: number
  heldEverySeatAndVerifier: number
  /**
   * Tasks whose lie was certain: every seat and the verifier's place, or a strict majority of the
   * arbitration's seats with a place in the task to open the dispute from (a seat or the verifier's).
   */
  certainWins: number
  heldByTask: Array<{ epoch: bigint; held: number; quorum: number; seats: number }>
}> {
  const placesByTask: Array<{ epoch: bigint; seats: Address[]; verifier: Address | undefined; quorum: number; arbitrationSeats: readonly Address[] }> = []
  const report = await runDevnet({
    ...options,
    onSeated: ({ spec, places, arbitrationSeats }) => {
      const k = executorsOf(spec.policy)
      placesByTask.push({ epoch: spec.epoch, seats: places.slice(0, k), verifier: places[k], quorum: spec.policy.kind === 'replicate' ? spec.policy.quorum : 1, arbitrationSeats })
    },
  })
  const coalition = new Set(byBehaviour(report, behaviour).map((n) => n.address))
  const holdsAll = (seats: readonly Address[]) => seats.every((a) => coalition.has(a))
  const holdsSeatsAndVerifier = (t: (typeof placesByTask)[number]) => holdsAll(t.seats) && t.verifier !== undefined && coalition.has(t.verifier)
  const holdsArbitration = (t: (typeof placesByTask)[number]) => t.arbitrationSeats.filter((a) => coalition.has(a)).length >= arbitrationQuorum(t.arbitrationSeats.length)
  return {
    report,
    heldEverySeat: placesByTask.filter((t) => holdsAll(t.seats)).length,
    heldEverySeatAndVerifier: placesByTask.filter(holdsSeatsAndVerifier).length,
    certainWins: placesByTask.filter((t) => holdsSeatsAndVerifier(t) || (holdsArbitration(t) && [...t.seats, t.verifier].some((a) => a !== undefined && coalition.has(a)))).length,
    heldByTask: placesByTask.map((t) => ({ epoch: t.epoch, held: t.seats.filter((a) => coalition.has(a)).length, quorum: t.quorum, seats: t.seats.length })),
  }
}

export function assertHonestUnharmed(report: DevnetReport): void {
  for (const good of byBehaviour(report, 'honest')) {
    assert.equal(good.slashed, '0', `honest ${good.address} slashed ${good.slashed} wei`)
    assert.equal(good.jailed, false, `honest ${good.address} jailed`)
  }
}
