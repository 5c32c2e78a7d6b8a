import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidArgumentError } from 'commander'
import { parseUnits } from 'viem'
import { defaultTaskTerms } from '../sdk/actions/submitTask.ts'
import { cliDefaultTaskTerms, tokenAmountOption } from './taskTerms.ts'

describe('task terms flags', () => {
  it("show the SDK's default terms", () => {
    assert.deepEqual(cliDefaultTaskTerms, defaultTaskTerms)
  })

  it('parse token amounts exactly, as viem parseUnits does', () => {
    for (const raw of ['0', '1', '0.5', '0.001', '12.000000000000000001', '999999999.999999999999999999', ' 3.25 ']) {
      assert.equal(tokenAmountOption(raw), parseUnits(raw.trim(), 18), raw)
    }
    for (const raw of ['', '-1', '1.', '.5', '1e18', '0.0000000000000000001', 'ten']) {
      assert.throws(() => tokenAmountOption(raw), InvalidArgumentError, raw)
    }
  })
})
