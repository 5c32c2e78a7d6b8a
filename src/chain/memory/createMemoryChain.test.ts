import { describeChainCompliance } from '../../../test/helpers/chainCompliance.ts'
import { registerBlsKey, testAccount } from '../../../test/helpers/fixtures.ts'
import { ChainRevertedError, createMemoryChain } from './createMemoryChain.ts'

const domain = { chainId: 31337, verifyingContract: testAccount('memory-settlement').address }

describeChainCompliance('memory', {
  async create({ nodes, minStake, committeeSize, executorsBps, dissentSlashBps, jailBlocks }) {
    const chain = createMemoryChain({
      treasury: testAccount('memory-treasury').address,
      domain,
      parameters: { minStake, committeeSize, executorsBps, dissentSlashBps, jailBlocks },
    })
    for (const { account, stake, capabilities, blsKey } of nodes) {
      if (blsKey !== false) await registerBlsKey(chain, account)
      chain.stake(account.address, stake)
      if (capabilities !== undefined) chain.advertiseCapabilities(account.address, capabilities)
    }
    return {
      chain,
      settlement: () => chain,
      domain,
      stake: async (node, amount) => chain.stake(nodes[node]!.account.address, amount),
      deposit: async (requester, amount) => chain.deposit(requester.address, amount),
      requestWithdrawal: async (requester, amount) => chain.requestWithdrawal(requester.address, amount),
      async openEpoch(between) {
        const epoch = chain.openEpoch()
        await between?.()
        return epoch
      },
      close: async () => {},
    }
  },
  rejection: (error) => (error instanceof ChainRevertedError ? { code: error.code, details: error.details } : undefined),
})
