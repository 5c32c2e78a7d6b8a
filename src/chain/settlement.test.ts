import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import {
  concat,
  encodeAbiParameters,
  getContract,
  keccak256,
  parseEther,
  parseEventLogs,
  toHex,
  zeroHash,
  type Address,
  type Hex,
  type LocalAccount,
} from 'viem'
import {
  createTestChain,
  expectRevert,
  hashPenalties,
  sortByAddress,
  type EpochBatch,
  type TestChain,
  type TestDeployment,
} from '../../test/helpers/contractChain.ts'
import { createMerkleTree, type MerkleTree } from '../core/merkleTree.ts'
import { aggregateBlsSignatures, blsSignatureToEip2537, g2Struct } from '../crypto/bls.ts'
import { SettlementAbi, StakeManagerAbi, TestTokenAbi } from './generated/contracts.ts'

const MIN_STAKE = parseEther('100')
const EPOCH_LENGTH = 10n
const JAIL_BLOCKS = 50n
const SLASH_BPS = 1_000
const OUTCOME_TYPES = ['bytes32', 'bytes32', 'uint8', 'address[]']

type Outcome = [taskId: Hex, resultHash: Hex, status: number, executors: Address[]]

/** A compressed BLS signature as Settlement takes it. */
const g2 = (signature: Hex) => g2Struct(blsSignatureToEip2537(signature))

