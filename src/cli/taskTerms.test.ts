import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Command, InvalidArgumentError } from 'commander'
import { parseUnits } from 'viem'
import { defaultTaskTerms } from '../sdk/actions/submitTask.ts'
import { cliDefaultTaskTerms, termsOf, tokenAmountOption, withTermsOptions } from './taskTerms.ts'
import type { TermsFlags } from './taskTerms.ts'

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

  it('take a security level instead of k, quorum and audit rate, never both', () => {
    const parse = (...args: string[]) => {
      const command = withTermsOptions(new Command('submit')).exitOverride().configureOutput({ writeErr: () => {} })
      command.parse(args, { from: 'user' })
      return termsOf(command.opts<TermsFlags>())
    }
    assert.deepEqual(parse().policy, cliDefaultTaskTerms.policy)
    assert.deepEqual(parse('--k', '5', '--audit', '0.25').policy, { kind: 'replicate', k: 5, quorum: 3, auditPpm: 250_000 })
    const secured = parse('--security', '0.001')
    assert.deepEqual([secured.policy, secured.securityLevel], [undefined, 0.001])
    assert.throws(() => parse('--security', '0.001', '--k', '5'), /cannot be used with/)
    assert.throws(() => parse('--security', '1e-9'), /expected a number/)
  })
})
