import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { parseEther } from 'viem'
import { SettlementAbi } from '../generated/contracts.ts'
import { createTestChain } from '../../../test/helpers/contractChain.ts'
import type { TestChain } from '../../../test/helpers/contractChain.ts'
import { createChainFollower } from './createChainFollower.ts'
import { createSettlementPort } from './createSettlementPort.ts'

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

  it('reads nothing but the block number between an epoch’s opening and the next one’s first block', async () => {
    let reads = 0
    const counting = {
      ...c.publicClient,
      readContract: ((args: Parameters<typeof c.publicClient.readContract>[0]) => {
        reads++
        return c.publicClient.readContract(args)
      }) as typeof c.publicClient.readContract,
    }
    const follower = createChainFollower({ publicClient: counting, contracts: c.contracts, pollMs: 20, maxPollMs: 100 })
    await follower.start()
    try {
      // Open epochs until the one after the newest starts at least 3 blocks ahead of the head.
      const epochStart = (epoch: bigint) => c.publicClient.readContract({ address: c.contracts.settlement, abi: SettlementAbi, functionName: 'epochStart', args: [epoch] })
      let opened = follower.epoch()
      let start: bigint
      do {
        await c.openEpoch(++opened)
        start = await epochStart(opened + 1n)
      } while (start - (await c.publicClient.getBlockNumber({ cacheTime: 0 })) < 3n)
      assert.equal(await follower.awaitEpoch(opened, 10_000), true)
      const mineOne = async () => {
        const next = (await c.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n
        await c.mine(1)
        while (follower.head() < next) await follower.awaitBlock(next, 5_000)
      }
      // The poll that found the opening read the next start; polls are sequential, so once a later
      // block is seen that poll is over.
      await mineOne()
      const before = reads
      while (follower.head() + 1n < start) await mineOne()
      assert.equal(reads, before, 'no contract read while the next epoch cannot open')
      // From its first block on, the follower looks for it again.
      await c.mine(1)
      const readsAtStart = reads
      for (let i = 0; i < 100 && reads === readsAtStart; i++) await new Promise((resolve) => setTimeout(resolve, 20))
      assert.ok(reads > readsAtStart, 'the epoch’s first block brings reads back')
    } finally {
      follower.stop()
    }
  })

  it('spares the settlement port’s reads: an epoch not settled is read once per block the follower has seen', async () => {
    const asked: string[] = []
    const counting = {
      ...c.publicClient,
      readContract: ((args: Parameters<typeof c.publicClient.readContract>[0]) => {
        asked.push(args.functionName)
        return c.publicClient.readContract(args)
      }) as typeof c.publicClient.readContract,
    }
    const follower = createChainFollower({ publicClient: c.publicClient, contracts: c.contracts, pollMs: 20, maxPollMs: 100 })
    await follower.start()
    try {
      const [account] = await c.createAccounts('settlement-port', 1)
      const port = createSettlementPort({ publicClient: counting, contracts: c.contracts, wallet: c.wallet(account!), head: () => follower.head() })
      const reads = () => asked.filter((name) => name === 'settledBatchDigestOf').length
      const epoch = follower.epoch()
      assert.equal(await port.settledDigest(epoch), null)
      assert.equal(await port.settledDigest(epoch), null)
      assert.equal(reads(), 1, 'one read at one head')
      const head = follower.head()
      await c.mine(1)
      while (follower.head() <= head) await follower.awaitBlock(head + 1n, 5_000)
      assert.equal(await port.settledDigest(epoch), null)
      assert.equal(reads(), 2, 'read again once a block came')
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
