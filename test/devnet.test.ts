import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runDevnet } from '../src/devnet/runDevnet.ts'
import type { DevnetReport } from '../src/devnet/runDevnet.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

describe('devnet end to end', () => {
  it('verifies every task of the workload, correctly, with all nodes agreeing', async () => {
    const report = await runDevnet({ nodes: 5, tasks: 30, seed: 'e2e', threads: 2 })
    assert.equal(report.verified, 30)
    assert.equal(report.correct, 30, 'every verified result equals a local computation')
    assert.equal(report.failed + report.unresolved, 0)
    assert.equal(report.agreement, true)
    // Each task is one spec, k commits and k reveals: O(k) messages, whatever the node count.
    assert.equal(report.gossip.messagesPerTask, 1 + 2 * 3)
    const executions = report.perNode.reduce((sum, n) => sum + n.executions, 0)
    assert.equal(executions, 30 * 3)
    assert.equal(report.perNode.reduce((sum, n) => sum + n.agreed, 0), 30 * 3)
  })

  it('still verifies everything over a network with latency, with k = 5', async () => {
    const report = await runDevnet({ nodes: 6, tasks: 12, k: 5, seed: 'latency', latencyMs: 3, threads: 2 })
    assert.deepEqual([report.verified, report.correct, report.agreement], [12, 12, true])
    assert.deepEqual(report.policy, { kind: 'replicate', k: 5, quorum: 3 })
    assert.equal(report.perNode.reduce((sum, n) => sum + n.executions, 0), 12 * 5)
  })

  it('`veritask devnet --nodes 7 --tasks 100 --k 3 --json` prints one JSON report with verified: 100', () => {
    const run = spawnSync(process.execPath, ['bin/veritask.js', 'devnet', '--nodes', '7', '--tasks', '100', '--k', '3', '--json'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    })
    assert.equal(run.status, 0, run.stderr)
    const report = JSON.parse(run.stdout) as DevnetReport
    assert.equal(report.nodes, 7)
    assert.equal(report.verified, 100)
    assert.equal(report.correct, 100)
    assert.equal(report.perNode.length, 7)
    assert.equal(run.stderr, '', 'nothing on stderr: no progress bar or logs when not on a terminal')
  })
})
