import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runCli } from '../../test/helpers/cli.ts'
import { exitCodes } from './options.ts'

const run = runCli

describe('veritask CLI', () => {
  it('shows help with an example and exits 0', async () => {
    const { code, stdout } = await run('devnet', '--help')
    assert.equal(code, exitCodes.ok)
    assert.match(stdout, /--nodes <n>/)
    assert.match(stdout, /veritask devnet --nodes 7 --tasks 100 --k 3 --json/)
  })

  it('rejects wrong flags with exit code 2 and says what is wrong', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['devnet', '--nodes', '0'], /--nodes.*expected an integer from 1/],
      [['devnet', '--tasks', 'many'], /--tasks.*expected an integer/],
      [['devnet', '--drop-rate', '1.5'], /--drop-rate.*expected a number in \[0, 1\)/],
      [['devnet', '--k', '5', '--nodes', '3'], /--k 5 needs at least 5 nodes/],
      [['devnet', '--k', '4', '--quorum', '2'], /--quorum 2 must be a strict majority/],
      [['devnet', '--frobnicate'], /unknown option '--frobnicate'/],
      [['launch-rockets'], /unknown command 'launch-rockets'/],
      [['sim', '--nodes', '3'], /--nodes.*expected an integer from 4/],
      [['sim', '--nodes', '100,10'], /--nodes.*expected increasing node counts/],
      [['sim', '--stakes', '3000x0'], /--stakes.*expected whole VTT per node/],
      [['sim', '--nodes', '5', '--stakes', '1000x4'], /--stakes names 4 nodes, but this run has 5/],
    ]
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await run(...args)
      assert.equal(code, exitCodes.usage, args.join(' '))
      assert.match(stderr, message)
      assert.equal(stdout, '')
    }
  })

  it('simulates a small network with `sim`: every task verified and settled, as JSON', async () => {
    const { code, stdout, stderr } = await run('sim', '--nodes', '4,6', '--tasks-per-node', '3', '--json')
    assert.equal(code, exitCodes.ok, stderr)
    const reports = JSON.parse(stdout) as Array<{ nodes: number; tasks: number; outcomes: { verified: number }; epochs: Array<{ settledAtMs: number | null }> }>
    assert.deepEqual(reports.map((r) => [r.nodes, r.tasks, r.outcomes.verified]), [[4, 12, 12], [6, 18, 18]])
    assert.ok(reports.every((r) => r.epochs.every((e) => e.settledAtMs !== null)))
  })
})
