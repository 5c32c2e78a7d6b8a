import { UsageError } from '../core/errors.ts'
import type { Address, Hex, Verdict } from '../core/types.ts'
import type { Behaviour } from '../devnet/adversaries.ts'

/**
 * The devnet's adversaries (`src/devnet/adversaries.ts`) the simulator runs. The others act on
 * real time (slow, offline), copy public results (copier), or grind on the requester's side
 * (grinding-requester): the simulator models dropping out with `churn` instead.
 */
export const simBehaviours: readonly Behaviour[] = [
  'honest',
  'liar',
  'colluder',
  'strategic-colluder',
  'quorum-colluder',
  'withholder',
  'colluding-verifier',
  'bribed-arbiter',
  'lazy',
  'guesser',
]

/** Throws a `UsageError` naming the first behaviour the simulator does not model. */
export function assertSimBehaviours(behaviours: readonly Behaviour[]): void {
  const other = behaviours.find((b) => !simBehaviours.includes(b))
  if (other !== undefined) {
    throw new UsageError('USAGE_INVALID_OPTION', `The simulator does not model "${other}" nodes.`, {
      hint: `It runs ${simBehaviours.filter((b) => b !== 'honest').join(', ')}; --churn takes nodes offline.`,
    })
  }
}

/** What one behaviour's nodes ended the run with, per node on average (wei, decimal strings). */
export interface SimBehaviourOutcome {
  behaviour: Behaviour
  nodes: number
  /** Fees earned in the last settled balances, per node. */
  earned: string
  /** Stake slashed, per node. */
  slashed: string
  /** Earned minus slashed, per node: negative for a loss. */
  net: string
  /** Nodes jailed during the run. */
  jailed: number
}

export interface SimAdversaryReport {
  behaviours: SimBehaviourOutcome[]
  /** Verified results that are not the task's true output. */
  wrongVerified: number
  /** Tasks whose every executor seat one coalition held, counted from the public ranking. */
  heldEverySeat: number
  /**
   * The analytic expectation of `wrongVerified` (docs/economics.md) for the coalition's strategy,
   * where one applies: a strategic colluder gets a lie through where it holds all k seats and the
   * audit spares it, `C(m,k)/C(n,k)·(1 − p)` per task; a colluding verifier where it also holds the
   * verifier's place, `C(m,k+1)/C(n,k+1)`. It assumes the coalition stays eligible; one that is
   * caught is slashed and jailed, so the measured count can only fall below it. Null otherwise, and
   * when the nodes' stakes differ (the formulas count equal nodes).
   */
  predictedWrong: number | null
}

export interface AdversaryReportParameters {
  behaviours: readonly Behaviour[]
  addresses: readonly Address[]
  /** Each submitted task's verdict (as its gateway saw it), with its true result's hash. */
  tasks: ReadonlyArray<{ taskId: Hex; verdict: Verdict | undefined; trueResult: Hex }>
  /** A task's executor seats in the public ranking, as they were while it ran. */
  seatsOf(taskId: Hex): readonly Address[] | undefined
  /** A node's stake at the start of the run. */
  staked(node: Address): bigint
  /** Its stake at the end. */
  stakeOf(node: Address): bigint
  jailedUntil(node: Address): bigint
  earned(node: Address): bigint
  k: number
  auditPpm: number
}

/** How a run with adversaries ended: wrong results, each behaviour's money, and the prediction. */
export function adversaryReport(p: AdversaryReportParameters): SimAdversaryReport {
  const n = p.addresses.length
  const cast = new Set(p.behaviours.filter((b) => b !== 'honest'))
  const coalitions = [...cast].map((b) => new Set(p.addresses.filter((_, i) => (p.behaviours[i] ?? 'honest') === b)))
  let heldEverySeat = 0
  let wrongVerified = 0
  for (const { taskId, verdict, trueResult } of p.tasks) {
    if (verdict?.outcome === 'verified' && verdict.resultHash !== trueResult) wrongVerified++
    const seats = p.seatsOf(taskId)
    if (seats !== undefined && coalitions.some((c) => seats.every((s) => c.has(s)))) heldEverySeat++
  }
  const behaviours = [...new Set<Behaviour>(['honest', ...cast])].flatMap((behaviour): SimBehaviourOutcome[] => {
    const nodes = p.addresses.filter((_, i) => (p.behaviours[i] ?? 'honest') === behaviour)
    if (nodes.length === 0) return []
    const count = BigInt(nodes.length)
    const earned = nodes.reduce((sum, a) => sum + p.earned(a), 0n)
    const slashed = nodes.reduce((sum, a) => sum + (p.staked(a) - p.stakeOf(a)), 0n)
    return [
      {
        behaviour,
        nodes: nodes.length,
        earned: (earned / count).toString(),
        slashed: (slashed / count).toString(),
        net: ((earned - slashed) / count).toString(),
        jailed: nodes.filter((a) => p.jailedUntil(a) > 0n).length,
      },
    ]
  })
  const equalStakes = new Set(p.addresses.map((a) => p.staked(a))).size <= 1
  const only = cast.size === 1 && equalStakes ? [...cast][0] : undefined
  const m = only === undefined ? 0 : p.behaviours.filter((b) => b === only).length
  const audit = p.auditPpm / 1_000_000
  const predictedWrong =
    only === 'strategic-colluder'
      ? (p.tasks.length * choose(m, p.k) * (1 - audit)) / choose(n, p.k)
      : only === 'colluding-verifier'
        ? (p.tasks.length * choose(m, p.k + 1)) / choose(n, p.k + 1)
        : null
  return { behaviours, wrongVerified, heldEverySeat, predictedWrong: predictedWrong === null ? null : Math.round(predictedWrong * 10) / 10 }
}

/** The binomial coefficient C(n, r), as a float. */
function choose(n: number, r: number): number {
  if (r < 0 || r > n) return 0
  let c = 1
  for (let i = 0; i < r; i++) c = (c * (n - i)) / (i + 1)
  return c
}
