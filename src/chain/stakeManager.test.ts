import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { concat, getAddress, getContract, parseEther, slice, toHex, type Address, type Hex, type LocalAccount } from 'viem'
import { createTestChain, expectRevert, type TestChain } from '../../test/helpers/contractChain.ts'
import { blsKeyOf } from '../../test/helpers/fixtures.ts'
import { aggregateBlsPublicKeys, fromG1Struct, g1Struct, g2Struct } from '../crypto/bls.ts'
import { StakeManagerAbi, StakeManagerBytecode, TestTokenAbi } from './generated/contracts.ts'

const UNBONDING = 20n
const MIN_STAKE = parseEther('100')

describe('StakeManager', () => {
  let c: TestChain
  let alice: LocalAccount
  let bob: LocalAccount
  let settler: LocalAccount // stands in for Settlement in a StakeManager of its own
  let isolated: Address // that StakeManager
  let reset: () => Promise<void>

  /** The StakeManager at `address` (default the deployed one), sending as `account` (default the deployer). */
  const sm = (account?: LocalAccount, address?: Address) =>
    getContract({
      address: address ?? c.contracts.stakeManager,
      abi: StakeManagerAbi,
      client: { public: c.publicClient, wallet: c.wallet(account ?? c.deployer) },
    })
  const balanceOf = (who: Address) =>
    c.publicClient.readContract({ address: c.contracts.token, abi: TestTokenAbi, functionName: 'balanceOf', args: [who] })

  before(async () => {
    c = await createTestChain({ minStake: MIN_STAKE, unbondingBlocks: UNBONDING, epochLength: UNBONDING / 2n })
    ;[alice, bob, settler] = (await c.createAccounts('stake', 3)) as [LocalAccount, LocalAccount, LocalAccount]
    const hash = await c.wallet(c.deployer).deployContract({
      abi: StakeManagerAbi,
      bytecode: StakeManagerBytecode,
      args: [c.contracts.token, c.contracts.parameters],
    })
    isolated = getAddress((await c.send(hash)).contractAddress!)
    await c.send(sm(c.deployer, isolated).write.setSettlement([settler.address]))
    const snapshot = await c.snapshot()
    reset = snapshot.revert
  })
  after(() => c?.stop())
  beforeEach(() => reset())

  it('records active stake with per-block history', async () => {
    await c.stake(alice, parseEther('150'))
    const first = await c.blockNumber()
    await c.stake(bob, parseEther('40')) // below minStake: still recorded
    await c.stake(alice, parseEther('50'))
    const second = await c.blockNumber()
    await c.mine(1)
    assert.equal(await sm().read.stakeOf([alice.address]), parseEther('200'))
    assert.equal(await sm().read.stakeAt([alice.address, first]), parseEther('150'))
    assert.equal(await sm().read.stakeAt([alice.address, first - 1n]), 0n)
    assert.equal(await sm().read.stakeAt([alice.address, second]), parseEther('200'))
    assert.equal(await sm().read.stakeAt([bob.address, second]), parseEther('40'))
    assert.equal(await sm().read.totalStakeAt([first]), parseEther('150'))
    assert.equal(await sm().read.totalStakeAt([second]), parseEther('240'))
    assert.equal(await sm().read.totalStake(), parseEther('240'))
    const now = await c.blockNumber()
    await expectRevert(sm().read.stakeAt([alice.address, now]), 'StakeManagerFutureLookup')
    await expectRevert(sm().read.totalStakeAt([now + 5n]), 'StakeManagerFutureLookup')
  })

  it('unbonds at once but pays out only after unbondingBlocks', async () => {
    await c.stake(alice, parseEther('100'))
    const receipt = await c.send(sm(alice).write.requestUnbond([parseEther('60')]))
    const maturity = receipt.blockNumber + UNBONDING
    assert.equal(await sm().read.stakeOf([alice.address]), parseEther('40'))
    assert.deepEqual(await sm().read.unbondingOf([alice.address]), [parseEther('60'), maturity])
    await c.mine(1)
    assert.equal(await sm().read.totalStakeAt([receipt.blockNumber]), parseEther('40'))

    await expectRevert(sm(alice).write.requestUnbond([parseEther('41')]), 'StakeManagerInsufficientStake')
    const [readyAt] = await expectRevert(sm(alice).write.withdraw(), 'StakeManagerUnbondingNotReady')
    assert.equal(readyAt, maturity)
    // The withdrawal transaction lands in the next block: stop one block short of maturity.
    await c.mine(Number(maturity - (await c.blockNumber()) - 2n))
    await expectRevert(sm(alice).write.withdraw(), 'StakeManagerUnbondingNotReady')
    await c.mine(1)
    const before = await balanceOf(alice.address)
    await c.send(sm(alice).write.withdraw())
    assert.equal((await balanceOf(alice.address)) - before, parseEther('60'))
    assert.deepEqual(await sm().read.unbondingOf([alice.address]), [0n, 0n])
    await expectRevert(sm(alice).write.withdraw(), 'StakeManagerNothingToWithdraw')
  })

  it('restarts the delay for the whole unbonding amount on a new request', async () => {
    await c.stake(alice, parseEther('100'))
    await c.send(sm(alice).write.requestUnbond([parseEther('10')]))
    await c.mine(Number(UNBONDING - 3n))
    const receipt = await c.send(sm(alice).write.requestUnbond([parseEther('10')]))
    assert.deepEqual(await sm().read.unbondingOf([alice.address]), [parseEther('20'), receipt.blockNumber + UNBONDING])
  })

  it('lets only the settlement contract slash and jail, set once by the deployer', async () => {
    await c.stake(alice, parseEther('100'))
    await expectRevert(sm(bob).write.slash([alice.address, 1n, bob.address]), 'StakeManagerUnauthorized')
    await expectRevert(sm(alice).write.jail([alice.address, 10_000n]), 'StakeManagerUnauthorized')
    await expectRevert(sm(c.deployer).write.slash([alice.address, 1n, bob.address]), 'StakeManagerUnauthorized')
    await expectRevert(sm(c.deployer).write.setSettlement([bob.address]), 'StakeManagerSettlementAlreadySet')
    await expectRevert(sm(bob).write.setSettlement([bob.address]), 'StakeManagerUnauthorized')
    assert.equal(await sm().read.settlement(), c.contracts.settlement)
  })

  it('slashes active stake first, then unbonding stake, capped at what exists', async () => {
    const stake = (node: LocalAccount, amount: bigint) =>
      c.send(c.wallet(node).writeContract({ address: c.contracts.token, abi: TestTokenAbi, functionName: 'approve', args: [isolated, amount] }))
        .then(() => c.send(sm(node, isolated).write.stake([amount])))
    await c.mint(alice.address, parseEther('100'))
    await stake(alice, parseEther('100'))
    await c.send(sm(alice, isolated).write.requestUnbond([parseEther('70')]))
    const treasury = bob.address
    const before = await balanceOf(treasury)

    // 30 active + 20 of the 70 unbonding.
    const slashed = await c.publicClient.simulateContract({
      address: isolated,
      abi: StakeManagerAbi,
      functionName: 'slash',
      args: [alice.address, parseEther('50'), treasury],
      account: settler,
    })
    assert.equal(slashed.result, parseEther('50'))
    await c.send(sm(settler, isolated).write.slash([alice.address, parseEther('50'), treasury]))
    assert.equal(await sm(undefined, isolated).read.stakeOf([alice.address]), 0n)
    assert.equal((await sm(undefined, isolated).read.unbondingOf([alice.address]))[0], parseEther('50'))
    assert.equal(await sm(undefined, isolated).read.totalStake(), 0n)

    // Asking for more than is left takes what is left.
    await c.send(sm(settler, isolated).write.slash([alice.address, parseEther('1000'), treasury]))
    assert.equal((await sm(undefined, isolated).read.unbondingOf([alice.address]))[0], 0n)
    assert.equal((await balanceOf(treasury)) - before, parseEther('100'))

    // Nothing is left to withdraw once the unbonding matures.
    await c.mine(Number(UNBONDING))
    await expectRevert(sm(alice, isolated).write.withdraw(), 'StakeManagerNothingToWithdraw')
  })

  it('jails until a block and never shortens a jail', async () => {
    const now = await c.blockNumber()
    await c.send(sm(settler, isolated).write.jail([alice.address, now + 10n]))
    assert.equal(await sm(undefined, isolated).read.jailedUntil([alice.address]), now + 10n)
    assert.equal(await sm(undefined, isolated).read.isJailed([alice.address]), true)
    await c.send(sm(settler, isolated).write.jail([alice.address, now + 5n]))
    assert.equal(await sm(undefined, isolated).read.jailedUntil([alice.address]), now + 10n)
    await c.mine(10)
    assert.equal(await sm(undefined, isolated).read.isJailed([alice.address]), false)
  })

  it('checkpoints eligible stake: none while jailed or below the minimum, back by a refresh once free', async () => {
    const manager = sm(undefined, isolated)
    const stake = (node: LocalAccount, amount: bigint) =>
      c.send(c.wallet(node).writeContract({ address: c.contracts.token, abi: TestTokenAbi, functionName: 'approve', args: [isolated, amount] }))
        .then(() => c.send(sm(node, isolated).write.stake([amount])))
    await c.mint(alice.address, parseEther('300'))
    await c.mint(bob.address, parseEther('300'))
    await stake(alice, parseEther('150'))
    await stake(bob, parseEther('60')) // below the minimum: staked, not eligible
    const staked = await c.blockNumber()
    assert.equal(await manager.read.eligibleStakeOf([bob.address]), 0n)
    assert.equal(await manager.read.totalEligibleStake(), parseEther('150'))
    await stake(bob, parseEther('40')) // at the minimum now
    assert.equal(await manager.read.totalEligibleStake(), parseEther('250'))

    // A jail takes the whole stake out at once; a slash while jailed changes nothing eligible.
    const now = await c.blockNumber()
    await c.send(sm(settler, isolated).write.jail([alice.address, now + 5n]))
    const jailed = await c.blockNumber()
    await c.send(sm(settler, isolated).write.slash([alice.address, parseEther('10'), settler.address]))
    assert.equal(await manager.read.eligibleStakeOf([alice.address]), 0n)
    assert.equal(await manager.read.totalEligibleStake(), parseEther('100'))
    assert.equal(await manager.read.isEligibilityStale([alice.address]), false)

    // Unbonding below the minimum leaves; the jail running out needs a refresh, from anyone.
    await c.send(sm(bob, isolated).write.requestUnbond([parseEther('1')]))
    assert.equal(await manager.read.totalEligibleStake(), 0n)
    await c.mine(5)
    assert.equal(await manager.read.isEligibilityStale([alice.address]), true)
    assert.equal(await manager.read.isEligibilityStale([bob.address]), false)
    await c.send(sm(bob, isolated).write.refreshEligibility([alice.address]))
    assert.equal(await manager.read.eligibleStakeOf([alice.address]), parseEther('140'))
    assert.equal(await manager.read.isEligibilityStale([alice.address]), false)

    // The history, per block, as Settlement reads it at a snapshot.
    await c.mine(1)
    assert.equal(await manager.read.eligibleStakeAt([alice.address, staked]), parseEther('150'))
    assert.equal(await manager.read.eligibleStakeAt([alice.address, jailed]), 0n)
    assert.equal(await manager.read.totalEligibleStakeAt([staked]), parseEther('150'))
    assert.equal(await manager.read.totalEligibleStakeAt([jailed]), parseEther('100'))
    assert.equal(await manager.read.totalEligibleStake(), parseEther('140'))
    await expectRevert(manager.read.eligibleStakeAt([alice.address, (await c.blockNumber()) + 1n]), 'StakeManagerFutureLookup')
  })

  it('rejects zero amounts', async () => {
    await expectRevert(sm(alice).write.stake([0n]), 'StakeManagerZeroAmount')
    await expectRevert(sm(alice).write.requestUnbond([0n]), 'StakeManagerZeroAmount')
  })

  describe('BLS keys and the aggregate key of the signing set', () => {
    const INFINITY: Hex = `0x${'00'.repeat(128)}`
    const manager = () => sm(undefined, isolated)
    const register = (node: LocalAccount, publicKey: Hex, proof: Hex) => sm(node, isolated).write.registerBlsKey([g1Struct(publicKey), g2Struct(proof)])
    const registerOwn = async (node: LocalAccount) => {
      const key = await blsKeyOf(node)
      return c.send(register(node, key.publicKey, key.proofOfPossession(node.address)))
    }
    const stakeIsolated = async (node: LocalAccount, amount: bigint) => {
      await c.mint(node.address, amount)
      await c.send(c.wallet(node).writeContract({ address: c.contracts.token, abi: TestTokenAbi, functionName: 'approve', args: [isolated, amount] }))
      await c.send(sm(node, isolated).write.stake([amount]))
    }
    const aggregateNow = async () => fromG1Struct(await manager().read.aggregateKey())
    const keysOf = async (nodes: readonly LocalAccount[]) => (nodes.length === 0 ? INFINITY : aggregateBlsPublicKeys(await Promise.all(nodes.map(async (n) => (await blsKeyOf(n)).publicKey))))

    it('registers a key once, with a proof of possession bound to the node; refuses bad ones and changes nothing', async () => {
      const [a, b] = [await blsKeyOf(alice), await blsKeyOf(bob)]
      const unchanged = async () => {
        assert.equal(await manager().read.blsKeyRegisteredAt([alice.address]), 0n)
        assert.equal(fromG1Struct(await manager().read.blsKeyOf([alice.address])), INFINITY)
      }
      // Another node's proof, a proof of another key, a proof over the wrong message: no possession shown.
      await expectRevert(register(alice, a.publicKey, a.proofOfPossession(bob.address)), 'StakeManagerInvalidProofOfPossession')
      await expectRevert(register(alice, b.publicKey, b.proofOfPossession(bob.address)), 'StakeManagerInvalidProofOfPossession')
      await expectRevert(register(alice, a.publicKey, b.proofOfPossession(alice.address)), 'StakeManagerInvalidProofOfPossession')
      // Malformed keys: the point at infinity, a non-zero padding byte, a coordinate ≥ p, a point off the curve.
      await expectRevert(register(alice, INFINITY, a.proofOfPossession(alice.address)), 'StakeManagerInvalidBlsKey')
      await expectRevert(register(alice, concat(['0x01', slice(a.publicKey, 1)]), a.proofOfPossession(alice.address)), 'StakeManagerInvalidBlsKey')
      const p = '0x000000000000000000000000000000001a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab'
      await expectRevert(register(alice, concat([p, slice(a.publicKey, 64)]), a.proofOfPossession(alice.address)), 'StakeManagerInvalidBlsKey')
      const offCurve = concat([slice(a.publicKey, 0, 127), toHex(Number(BigInt(slice(a.publicKey, 127)) ^ 1n), { size: 1 })])
      await expectRevert(register(alice, offCurve, a.proofOfPossession(alice.address)), 'StakeManagerInvalidProofOfPossession')
      // A proof that is not a G2 point.
      const pop = a.proofOfPossession(alice.address)
      await expectRevert(register(alice, a.publicKey, concat([slice(pop, 0, 255), toHex(Number(BigInt(slice(pop, 255)) ^ 1n), { size: 1 })])), 'StakeManagerInvalidProofOfPossession')
      await unchanged()

      const receipt = await registerOwn(alice)
      assert.equal(await manager().read.blsKeyRegisteredAt([alice.address]), receipt.blockNumber)
      assert.equal(fromG1Struct(await manager().read.blsKeyOf([alice.address])), a.publicKey)
      await expectRevert(register(alice, a.publicKey, a.proofOfPossession(alice.address)), 'StakeManagerBlsKeyAlreadyRegistered')
      // The holder of alice's key cannot put it under a second account either: one key, one node.
      const [owner] = await expectRevert(register(bob, a.publicKey, a.proofOfPossession(bob.address)), 'StakeManagerBlsKeyTaken')
      assert.equal(owner, alice.address)
      assert.equal(await manager().read.blsKeyRegisteredAt([bob.address]), 0n)
    })

    it('adds a key when its node can sign and subtracts it when it cannot, recording the set per block', async () => {
      const carol = settler // any third account with gas
      assert.equal(await aggregateNow(), INFINITY)
      await stakeIsolated(alice, parseEther('150'))
      assert.equal(await aggregateNow(), INFINITY, 'staked, no key: not in the signing set')
      assert.equal(await manager().read.totalSigningStake(), 0n)
      await registerOwn(alice)
      const one = await c.blockNumber()
      assert.equal(await aggregateNow(), await keysOf([alice]), 'registration adds an eligible node at once')
      await registerOwn(bob)
      assert.equal(await aggregateNow(), await keysOf([alice]), 'a key without eligible stake is not added')
      await stakeIsolated(bob, parseEther('60')) // below the minimum
      assert.equal(await aggregateNow(), await keysOf([alice]))
      await stakeIsolated(bob, parseEther('40'))
      const two = await c.blockNumber()
      assert.equal(await aggregateNow(), await keysOf([alice, bob]))
      await stakeIsolated(alice, parseEther('50')) // a top-up changes the stake, not the set
      assert.equal(await aggregateNow(), await keysOf([alice, bob]))
      assert.equal(await manager().read.totalSigningStake(), parseEther('300'))

      // A jail subtracts the key; unbonding below the minimum too; a refresh after the jail adds it back.
      const now = await c.blockNumber()
      await c.send(sm(carol, isolated).write.jail([alice.address, now + 4n]))
      const jailed = await c.blockNumber()
      assert.equal(await aggregateNow(), await keysOf([bob]))
      await c.send(sm(bob, isolated).write.requestUnbond([parseEther('1')]))
      assert.equal(await aggregateNow(), INFINITY)
      assert.equal(await manager().read.totalSigningStake(), 0n)
      await c.mine(4)
      await c.send(sm(bob, isolated).write.refreshEligibility([alice.address]))
      assert.equal(await aggregateNow(), await keysOf([alice]))
      assert.equal(await manager().read.totalSigningStake(), parseEther('200'))

      // The history: each past block's set, with its total and key version, as Settlement pins it.
      await c.mine(1)
      assert.equal(fromG1Struct(await manager().read.aggregateKeyAt([one - 1n])), INFINITY)
      assert.equal(fromG1Struct(await manager().read.aggregateKeyAt([one])), await keysOf([alice]))
      assert.equal(fromG1Struct(await manager().read.aggregateKeyAt([two])), await keysOf([alice, bob]))
      assert.equal(fromG1Struct(await manager().read.aggregateKeyAt([jailed])), await keysOf([bob]))
      assert.equal(await manager().read.totalSigningStakeAt([two]), parseEther('250'))
      assert.equal(await manager().read.signingStakeAt([alice.address, one - 1n]), 0n, 'before its key: no signing stake')
      assert.equal(await manager().read.signingStakeAt([alice.address, one]), parseEther('150'))
      assert.equal(await manager().read.signingStakeAt([alice.address, jailed]), 0n)
      const [total, version] = await manager().read.signingSetAt([two])
      assert.equal(total, parseEther('250'))
      assert.equal(fromG1Struct(await manager().read.aggregateKeyOfVersion([version])), await keysOf([alice, bob]))
      await expectRevert(manager().read.aggregateKeyAt([(await c.blockNumber()) + 1n]), 'StakeManagerFutureLookup')
    })
  })
})
