import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/**
 * The Solidity invariants of test/forge/ (Escrow and StakeManager under random sequences of
 * deposits, withdrawals, over-committed spending, settlements, claims, stakes and slashes;
 * StakeManager's BLS aggregate key under registrations, stakes, unbonds, slashes and jails; and
 * TaskAnchors under anchors, refused re-anchors, bad counts, short allowances and fee changes), run
 * by forge offline with solc-js. The seed, runs and depth are fixed so that a failure reproduces;
 * `npx forge test --use scripts/solc-forge.mjs --offline` runs forge's defaults by hand.
 */
describe('Escrow, stake, BLS key and task anchor invariants (forge)', () => {
  it('hold across fuzzed call sequences, and everybody can leave with exactly its own', () => {
    const run = spawnSync(fileURLToPath(new URL('../../node_modules/.bin/forge', import.meta.url)), ['test', '--use', 'scripts/solc-forge.mjs', '--offline'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, FOUNDRY_INVARIANT_RUNS: '48', FOUNDRY_INVARIANT_DEPTH: '48', FOUNDRY_FUZZ_SEED: '0x7665726974' },
      timeout: 240_000,
    })
    const output = `${run.stdout}\n${run.stderr}`
    assert.equal(run.status, 0, output)
    assert.match(output, /\[PASS\] invariant_escrowAndStake\(\) \(runs: 48, calls: 2304/, output)
    assert.match(output, /\[PASS\] invariant_aggregateKeyIsTheSumOfTheSigningSet\(\) \(runs: 48, calls: 2304/, output)
    assert.match(output, /\[PASS\] invariant_anchorsArePaidAndWriteOnce\(\) \(runs: 48, calls: 2304/, output)
  })
})
