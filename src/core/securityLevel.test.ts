import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SpecRejectedError } from './errors.ts'
import { policyForSecurityLevel, wrongResultProbability } from './securityLevel.ts'

describe('policyForSecurityLevel', () => {
  it('meets the level it is asked for, at the fewest expected executions', () => {
    for (const level of [0.1, 0.05, 0.01, 1e-3, 1e-4, 1e-5, 1e-6]) {
      const policy = policyForSecurityLevel({ level, maxK: 16 })
      const p = policy.auditPpm! / 1_000_000
      assert.ok(wrongResultProbability(policy.k, p, 1 / 3) <= level, `level ${level}: k ${policy.k}, p ${p}`)
      assert.equal(policy.quorum, Math.floor(policy.k / 2) + 1)
      // No cheaper policy meets it: with fewer executors, the audit rate that would cost the same
      // (k' + p' = k + p; the probability falls as p' grows) still misses the level.
      for (let k = 1; k < policy.k; k++) {
        const sameCost = policy.k + p - k
        if (sameCost < 1) assert.ok(wrongResultProbability(k, sameCost, 1 / 3) > level, `k ${k} with p ${sameCost} would do`)
      }
      // And one ppm less audit on the same k misses it.
      if (policy.auditPpm! > 0) assert.ok(wrongResultProbability(policy.k, (policy.auditPpm! - 1) / 1_000_000, 1 / 3) > level)
    }
  })

  it('asks for more executors as the level tightens and the adversary grows', () => {
    const loose = policyForSecurityLevel({ level: 0.05, maxK: 16 })
    const tight = policyForSecurityLevel({ level: 1e-6, maxK: 16 })
    assert.ok(tight.k > loose.k)
    assert.ok(policyForSecurityLevel({ level: 1e-4, adversaryShare: 0.4, maxK: 16 }).k >= policyForSecurityLevel({ level: 1e-4, adversaryShare: 0.2, maxK: 16 }).k)
  })

  it('refuses a level below what arbitration itself guarantees, or more than maxK can reach', () => {
    const refused = (parameters: Parameters<typeof policyForSecurityLevel>[0]) =>
      assert.throws(() => policyForSecurityLevel(parameters), (e: unknown) => e instanceof SpecRejectedError && e.code === 'SPEC_INVALID_POLICY')
    refused({ level: 1e-9, maxK: 16 })
    refused({ level: 1, maxK: 16 })
    refused({ level: 0.01, adversaryShare: 0.5, maxK: 16 })
    refused({ level: 1e-6, maxK: 3 })
  })
})
