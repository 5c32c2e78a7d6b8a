import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatUnits } from 'viem'
import { formatTokens } from './formatTokens.ts'

describe('formatTokens', () => {
  it('formats base units exactly', () => {
    assert.equal(formatTokens(40_000_000_000_000_000n), '0.04')
    assert.equal(formatTokens(0n), '0')
    assert.equal(formatTokens(10n ** 18n), '1')
    assert.equal(formatTokens(1n), '0.000000000000000001')
    assert.equal(formatTokens(-1_500_000_000_000_000_000n), '-1.5')
    assert.equal(formatTokens(12_345n, { decimals: 2 }), '123.45')
  })

  it('pads to a minimum of fraction digits, never cutting any', () => {
    assert.equal(formatTokens(29_900_000_000_000_000n, { minFractionDigits: 4 }), '0.0299')
    assert.equal(formatTokens(0n, { minFractionDigits: 4 }), '0.0000')
    assert.equal(formatTokens(123_456_789n, { minFractionDigits: 4 }), '0.000000000123456789')
  })

  it('agrees with viem formatUnits on sums that floats get wrong', () => {
    // 0.0400000000000004 is what adding the shares as floats printed once.
    const shares = Array.from({ length: 200 }, () => 200_000_000_000_000n)
    const sum = shares.reduce((a, b) => a + b, 0n)
    assert.equal(formatTokens(sum), '0.04')
    for (const v of [sum, 7n, 10n ** 30n + 3n]) assert.equal(formatTokens(v), formatUnits(v, 18))
  })
})
