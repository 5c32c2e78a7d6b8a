import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { parseEther } from 'viem'
import { createTestChain } from '../../../test/helpers/contractChain.ts'
import type { TestChain } from '../../../test/helpers/contractChain.ts'
import { createChainFollower } from './createChainFollower.ts'

describe('createChainFollower', () => {
  let c: TestChain
  before(async () => {
    c = await createTestChain({ epochLength: 5n, minStake: parseEther('1') })
    const [node] = await c.createAccounts('follower-node', 1)
    await c.stake(node!, parseEther('10'))
    await c.openEpoch(0n)
  })
  after(() => c.stop())

  it('awaitEpoch resolves once the next epoch opens, and false when it does not in time', async () => {
    const follower = createChainFollower({ publicClient: c.publicClient, contracts: c.contracts, pollMs: 20, maxPollMs: 100 })
    await follower.start()
    try {
      assert.equal(follower.epoch(), 0n)
      assert.equal(await follower.awaitEpoch!(0n, 1_000), true, 'an epoch already open resolves at once')
      assert.equal(await follower.awaitEpoch!(1n, 100), false, 'epoch 1 is not open yet')
      const waiting = follower.awaitEpoch!(1n, 10_000)
      await c.openEpoch(1n)
      assert.equal(await waiting, true)
      assert.equal(follower.epoch(), 1n)
      assert.ok(follower.snapshot(1n) !== undefined, 'the snapshot is there once awaitEpoch resolved')
    } finally {
      follower.stop()
    }
  })

  it('serves draw blocks: the head it has seen, a mined block’s hash as the chain has it, and waits for one not mined yet', async () => {
    const follower = createChainFollower({ publicClient: c.publicClient, contracts: c.contracts, pollMs: 20, maxPollMs: 100 })
    await follower.start()
    try {
      const head = follower.head()
      assert.equal(head, await c.publicClient.getBlockNumber({ cacheTime: 0 }))
      const { hash } = await c.publicClient.getBlock({ blockNumber: head })
      assert.equal(await follower.awaitBlock(head, 1_000), hash)
      assert.equal(follower.blockHash(head), hash, 'kept once read')
      assert.equal(follower.blockHash(head + 1n), undefined, 'a block not mined has no hash')
      assert.equal(await follower.awaitBlock(head + 2n, 100), undefined, 'not mined in time')
      const waiting = follower.awaitBlock(head + 2n, 10_000)
      await c.mine(2)
      const drawn = await waiting
      assert.equal(drawn, (await c.publicClient.getBlock({ blockNumber: head + 2n })).hash)
      assert.ok(follower.head() >= head + 2n)
    } finally {
      follower.stop()
    }
  })

  it('reads a draw block’s hash again when a read fails, rather than giving up on the task', async () => {
    let failures = 1
    const flaky = {
      ...c.publicClient,
      getBlock: ((args: Parameters<typeof c.publicClient.getBlock>[0]) =>
        failures-- > 0 ? Promise.reject(new Error('connection reset')) : c.publicClient.getBlock(args)) as typeof c.publicClient.getBlock,
    }
    const follower = createChainFollower({ publicClient: flaky, contracts: c.contracts, pollMs: 20, maxPollMs: 100 })
    await follower.start()
    try {
      const head = follower.head()
      assert.equal(await follower.awaitBlock(head, 5_000), (await c.publicClient.getBlock({ blockNumber: head })).hash)
      assert.equal(failures, -1, 'the first read failed and the second was made')
    } finally {
      follower.stop()
    }
  })
})