describe('Settlement', () => {
  let c: TestChain
  let members: LocalAccount[] // 6 × 100, sorted by address
  let poor: LocalAccount[] // 60 and 90: below minStake, so neither members nor part of the eligible stake
  let outsider: LocalAccount // no stake at all
  let reset: () => Promise<void>

  const settlement = (account?: LocalAccount, address?: Address) =>
    getContract({
      address: address ?? c.contracts.settlement,
      abi: SettlementAbi,
      client: { public: c.publicClient, wallet: c.wallet(account ?? c.deployer) },
    })
  const stakeManager = () => getContract({ address: c.contracts.stakeManager, abi: StakeManagerAbi, client: c.publicClient })
  const balanceOf = (who: Address) =>
    c.publicClient.readContract({ address: c.contracts.token, abi: TestTokenAbi, functionName: 'balanceOf', args: [who] })

  const outcomes: Outcome[] = [
    [keccak256(toHex('task-1')), keccak256(toHex('result-1')), 0, []],
    [keccak256(toHex('task-2')), keccak256(toHex('result-2')), 1, []],
    [keccak256(toHex('task-3')), zeroHash, 2, []],
  ]
  let outcomeTree: MerkleTree<Outcome>

  const batchOf = (epoch: bigint, overrides: Partial<EpochBatch> = {}): EpochBatch => ({
    epoch,
    round: 0,
    outcomesRoot: outcomeTree.root as Hex,
    balancesRoot: keccak256(toHex(`balances-${epoch}`)),
    taskCount: outcomes.length,
    totalFees: parseEther('3'),
    totalRewards: parseEther('2.7'),
    treasuryAmount: parseEther('0.3'),
    penalties: [],
    ...overrides,
  })

  before(async () => {
    c = await createTestChain({
      minStake: MIN_STAKE,
      epochLength: EPOCH_LENGTH,
      committeeSize: 128,
      equivocationSlashBps: SLASH_BPS,
      jailBlocks: JAIL_BLOCKS,
      unbondingBlocks: 100n,
    })
    members = sortByAddress(await c.createAccounts('member', 6))
    poor = await c.createAccounts('poor', 2)
    ;[outsider] = (await c.createAccounts('outsider', 1)) as [LocalAccount]
    for (const node of members) await c.stake(node, parseEther('100'))
    await c.stake(poor[0]!, parseEther('60'))
    await c.stake(poor[1]!, parseEther('90'))
    const executors = members.slice(0, 3).map((m) => m.address)
    for (const outcome of outcomes) outcome[3] = executors
    outcomeTree = createMerkleTree(outcomes, OUTCOME_TYPES)
    reset = (await c.snapshot()).revert
  })
  after(() => c?.stop())
  beforeEach(() => reset())

  it('opens epochs at their start block with a seed and a stake snapshot', async () => {
    const genesis = await settlement().read.genesisBlock()
    assert.equal(await settlement().read.epochStart([3n]), genesis + 3n * EPOCH_LENGTH)
    await c.openEpoch(0n)
    const snapshot = await settlement().read.snapshotBlockOf([0n])
    assert.equal(snapshot, (await c.blockNumber()) - 1n)
    assert.notEqual(await settlement().read.seedOf([0n]), zeroHash)
    await expectRevert(settlement().write.openEpoch([0n]), 'SettlementEpochAlreadyOpened')
    const [epoch, start] = await expectRevert(settlement().write.openEpoch([5n]), 'SettlementEpochNotStarted')
    assert.deepEqual([epoch, start], [5n, genesis + 5n * EPOCH_LENGTH])
    assert.equal(await settlement().read.isEpochOpened([5n]), false)
  })

  it('weighs committee members by stake and excludes the ineligible', async () => {
    await c.openEpoch(0n)
    // C·s = 12,800 ≥ S = 600 (the poor's 150 is not eligible): every node at or above minStake is a
    // member with weight = stake, and a batch needs 2/3 of the 600.
    for (const node of members) assert.equal(await settlement().read.committeeWeight([0n, node.address]), parseEther('100'))
    for (const node of [...poor, outsider]) assert.equal(await settlement().read.committeeWeight([0n, node.address]), 0n)
    assert.equal(await settlement().read.committeeWeight([1n, members[0]!.address]), 0n) // epoch not opened
    assert.equal(await settlement().read.requiredWeight([0n]), parseEther('400'))
    assert.equal(await stakeManager().read.totalStake(), parseEther('750'))
    assert.equal(await stakeManager().read.totalEligibleStake(), parseEther('600'))
  })

  it('takes the whole signing set as the committee: a node with stake but no BLS key is not a member', async () => {
    const [keyless] = await c.createAccounts('keyless', 1)
    await c.mint(keyless!.address, parseEther('500'))
    await c.send(c.wallet(keyless!).writeContract({ address: c.contracts.token, abi: TestTokenAbi, functionName: 'approve', args: [c.contracts.stakeManager, parseEther('500')] }))
    await c.send(c.wallet(keyless!).writeContract({ address: c.contracts.stakeManager, abi: StakeManagerAbi, functionName: 'stake', args: [parseEther('500')] }))
    await c.openEpoch(0n)
    assert.equal(await stakeManager().read.totalEligibleStake(), parseEther('1100'))
    assert.equal(await settlement().read.committeeWeight([0n, keyless!.address]), 0n)
    assert.equal(await settlement().read.requiredWeight([0n]), parseEther('400'), '⌈2/3 · 600⌉: the keyless stake cannot sign, so it is not waited for')
    // A large committee size changes nothing: one aggregate key covers the whole set.
    assert.equal(await settlement().read.committeeSizeOf([0n]), 128)
  })

  it('rejects a batch below 2/3 of the stake and accepts one exactly at it', async () => {
    await c.openEpoch(0n)
    const batch = batchOf(0n)
    const [signed, required] = await expectRevert(
      c.submitBatch(batch, await c.signBatchBy(members.slice(0, 3), batch)),
      'SettlementInsufficientSignatures',
    )
    assert.deepEqual([signed, required], [parseEther('300'), parseEther('400')])
    await expectRevert(c.submitBatch(batch, await c.signBatchBy([], batch)), 'SettlementInsufficientSignatures')

    const receipt = await c.submitBatch(batch, await c.signBatchBy(members.slice(0, 4), batch), outsider)
    assert.equal(await settlement().read.outcomesRootOf([0n]), batch.outcomesRoot)
    assert.equal(await settlement().read.balancesRoot(), batch.balancesRoot)
    assert.equal(await settlement().read.lastSettledEpoch(), 0n)
    assert.equal(await settlement().read.settledEpochCount(), 1n)
    assert.equal(await settlement().read.settledBatchDigestOf([0n]), await settlement().read.batchDigest([batch]))
    const [event] = parseEventLogs({ abi: SettlementAbi, logs: receipt.logs, eventName: 'BatchSettled' })
    assert.deepEqual(event?.args, {
      epoch: 0n,
      outcomesRoot: batch.outcomesRoot,
      balancesRoot: batch.balancesRoot,
      taskCount: batch.taskCount,
      totalFees: batch.totalFees,
      signedStake: parseEther('400'),
      nonSignerCount: 2n,
    })
  })

  it('settles epochs in order, once each', async () => {
    await expectRevert(settlement().read.lastSettledEpoch(), 'SettlementNoEpochSettled')
    const first = batchOf(0n)
    await expectRevert(c.submitBatch(first, await c.signBatchBy(members, first)), 'SettlementEpochNotOpened')
    await c.openEpoch(0n)
    await c.submitBatch(first, await c.signBatchBy(members, first))
    // Replaying the settled batch.
    const [expected, got] = await expectRevert(c.submitBatch(first, await c.signBatchBy(members, first)), 'SettlementWrongEpoch')
    assert.deepEqual([expected, got], [1n, 0n])
    await c.openEpoch(1n)
    await c.openEpoch(2n)
    const skipping = batchOf(2n)
    await expectRevert(c.submitBatch(skipping, await c.signBatchBy(members, skipping)), 'SettlementWrongEpoch')
    const second = batchOf(1n)
    await c.submitBatch(second, await c.signBatchBy(members, second))
    assert.equal(await settlement().read.lastSettledEpoch(), 1n)
    assert.equal(await settlement().read.balancesRoot(), second.balancesRoot)
    assert.equal(await settlement().read.outcomesRootOf([0n]), first.outcomesRoot)
  })

  it('rejects batches whose rewards and treasury share do not add up to the fees', async () => {
    await c.openEpoch(0n)
    for (const overrides of [
      { totalRewards: parseEther('2.8') },
      { treasuryAmount: 0n },
      { totalFees: parseEther('1'), totalRewards: parseEther('2'), treasuryAmount: 0n },
    ]) {
      const batch = batchOf(0n, overrides)
      await expectRevert(c.submitBatch(batch, await c.signBatchBy(members, batch)), 'SettlementUnbalanced')
    }
  })

  it('requires non-signers in strictly increasing address order, each once, and changes nothing otherwise', async () => {
    await c.openEpoch(0n)
    const batch = batchOf(0n)
    const signed = await c.signBatchBy(members.slice(0, 4), batch)
    assert.deepEqual(signed.nonSigners, members.slice(4).map((m) => m.address))
    await expectRevert(c.submitBatch(batch, { ...signed, nonSigners: [...signed.nonSigners].reverse() }), 'SettlementNonSignersNotSorted')
    const twice = [signed.nonSigners[0]!, ...signed.nonSigners]
    await expectRevert(c.submitBatch(batch, { ...signed, nonSigners: twice }), 'SettlementNonSignersNotSorted')
    assert.equal(await settlement().read.settledEpochCount(), 0n)
    await c.submitBatch(batch, signed)
    assert.equal(await settlement().read.settledEpochCount(), 1n)
  })

  it('rejects non-signers outside the committee and aggregates that are not the signers’ own', async () => {
    await c.openEpoch(0n)
    const batch = batchOf(0n)
    const signed = await c.signBatchBy(members.slice(0, 5), batch)
    for (const stranger of [outsider, poor[1]!]) {
      const nonSigners = sortByAddress([...signed.nonSigners.map((address) => ({ address })), stranger]).map((n) => n.address)
      const [who] = await expectRevert(c.submitBatch(batch, { ...signed, nonSigners }), 'SettlementNotCommitteeMember')
      assert.equal(who, stranger.address)
    }
    // The sixth member counted as a signer without its signature.
    await expectRevert(c.submitBatch(batch, { ...signed, nonSigners: [] }), 'SettlementInvalidSignature')
    // A stranger's signature standing in for the sixth member's.
    const withStranger = aggregateBlsSignatures([signed.signature, await c.signBatch(outsider, batch)])
    await expectRevert(c.submitBatch(batch, { signature: withStranger, nonSigners: [] }), 'SettlementInvalidSignature')
    // Signatures of another batch.
    await expectRevert(c.submitBatch(batch, await c.signBatchBy(members.slice(0, 5), batchOf(0n, { taskCount: 4 }))), 'SettlementInvalidSignature')
    // A signature that is not a G2 point (off the curve), or not canonically encoded.
    const point = g2(signed.signature)
    const call = (signature: typeof point) =>
      c.send(c.wallet(c.deployer).writeContract({ address: c.contracts.settlement, abi: SettlementAbi, functionName: 'submitBatch', args: [batch, signature, [...signed.nonSigners]] }))
    await expectRevert(call({ ...point, y1Lo: toHex(BigInt(point.y1Lo) ^ 1n, { size: 32 }) }), 'SettlementInvalidSignature')
    await expectRevert(call({ ...point, x0Hi: toHex(BigInt(point.x0Hi) | (1n << 200n), { size: 32 }) }), 'SettlementInvalidSignature')
    assert.equal(await settlement().read.settledEpochCount(), 0n)
  })

  it('applies penalties: slashes active then unbonding stake to the treasury and jails', async () => {
    const [target, unbonder] = [members[0]!, members[1]!]
    await c.send(
      c.wallet(unbonder).writeContract({ address: c.contracts.stakeManager, abi: StakeManagerAbi, functionName: 'requestUnbond', args: [parseEther('100')] }),
    )
    await c.openEpoch(0n)
    const jailUntil = (await c.blockNumber()) + 100n
    const penalties = [
      { node: target.address, slashAmount: parseEther('30'), jailUntilBlock: jailUntil },
      { node: unbonder.address, slashAmount: parseEther('25'), jailUntilBlock: 0n },
    ]
    const batch = batchOf(0n, { penalties })
    assert.equal(await settlement().read.penaltiesHash([penalties]), hashPenalties(penalties))
    const treasury = await settlement().read.treasury()
    const before = await balanceOf(treasury)
    // The unbonder is not in the snapshot any more: the other five sign (500 of 650).
    const receipt = await c.submitBatch(batch, await c.signBatchBy(members.filter((m) => m !== unbonder), batch))
    assert.equal((await balanceOf(treasury)) - before, parseEther('55'))
    assert.equal(await stakeManager().read.stakeOf([target.address]), parseEther('70'))
    assert.equal((await stakeManager().read.unbondingOf([unbonder.address]))[0], parseEther('75'))
    assert.equal(await stakeManager().read.jailedUntil([target.address]), jailUntil)
    const applied = parseEventLogs({ abi: SettlementAbi, logs: receipt.logs, eventName: 'PenaltyApplied' })
    assert.deepEqual(
      applied.map((e) => [e.args.node, e.args.slashed]),
      [
        [target.address, parseEther('30')],
        [unbonder.address, parseEther('25')],
      ],
    )
    // Jailed past the next snapshot: no longer a committee member.
    await c.openEpoch(1n)
    assert.equal(await settlement().read.committeeWeight([1n, target.address]), 0n)
    assert.equal(await settlement().read.committeeWeight([1n, members[2]!.address]), parseEther('100'))
  })

  it('slashes and jails a member that signed two different batches for one round of an epoch, once', async () => {
    await c.openEpoch(0n)
    const [cheater] = members
    const a = batchOf(0n)
    const b = batchOf(0n, { outcomesRoot: keccak256(toHex('another root')) })
    const [sigA, sigB] = [await c.signBatch(cheater!, a), await c.signBatch(cheater!, b)]
    const treasury = await settlement().read.treasury()
    const before = await balanceOf(treasury)

    const prove = (x: EpochBatch, sigX: Hex, y: EpochBatch, sigY: Hex, signer: Address = cheater!.address) =>
      settlement(outsider).write.proveEquivocation([x, g2(sigX), y, g2(sigY), signer])
    await expectRevert(prove(a, sigA, a, sigA), 'SettlementNotEquivocation')
    // Signing another batch in a later round is what rounds are for: not an equivocation.
    const later = batchOf(0n, { round: 1, outcomesRoot: keccak256(toHex('another root')) })
    await expectRevert(prove(a, sigA, later, await c.signBatch(cheater!, later)), 'SettlementNotEquivocation')
    await expectRevert(prove(a, sigA, b, await c.signBatch(members[1]!, b)), 'SettlementNotEquivocation')
    await expectRevert(prove(a, sigA, b, sigB, members[1]!.address), 'SettlementNotEquivocation')
    const otherEpoch = batchOf(1n)
    await expectRevert(prove(a, sigA, otherEpoch, await c.signBatch(cheater!, otherEpoch)), 'SettlementNotEquivocation')
    await expectRevert(prove(a, await c.signBatch(outsider, a), b, await c.signBatch(outsider, b), outsider.address), 'SettlementNotCommitteeMember')

    const receipt = await c.send(prove(a, sigA, b, sigB))
    const [event] = parseEventLogs({ abi: SettlementAbi, logs: receipt.logs, eventName: 'EquivocationProven' })
    assert.deepEqual(event?.args, { epoch: 0n, signer: cheater!.address, slashed: parseEther('10') })
    assert.equal((await balanceOf(treasury)) - before, parseEther('10'))
    assert.equal(await stakeManager().read.stakeOf([cheater!.address]), parseEther('90'))
    assert.equal(await stakeManager().read.jailedUntil([cheater!.address]), receipt.blockNumber + JAIL_BLOCKS)
    assert.equal(await stakeManager().read.isJailed([cheater!.address]), true)
    assert.equal(await settlement().read.isEquivocationPunished([0n, cheater!.address]), true)
    // The epoch's committee was fixed at its snapshot: the proof changes the next epoch's, not this one's
    // (else a member could void a batch it signed by proving its own equivocation).
    assert.equal(await settlement().read.committeeWeight([0n, cheater!.address]), await settlement().read.committeeWeight([0n, members[1]!.address]))
    await expectRevert(prove(b, sigB, a, sigA), 'SettlementAlreadyPunished')
  })

  it('slashes an equivocator through its unbonding stake', async () => {
    await c.openEpoch(0n)
    const cheater = members[2]!
    await c.send(
      c.wallet(cheater).writeContract({ address: c.contracts.stakeManager, abi: StakeManagerAbi, functionName: 'requestUnbond', args: [parseEther('100')] }),
    )
    const a = batchOf(0n)
    const b = batchOf(0n, { penalties: [{ node: members[3]!.address, slashAmount: 1n, jailUntilBlock: 0n }] })
    await c.send(settlement(outsider).write.proveEquivocation([a, g2(await c.signBatch(cheater, a)), b, g2(await c.signBatch(cheater, b)), cheater.address]))
    assert.equal((await stakeManager().read.unbondingOf([cheater.address]))[0], parseEther('90'))
  })

  it('verifies receipts against the settled outcomes root', async () => {
    await c.openEpoch(0n)
    const batch = batchOf(0n)
    const [taskId, resultHash, status, executors] = outcomes[1]!
    const proof = outcomeTree.getProof(1) as Hex[]
    assert.equal(await settlement().read.verifyReceipt([0n, taskId, resultHash, status, executors, proof]), false) // not settled
    await c.submitBatch(batch, await c.signBatchBy(members, batch))

    const viemLeaf = keccak256(
      concat([
        keccak256(
          encodeAbiParameters([{ type: 'bytes32' }, { type: 'bytes32' }, { type: 'uint8' }, { type: 'address[]' }], [taskId, resultHash, status, executors]),
        ),
      ]),
    )
    assert.equal(outcomeTree.leafHash(outcomes[1]!), viemLeaf)
    assert.equal(await settlement().read.outcomeLeaf([taskId, resultHash, status, executors]), viemLeaf)
    for (const [i, outcome] of outcomeTree.entries()) {
      assert.equal(await settlement().read.verifyReceipt([0n, ...outcome, outcomeTree.getProof(i) as Hex[]]), true)
    }
    assert.equal(await settlement().read.verifyReceipt([0n, taskId, resultHash, 0, executors, proof]), false)
    assert.equal(await settlement().read.verifyReceipt([0n, taskId, keccak256(toHex('forged')), status, executors, proof]), false)
    assert.equal(await settlement().read.verifyReceipt([0n, taskId, resultHash, status, executors.slice(1), proof]), false)
    assert.equal(await settlement().read.verifyReceipt([1n, taskId, resultHash, status, executors, proof]), false)
  })

  it('costs the same gas whatever the committee size, and O(1) per non-signer', async (t) => {
    const measure = async (label: string, memberCount: number, nonSignerCount: number, penaltyCount: number): Promise<bigint> => {
      const deployment: TestDeployment = await c.deployMore({ minStake: MIN_STAKE, committeeSize: 128, epochLength: EPOCH_LENGTH })
      const nodes = sortByAddress(await c.createAccounts(`gas-${label}`, memberCount))
      for (const node of nodes) await deployment.stake(node, parseEther('200')) // stays above minStake after slashes
      const penalties = nodes.slice(0, penaltyCount).map((n) => ({ node: n.address, slashAmount: parseEther('1'), jailUntilBlock: 0n }))
      const gas: bigint[] = []
      // Epoch 0 writes fresh storage slots; epoch 1 shows the steady state.
      for (const epoch of [0n, 1n]) {
        await deployment.openEpoch(epoch)
        const batch = batchOf(epoch, { penalties })
        const receipt = await deployment.submitBatch(batch, await deployment.signBatchBy(nodes.slice(nonSignerCount), batch))
        gas.push(receipt.gasUsed)
      }
      t.diagnostic(`submitBatch, ${memberCount} members, ${nonSignerCount} non-signers, ${penaltyCount} penalties: ${gas[1]} gas (first epoch ${gas[0]})`)
      return gas[1]!
    }
    const five = await measure('5', 5, 0, 0)
    const sixteen = await measure('16', 16, 0, 0)
    const fiveMissing = await measure('16-5', 16, 5, 0)
    const withPenalties = await measure('16-p', 16, 0, 2)
    t.diagnostic(`16 vs 5 members: ${sixteen - five} gas; ≈ ${(fiveMissing - sixteen) / 5n} gas per non-signer; 2 penalties add ${withPenalties - sixteen}`)
    // Members who sign cost nothing each (calldata of the batch is the same); non-signers a key read and a G1 addition.
    const spread = sixteen > five ? sixteen - five : five - sixteen
    assert.ok(spread < 1_000n, `gas differs by ${spread} between 5 and 16 signers`)
    assert.ok((fiveMissing - sixteen) / 5n < 25_000n, `per-non-signer gas ${(fiveMissing - sixteen) / 5n}`)
    assert.ok(sixteen < 300_000n, `16-signer gas ${sixteen}`)
  })
})
