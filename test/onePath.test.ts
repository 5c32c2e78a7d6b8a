import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Address, Hex } from 'viem'
import { StakeManagerAbi } from '../src/chain/generated/contracts.ts'
import { defaultNetworkParameters } from '../src/chain/governance/parameters.ts'
import { parseAdversaries } from '../src/devnet/adversaries.ts'
import { startLocalNetwork } from '../src/devnet/localNetwork.ts'
import type { LocalNetwork } from '../src/devnet/localNetwork.ts'
import { runDevnet } from '../src/devnet/runDevnet.ts'
import { DEVNET_STAKE } from '../src/devnet/startDevChain.ts'
import { buildWorkload } from '../src/devnet/workload.ts'
import { NodeApiError } from '../src/sdk/index.ts'
import { localRequester } from './helpers/localRequester.ts'

const NODES = 5
const TASKS = 12
const FEE = 10n ** 15n
const behaviours = parseAdversaries('liar:1', NODES)

/** What the batch rule says a node loses for its settled dissents: a share of its stake per dissent, at most all of it. */
function expectedSlash(dissents: number): bigint {
  const slash = (DEVNET_STAKE * BigInt(defaultNetworkParameters.dissentSlashBps) * BigInt(dissents)) / 10_000n
  return slash < DEVNET_STAKE ? slash : DEVNET_STAKE
}

interface Outcome {
  behaviour: string
  dissented: number
  slashed: bigint
  jailed: boolean
}

/**
 * The in-process devnet (`npm start`) and a live local network (`veritask devnet --serve`) run the
 * same node and settler. Given the same behaviours and workload, each penalises exactly the nodes
 * whose dissent settled, by the same rule, and nobody else. (The two runs draw different seats, so
 * the counts differ; the rule relating them must not.)
 */
describe('one code path: the devnet and a live network penalise the same way', () => {
  let net: LocalNetwork
  before(async () => {
    net = await startLocalNetwork({ nodes: NODES, seed: 'one-path', behaviours, blockMs: 100, epochBlocks: 30n })
  })
  after(async () => {
    await net?.stop()
  })

  function checkRule(outcomes: readonly Outcome[], where: string): void {
    for (const node of outcomes) {
      assert.equal(node.slashed, expectedSlash(node.dissented), `${where}: a ${node.behaviour} with ${node.dissented} settled dissents`)
      assert.equal(node.jailed, node.dissented > 0, `${where}: a ${node.behaviour} is jailed exactly when it dissented`)
      if (node.behaviour === 'honest') assert.equal(node.dissented, 0, `${where}: an honest node never dissents`)
    }
    const liar = outcomes.find((n) => n.behaviour === 'liar')!
    assert.ok(liar.dissented > 0, `${where}: the liar was drawn (${TASKS} tasks, k = 3 of ${NODES}) and outvoted`)
  }

  it('the in-process devnet', async () => {
    const report = await runDevnet({ nodes: NODES, tasks: TASKS, epochTasks: TASKS / 2, seed: 'one-path', threads: 2, behaviours })
    assert.equal(report.wrongVerdicts, 0)
    checkRule(
      report.perNode.map((n) => ({ behaviour: n.behaviour, dissented: n.dissented, slashed: BigInt(n.slashed), jailed: n.jailed })),
      'devnet',
    )
  })

  it('a live local network on anvil, its nodes settling themselves', async () => {
    const client = localRequester(net)
    await client.deposit({ amount: BigInt(TASKS) * FEE })
    const workload = await buildWorkload('one-path', TASKS)
    const taskIds: Hex[] = []
    for (const item of workload) taskIds.push((await client.submitTask({ program: item.programBytes, input: item.input, limits: item.limits, fee: FEE })).taskId)
    const dissents = new Map<Address, number>()
    for (const taskId of taskIds) {
      const { verdict } = await client.waitForResult({ taskId, output: false })
      assert.notEqual(verdict.outcome, 'unresolved', 'four honest nodes of five always reach a quorum')
      // Only a dissent that settled is slashed: a task its epoch's batch omitted (RECEIPT_OMITTED) costs nobody anything.
      const receipt = await client.getReceipt({ taskId, wait: true }).catch((error: unknown) => {
        if (error instanceof NodeApiError && error.code === 'RECEIPT_OMITTED') return undefined
        throw error
      })
      if (receipt === undefined) continue
      for (const node of verdict.dissenters) dissents.set(node, (dissents.get(node) ?? 0) + 1)
    }
    const read = (functionName: 'stakeOf' | 'jailedUntil', node: Address) =>
      net.publicClient.readContract({ address: net.contracts.stakeManager, abi: StakeManagerAbi, functionName, args: [node] }) as Promise<bigint>
    const outcomes: Outcome[] = []
    for (const [i, node] of net.nodeAddresses.entries()) {
      outcomes.push({
        behaviour: behaviours[i] ?? 'honest',
        dissented: dissents.get(node) ?? 0,
        slashed: DEVNET_STAKE - (await read('stakeOf', node)),
        // Jailed at some point: a jail is never shortened nor lifted early, and it may have run
        // out by now (100 blocks of 100 ms), the node refreshed back in by its own keeper.
        jailed: BigInt(await read('jailedUntil', node)) > 0n,
      })
    }
    checkRule(outcomes, 'live')
  })
})
