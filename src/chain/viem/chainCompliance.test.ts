import { after } from 'node:test'
import { BaseError, ContractFunctionRevertedError, parseEther } from 'viem'
import type { LocalAccount } from 'viem'
import { describeChainCompliance } from '../../../test/helpers/chainCompliance.ts'
import type { ChainFixtureOptions } from '../../../test/helpers/chainCompliance.ts'
import type { SettlementPort } from '../../ports/settlement.ts'
import { createTestChain } from '../../../test/helpers/contractChain.ts'
import type { TestChain, TestDeployment } from '../../../test/helpers/contractChain.ts'
import type { ChainParams } from '../deploy.ts'
import { EscrowAbi, StakeManagerAbi } from '../generated/contracts.ts'
import { createChainFollower } from './createChainFollower.ts'
import { createSettlementPort } from './createSettlementPort.ts'

// One anvil for the file. Each set of parameters is deployed once; every case starts from a
// snapshot holding all deployments so far (its contracts untouched) instead of deploying again.
let started: Promise<TestChain> | undefined
const testChain = (): Promise<TestChain> => (started ??= createTestChain())
after(async () => (await started)?.stop())
const deployments = new Map<string, TestDeployment>()
let pristine: { revert(): Promise<void> } | undefined

/** A deployment with `params`, as it was right after deploying. */
async function freshDeployment(c: TestChain, params: Partial<ChainParams>): Promise<TestDeployment> {
  await pristine?.revert()
  const key = JSON.stringify(params, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))
  let deployment = deployments.get(key)
  if (deployment === undefined) {
    deployment = await c.deployMore(params)
    deployments.set(key, deployment)
    pristine = await c.snapshot()
  }
  return deployment
}

/** `SettlementInsufficientSignatures` → `SETTLEMENT_INSUFFICIENT_SIGNATURES`, `StakeManagerBlsKeyTaken` → `STAKE_MANAGER_BLS_KEY_TAKEN`. */
const toCode = (errorName: string): string =>
  errorName
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .toUpperCase()

async function create({ nodes, minStake, committeeSize, executorsBps, dissentSlashBps, jailBlocks }: ChainFixtureOptions) {
  const c = await testChain()
  const deployment = await freshDeployment(c, { minStake, committeeSize, executorsBps, dissentSlashBps, jailBlocks, epochLength: 50n })
  const { contracts } = deployment
  const fund = (account: LocalAccount) => c.testClient.setBalance({ address: account.address, value: parseEther('10') })
  for (const { account, stake, capabilities, blsKey } of nodes) {
    await fund(account)
    await deployment.stake(account, stake, { registerBlsKey: blsKey !== false })
    if (capabilities !== undefined) {
      await c.send(
        c.wallet(account).writeContract({ address: contracts.stakeManager, abi: StakeManagerAbi, functionName: 'advertiseCapabilities', args: [[...capabilities]] }),
      )
    }
  }
  const follower = createChainFollower({ publicClient: c.publicClient, contracts, pollMs: 10, maxPollMs: 50 })
  const ports = new Map<number, SettlementPort>()
  let next = 0n
  return {
    chain: follower,
    settlement(node: number): SettlementPort {
      const port = ports.get(node) ?? createSettlementPort({ publicClient: c.publicClient, contracts, wallet: c.wallet(nodes[node]!.account) })
      ports.set(node, port)
      return port
    },
    domain: { chainId: c.chain.id, verifyingContract: contracts.settlement },
    stake: (node: number, amount: bigint) => deployment.stake(nodes[node]!.account, amount),
    async deposit(requester: LocalAccount, amount: bigint) {
      await fund(requester)
      await deployment.deposit(requester, amount)
    },
    async requestWithdrawal(requester: LocalAccount, amount: bigint) {
      await c.send(c.wallet(requester).writeContract({ address: contracts.escrow, abi: EscrowAbi, functionName: 'requestWithdrawal', args: [amount] }))
    },
    async openEpoch(between?: () => Promise<void>) {
      const epoch = next++
      await deployment.openEpoch(epoch)
      await between?.()
      // The follower's own wait: it has read the epoch's snapshot when this resolves.
      if (epoch === 0n) await follower.start()
      else if (!(await follower.awaitEpoch(epoch, 10_000))) throw new Error(`the follower did not see epoch ${epoch} open`)
      return epoch
    },
    close: async () => follower.stop(),
  }
}

describeChainCompliance(
  'anvil (createChainFollower + createSettlementPort)',
  {
    create,
    rejection(error) {
      if (!(error instanceof BaseError)) return undefined
      const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
      if (!(reverted instanceof ContractFunctionRevertedError) || reverted.data === undefined) return undefined
      const { errorName, args = [], abiItem } = reverted.data
      const inputs = abiItem.type === 'error' ? abiItem.inputs : []
      return { code: toCode(errorName), details: Object.fromEntries(inputs.map((input, i) => [input.name ?? String(i), args[i]])) }
    },
  }
)
