import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { adversaryReport } from './adversaryReport.ts'
import type { AdversaryReportParameters } from './adversaryReport.ts'

const addresses = Array.from({ length: 9 }, (_, i) => testAccount(`report-${i}`).address)
const behaviours = [...Array(6).fill('honest'), ...Array(3).fill('strategic-colluder')] as AdversaryReportParameters['behaviours']
const VTT = 10n ** 18n

function report(staked: (i: number) => bigint) {
  return adversaryReport({
    behaviours,
    addresses,
    tasks: Array.from({ length: 84 }, () => ({ taskId: `0x${'00'.repeat(32)}` as const, verdict: undefined, trueResult: `0x${'11'.repeat(32)}` as const })),
    seatsOf: () => undefined,
    staked: (node) => staked(addresses.indexOf(node)),
    stakeOf: (node) => staked(addresses.indexOf(node)) - (addresses.indexOf(node) >= 6 ? 100n * VTT : 0n),
    jailedUntil: () => 0n,
    earned: () => 0n,
    k: 3,
    auditPpm: 100_000,
  })
}

describe('adversaryReport', () => {
  it('predicts a strategic coalition’s wrong results for equal nodes only, and counts each node’s slash from its own stake', () => {
    const equal = report(() => 1_000n * VTT)
    // 84 tasks × C(3,3)/C(9,3) × (1 − 0.1) = 0.9
    assert.equal(equal.predictedWrong, 0.9)
    const unequal = report((i) => (i < 6 ? 2_000n : 500n) * VTT)
    assert.equal(unequal.predictedWrong, null, 'the formula counts equal nodes')
    const colluders = unequal.behaviours.find((b) => b.behaviour === 'strategic-colluder')!
    assert.equal(colluders.slashed, (100n * VTT).toString())
  })
})
