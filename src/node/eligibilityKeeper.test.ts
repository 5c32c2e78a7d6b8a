import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes, zeroHash } from 'viem'
import { blsKeyOf, registerBlsKey, testAccount } from '../../test/helpers/fixtures.ts'
import { eventually } from '../../test/helpers/eventually.ts'
import { createMemoryChain } from '../chain/memory/createMemoryChain.ts'
import { devnetDomain } from '../core/eip712.ts'
import { hashEpochBatch } from '../core/epochBatch.ts'
import type { EpochBatch } from '../core/epochBatch.ts'
import { createManualClock } from './clock.ts'
import { createEligibilityKeeper } from './eligibilityKeeper.ts'
import { silentLogger } from './logger.ts'

const STAKE = 1_000n

describe('eligibility keeper', () => {
  it('sends one refresh once its node’s jail is over, and none while it is jailed', async () => {
    const [node, other] = [testAccount('keeper-node'), testAccount('keeper-other')]
    const chain = createMemoryChain({ treasury: testAccount('keeper-treasury').address, parameters: { jailBlocks: 3n, minStake: 1n } })
    for (const account of [node, other]) await registerBlsKey(chain, account)
    chain.stake(node.address, STAKE)
    chain.stake(other.address, STAKE)
    chain.openEpoch()
    // The node signs two batches of one round: proven, slashed 10 % and jailed for 3 blocks.
    const batch = (label: string): EpochBatch => ({ epoch: 0n, round: 0, outcomesRoot: keccak256(stringToBytes(label)), balancesRoot: zeroHash, taskCount: 0, totalFees: 0n, totalRewards: 0n, treasuryAmount: 0n, penalties: [] })
    const [one, two] = [batch('one'), batch('two')]
    const key = await blsKeyOf(node)
    await chain.proveEquivocation(one, key.sign(hashEpochBatch(one, devnetDomain)), two, key.sign(hashEpochBatch(two, devnetDomain)), node.address)

    const clock = createManualClock()
    const keeper = createEligibilityKeeper({ node: node.address, settlement: chain, clock, logger: silentLogger, pollMs: 1_000 })
    keeper.start() // looks at once
    await keeper.stop()
    assert.equal(keeper.refreshes(), 0, 'jailed: nothing to refresh')
    assert.deepEqual(await chain.eligibilityOf(node.address), { eligibleStake: 0n, stale: false })

    for (let i = 0; i < 3; i++) chain.deposit(other.address, 1n) // three blocks: the jail is over
    keeper.start()
    await eventually(() => (keeper.refreshes() === 1 ? true : undefined))
    assert.deepEqual(await chain.eligibilityOf(node.address), { eligibleStake: STAKE - STAKE / 10n, stale: false })
    for (let i = 0; i < 5; i++) clock.advance(1_000)
    await keeper.stop()
    assert.equal(keeper.refreshes(), 1, 'one refresh, not one per look')
    chain.openEpoch()
    assert.equal(chain.snapshot(1n)?.isEligible(node.address), true, 'back in the next snapshot')
  })

  it('registers its node’s BLS key once when the chain holds none, so that it joins the next committee', async () => {
    const node = testAccount('keeper-new')
    const chain = createMemoryChain({ treasury: testAccount('keeper-treasury').address, parameters: { minStake: 1n } })
    chain.stake(node.address, STAKE)
    chain.openEpoch()
    assert.deepEqual(await chain.committee(0n), [], 'staked, but no key: not on the committee')
    const keeper = createEligibilityKeeper({ node: node.address, settlement: chain, bls: blsKeyOf(node), clock: createManualClock(), logger: silentLogger })
    keeper.start()
    await keeper.stop()
    assert.equal(await chain.hasBlsKey(node.address), true)
    chain.openEpoch()
    assert.deepEqual(await chain.committee(1n), [{ node: node.address, weight: STAKE, publicKey: (await blsKeyOf(node)).publicKey }])
    keeper.start() // registered already: nothing to send (a second registration would revert)
    await keeper.stop()
  })

  it('never refreshes its own node out of eligibility', async () => {
    const refreshed: string[] = []
    const keeper = createEligibilityKeeper({
      node: testAccount('keeper-rich').address,
      // Eligible, but stale: a raised minimum stake it is now below. Others may refresh it out.
      settlement: { eligibilityOf: async () => ({ eligibleStake: 5n, stale: true }), refreshEligibility: async (node) => void refreshed.push(node) },
      clock: createManualClock(),
      logger: silentLogger,
    })
    keeper.start()
    await keeper.stop()
    assert.deepEqual(refreshed, [])
  })
})
