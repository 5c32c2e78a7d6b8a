import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { createGovernanceClient } from '../src/chain/viem/createGovernanceClient.ts'
import { readParameters } from '../src/chain/viem/readParameters.ts'
import { defaultGovernanceSettings } from '../src/chain/deploy.ts'
import { runDevnet } from '../src/devnet/runDevnet.ts'
import type { DevChain } from '../src/devnet/startDevChain.ts'
import { withTempDir } from './helpers/tempDir.ts'

const EPOCH_TASKS = 8
const EPOCHS = 3

/** Passes a proposal to set k = 5 (quorum 3) with the devnet nodes' stake, mining through the vote and the timelock. */
async function passReplicationChange(net: DevChain): Promise<bigint> {
  const gov = createGovernanceClient(net.publicClient, net.contracts)
  const [proposer, ...voters] = net.nodeWallets
  const { proposalId } = await gov.propose(proposer!, { replicationK: 5, replicationQuorum: 3 }, 'Replicate every task 5 times')
  await net.testClient.mine({ blocks: defaultGovernanceSettings.votingDelayBlocks + 1 })
  for (const voter of voters.slice(0, 3)) await gov.castVote(voter, proposalId, 'for')
  await gov.castVote(voters[3]!, proposalId, 'against')
  await net.testClient.mine({ blocks: defaultGovernanceSettings.votingPeriodBlocks })
  assert.equal(await gov.state(proposalId), 'succeeded')
  await gov.queue(proposer!, proposalId)
  await net.testClient.increaseTime({ seconds: Number(defaultGovernanceSettings.timelockDelaySeconds) })
  await net.testClient.mine({ blocks: 1 })
  await gov.execute(proposer!, proposalId)
  assert.equal(await gov.state(proposalId), 'executed')
  return proposalId
}

describe('governance end to end', () => {
  it('changes k from 3 to 5 during a running devnet: later epochs use 5 executors, earlier tasks keep 3, none is lost', async () => {
    await withTempDir(async (dir) => {
      const receiptsFile = join(dir, 'receipts.json')
      const seen: Array<{ epoch: bigint; k: number }> = []
      // Without audits, every task's executors are exactly its k seats.
      const report = await runDevnet({
        nodes: 6,
        auditPpm: 0,
        tasks: EPOCH_TASKS * EPOCHS,
        epochTasks: EPOCH_TASKS,
        seed: 'governance',
        threads: 2,
        receiptsFile,
        onEpoch: async (epoch, net) => {
          // What the open epoch runs with, read from the chain as every node reads it.
          const params = await readParameters(net.publicClient, { settlement: net.contracts.settlement, epoch })
          seen.push({ epoch, k: params.defaultPolicy.k })
          // Mid-epoch 1, with half of its tasks in flight: the proposal passes and executes.
          if (epoch === 1n) await passReplicationChange(net)
        },
      })
      assert.deepEqual(seen, [
        { epoch: 0n, k: 3 },
        { epoch: 1n, k: 3 }, // executed during epoch 1: epoch 1 keeps its parameters
        { epoch: 2n, k: 5 },
      ])

      // No task lost: every task verified, correct, settled and receipted.
      const total = EPOCH_TASKS * EPOCHS
      // Refusals first: if a task is missing, its gateway's refusal code says why.
      assert.deepEqual(report.rejected, {})
      assert.deepEqual([report.verified, report.correct, report.failed, report.unresolved], [total, total, 0, 0])
      assert.equal(report.agreement, true)
      assert.equal(report.settlement?.epochs, EPOCHS)
      const receipts = JSON.parse(await readFile(receiptsFile, 'utf8')) as Array<{ epoch: string; executors: string[] }>
      assert.equal(receipts.length, total)
      const executorsByEpoch = new Map<string, number[]>()
      for (const r of receipts) executorsByEpoch.set(r.epoch, [...(executorsByEpoch.get(r.epoch) ?? []), r.executors.length])
      assert.deepEqual(executorsByEpoch.get('0'), Array(EPOCH_TASKS).fill(3))
      assert.deepEqual(executorsByEpoch.get('1'), Array(EPOCH_TASKS).fill(3))
      assert.deepEqual(executorsByEpoch.get('2'), Array(EPOCH_TASKS).fill(5))
      // Executions match: 3 per task before the boundary, 5 after.
      const executions = report.perNode.reduce((sum, n) => sum + n.executions, 0)
      assert.equal(executions, 2 * EPOCH_TASKS * 3 + EPOCH_TASKS * 5)
    })
  })
})
