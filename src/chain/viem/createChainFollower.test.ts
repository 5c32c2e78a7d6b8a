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
})
