import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { getAddress, getContract, parseEther, parseEventLogs, type LocalAccount, type TransactionReceipt } from 'viem'
import { createTestChain, expectRevert, type TestChain } from '../../test/helpers/contractChain.ts'
import { defaultParams } from '../core/params.ts'
import { defaultChainParams, defaultGovernanceSettings } from './deploy.ts'
import {
  NetworkParametersAbi,
  NetworkParametersBytecode,
  SettlementAbi,
  StakeManagerAbi,
  VeritaskGovernorAbi,
} from './generated/contracts.ts'
import { fromChainValues, networkParameters, toChainValues } from './governance/parameters.ts'
import { createGovernanceClient, GovernanceError, type GovernanceClient, type ParameterChange } from './viem/createGovernanceClient.ts'
import { readNetworkParameters, readParameters } from './viem/readParameters.ts'

const STAKE = parseEther('1000')

describe('governance', () => {
  let c: TestChain
  let nodes: LocalAccount[]
  let poor: LocalAccount
  let gov: GovernanceClient
  let reset: () => Promise<void>

  const settlement = () => getContract({ address: c.contracts.settlement, abi: SettlementAbi, client: c.publicClient })
  const wallet = (account: LocalAccount) => c.wallet(account)
  const receiptOf = (hash: `0x${string}`): Promise<TransactionReceipt> => c.publicClient.getTransactionReceipt({ hash })

  /** Mines until voting on `id` is open. */
  const startVoting = async (id: bigint) => {
    const snapshot = await c.publicClient.readContract({ address: c.contracts.governor, abi: VeritaskGovernorAbi, functionName: 'proposalSnapshot', args: [id] })
    await c.mine(Number(snapshot - (await c.blockNumber())) + 1)
  }
  /** Mines past the vote's deadline. */
  const endVoting = async (id: bigint) => {
    const deadline = await c.publicClient.readContract({ address: c.contracts.governor, abi: VeritaskGovernorAbi, functionName: 'proposalDeadline', args: [id] })
    await c.mine(Number(deadline - (await c.blockNumber())) + 1)
  }
  const passTimelock = async () => {
    await c.testClient.increaseTime({ seconds: Number(defaultGovernanceSettings.timelockDelaySeconds) })
    await c.mine(1)
  }
  /** Proposes `change`, votes it through with three of five nodes, and queues it. */
  const proposeAndQueue = async (change: ParameterChange, description: string) => {
    const { proposalId } = await gov.propose(wallet(nodes[0]!), change, description)
    await startVoting(proposalId)
    for (const node of nodes.slice(0, 3)) await gov.castVote(wallet(node), proposalId, 'for')
    await endVoting(proposalId)
    await gov.queue(wallet(nodes[4]!), proposalId)
    return proposalId
  }

  before(async () => {
    c = await createTestChain()
    nodes = await c.createAccounts('voter', 5)
    ;[poor] = (await c.createAccounts('poor', 1)) as [LocalAccount]
    for (const node of nodes) await c.stake(node, STAKE)
    await c.stake(poor, parseEther('50')) // below the proposal threshold of 100
    await c.mine(1)
    gov = createGovernanceClient(c.publicClient, c.contracts)
    reset = (await c.snapshot()).revert
  })
  after(() => c?.stop())
  beforeEach(() => reset())

  it('runs a proposal through vote, timelock and execution; the change applies from the next epoch opened', async () => {
    await c.openEpoch(0n)
    const { proposalId, hash } = await gov.propose(wallet(nodes[0]!), { replicationK: 5, replicationQuorum: 3 }, 'k = 5')
    const [created] = parseEventLogs({ abi: VeritaskGovernorAbi, logs: (await receiptOf(hash)).logs, eventName: 'ProposalCreated' })
    assert.equal(created?.args.proposalId, proposalId)
    assert.equal(await gov.state(proposalId), 'pending')

    await startVoting(proposalId)
    assert.equal(await gov.state(proposalId), 'active')
    for (const node of nodes.slice(0, 3)) await gov.castVote(wallet(node), proposalId, 'for')
    const { hash: against } = await gov.castVote(wallet(nodes[3]!), proposalId, 'against')
    const [vote] = parseEventLogs({ abi: VeritaskGovernorAbi, logs: (await receiptOf(against)).logs, eventName: 'VoteCast' })
    assert.deepEqual([vote?.args.voter, vote?.args.support, vote?.args.weight], [nodes[3]!.address, 0, STAKE])
    const info = await gov.proposal(proposalId)
    assert.deepEqual(info.votes, { against: STAKE, for: 3n * STAKE, abstain: 0n })
    assert.deepEqual(info.changes, { replicationK: 5, replicationQuorum: 3 })
    // Quorum: 20 % of the 5,050 staked at the snapshot.
    assert.equal(info.quorum, (5n * STAKE + parseEther('50')) / 5n)

    await endVoting(proposalId)
    assert.equal(await gov.state(proposalId), 'succeeded')
    const queued = await gov.queue(wallet(nodes[4]!), proposalId)
    assert.equal(await gov.state(proposalId), 'queued')
    assert.ok(parseEventLogs({ abi: VeritaskGovernorAbi, logs: (await receiptOf(queued.hash)).logs, eventName: 'ProposalQueued' }).length === 1)

    // The timelock holds it back until its delay has passed.
    await assert.rejects(gov.execute(wallet(nodes[4]!), proposalId), (e: unknown) =>
      e instanceof GovernanceError && e.details.error === 'TimelockUnexpectedOperationState',
    )
    await passTimelock()
    const executed = await gov.execute(wallet(poor), proposalId) // anyone may execute
    assert.equal(await gov.state(proposalId), 'executed')
    const changed = parseEventLogs({ abi: NetworkParametersAbi, logs: (await receiptOf(executed.hash)).logs, eventName: 'ParameterChanged' })
    assert.deepEqual(
      changed.map((e) => [e.args.version, e.args.parameter, e.args.oldValue, e.args.newValue]),
      [
        [1, 4, 3n, 5n],
        [1, 5, 2n, 3n],
      ],
    )

    // Scheduled, not in effect: epoch 0 keeps version 0, epoch 1 opens with version 1.
    assert.deepEqual(await gov.versions(), { active: 0, latest: 1 })
    assert.equal((await readParameters(c.publicClient, { settlement: c.contracts.settlement, epoch: 0n })).defaultPolicy.k, 3)
    await c.openEpoch(1n)
    assert.deepEqual(await gov.versions(), { active: 1, latest: 1 })
    const epoch1 = await readNetworkParameters(c.publicClient, { settlement: c.contracts.settlement, epoch: 1n })
    assert.equal(epoch1.version, 1)
    assert.deepEqual(epoch1.values, { ...defaultNetworkValues(), replicationK: 5, replicationQuorum: 3 })
    const epoch0 = await readParameters(c.publicClient, { settlement: c.contracts.settlement, epoch: 0n })
    assert.deepEqual(epoch0.defaultPolicy, { kind: 'replicate', k: 3, quorum: 2, auditPpm: defaultParams.defaultPolicy.auditPpm })
    await assert.rejects(readParameters(c.publicClient, { settlement: c.contracts.settlement, epoch: 2n }), /not opened yet/)
  })

  it('rejects a second vote by the same account', async () => {
    const { proposalId } = await gov.propose(wallet(nodes[0]!), { sampleRatePpm: 10_000 }, 'double vote')
    await startVoting(proposalId)
    await gov.castVote(wallet(nodes[1]!), proposalId, 'for')
    await expectRevert(
      c.wallet(nodes[1]!).writeContract({ address: c.contracts.governor, abi: VeritaskGovernorAbi, functionName: 'castVote', args: [proposalId, 0] }),
      'GovernorAlreadyCastVote',
    )
    assert.deepEqual((await gov.proposal(proposalId)).votes, { against: 0n, for: STAKE, abstain: 0n })
  })

  it('rejects votes before the snapshot and after the deadline, and a defeated proposal cannot be queued', async () => {
    const { proposalId } = await gov.propose(wallet(nodes[0]!), { sampleRatePpm: 10_000 }, 'late vote')
    await expectRevert(
      c.wallet(nodes[1]!).writeContract({ address: c.contracts.governor, abi: VeritaskGovernorAbi, functionName: 'castVote', args: [proposalId, 1] }),
      'GovernorUnexpectedProposalState',
    )
    await startVoting(proposalId)
    await gov.castVote(wallet(nodes[1]!), proposalId, 'for') // 1,000 of 5,050: below the quorum of 1,010
    await endVoting(proposalId)
    assert.equal(await gov.state(proposalId), 'defeated')
    await assert.rejects(gov.castVote(wallet(nodes[2]!), proposalId, 'for'), (e: unknown) =>
      e instanceof GovernanceError && e.details.error === 'GovernorUnexpectedProposalState',
    )
    await assert.rejects(gov.queue(wallet(nodes[2]!), proposalId), (e: unknown) =>
      e instanceof GovernanceError && e.details.error === 'GovernorUnexpectedProposalState',
    )
  })

  it('rejects a proposal from an account below the proposal threshold', async () => {
    const error = await gov.propose(wallet(poor), { sampleRatePpm: 10_000 }, 'too poor').then(
      () => assert.fail('expected a revert'),
      (e: unknown) => e,
    )
    assert.ok(error instanceof GovernanceError)
    assert.equal(error.details.error, 'GovernorInsufficientProposerVotes')
    assert.match(error.describe(), /proposal threshold/)
  })

  it('counts stake at the proposal snapshot as voting power, undelegable', async () => {
    const { proposalId } = await gov.propose(wallet(nodes[0]!), { sampleRatePpm: 10_000 }, 'snapshot')
    await startVoting(proposalId)
    await c.stake(nodes[1]!, STAKE) // after the snapshot: does not count
    await gov.castVote(wallet(nodes[1]!), proposalId, 'abstain')
    assert.deepEqual((await gov.proposal(proposalId)).votes, { against: 0n, for: 0n, abstain: STAKE })
    assert.equal(await gov.votesOf(nodes[1]!.address), 2n * STAKE)
    const sm = getContract({ address: c.contracts.stakeManager, abi: StakeManagerAbi, client: c.publicClient })
    assert.equal(await sm.read.delegates([nodes[1]!.address]), nodes[1]!.address)
    assert.equal(await sm.read.CLOCK_MODE(), 'mode=blocknumber&from=default')
    const delegate = (to: LocalAccount) =>
      c.publicClient.readContract({
        address: c.contracts.stakeManager,
        abi: StakeManagerAbi,
        functionName: 'delegate',
        args: [to.address],
        account: nodes[1]!.address,
      })
    await delegate(nodes[1]!) // to itself: a no-op
    await expectRevert(delegate(nodes[2]!), 'StakeManagerDelegationUnsupported')
  })

  it('refuses out-of-bounds values: a passed proposal that breaks a bound cannot execute, and nobody else can set them', async () => {
    const id = await proposeAndQueue({ replicationQuorum: 4 }, 'quorum above k')
    await passTimelock()
    await assert.rejects(gov.execute(wallet(nodes[0]!), id), (e: unknown) =>
      e instanceof GovernanceError && e.details.error === 'NetworkParametersInvalidQuorum',
    )
    assert.equal(await gov.state(id), 'queued')
    assert.deepEqual(await gov.versions(), { active: 0, latest: 0 })
    await expectRevert(
      c.wallet(nodes[0]!).writeContract({ ...parametersContract(), functionName: 'setParameters', args: [[4], [5n]] }),
      'OwnableUnauthorizedAccount',
    )
    await expectRevert(
      c.wallet(nodes[0]!).writeContract({ address: c.contracts.parameters, abi: NetworkParametersAbi, functionName: 'activate' }),
      'NetworkParametersUnauthorized',
    )
  })

  it('refuses a minimum stake that would leave out more than a tenth of the eligible stake', async () => {
    // Five nodes of 1,000: a minimum of 1,500 would leave nobody to sign or execute.
    const id = await proposeAndQueue({ minStake: parseEther('1500') }, 'everyone out')
    await passTimelock()
    await assert.rejects(gov.execute(wallet(nodes[0]!), id), (e: unknown) =>
      e instanceof GovernanceError && e.details.error === 'NetworkParametersMinStakeExcludesStake',
    )
    assert.equal(await gov.state(id), 'queued')
    assert.deepEqual(await gov.versions(), { active: 0, latest: 0 })
    // Half their stake is fine: nobody is left out. (The count is conservative: stakes within a
    // factor 2 above the new minimum may count as left out, so a raise to exactly 1,000 is refused.)
    const fine = await proposeAndQueue({ minStake: STAKE / 2n }, 'nobody out')
    await passTimelock()
    await gov.execute(wallet(nodes[0]!), fine)
    assert.deepEqual(await gov.versions(), { active: 0, latest: 1 })
  })

  it('enforces every bound and the consistency rules on-chain', async () => {
    // A registry of its own, owned by a test account, to try each bound directly.
    const [owner] = await c.createAccounts('owner', 1)
    const hash = await c.wallet(owner!).deployContract({
      abi: NetworkParametersAbi,
      bytecode: NetworkParametersBytecode,
      args: [owner!.address, toChainValues(defaultChainParams)],
    })
    const address = getAddress((await c.send(hash)).contractAddress!)
    const registry = getContract({ address, abi: NetworkParametersAbi, client: { public: c.publicClient, wallet: c.wallet(owner!) } })
    assert.equal(await registry.read.PARAMETER_COUNT(), BigInt(networkParameters.length))
    const set = (ids: number[], values: bigint[]) => registry.write.setParameters([ids, values])
    for (const p of networkParameters) {
      const [min, max] = await registry.read.boundsOf([p.id])
      const args = await expectRevert(set([p.id], [max + 1n]), 'NetworkParametersOutOfBounds')
      assert.deepEqual(args, [p.id, max + 1n, min, max], p.name)
      if (min > 0n) await expectRevert(set([p.id], [min - 1n]), 'NetworkParametersOutOfBounds')
    }
    const k = networkParameters.findIndex((p) => p.name === 'replicationK')
    const quorum = k + 1
    assert.deepEqual(await expectRevert(set([k], [5n]), 'NetworkParametersInvalidQuorum'), [2n, 5n]) // 2 of 5 is no majority
    await expectRevert(set([quorum], [4n]), 'NetworkParametersInvalidQuorum') // above k = 3
    await expectRevert(set([k, k], [5n, 5n]), 'NetworkParametersDuplicate')
    await expectRevert(set([networkParameters.length], [1n]), 'NetworkParametersUnknown')
    await expectRevert(set([], []), 'NetworkParametersBadLength')
    const epochLength = networkParameters.findIndex((p) => p.name === 'epochLength')
    await expectRevert(set([epochLength], [61n]), 'NetworkParametersUnbondingTooShort') // unbonding 120 < 2 × 61
    const minAudit = networkParameters.findIndex((p) => p.name === 'minAuditPpm')
    // A floor above the default policy's audit rate (100,000 ppm) would have nodes refuse the default.
    assert.deepEqual(await expectRevert(set([minAudit], [200_000n]), 'NetworkParametersAuditBelowFloor'), [100_000n, 200_000n])
    await c.send(set([quorum, k], [3n, 5n])) // changed together, in any order
    assert.deepEqual(fromChainValues(await registry.read.valuesAt([1])), { ...defaultNetworkValues(), replicationK: 5, replicationQuorum: 3 })
    assert.equal(await registry.read.valueAt([k, 0]), 3n)
    await expectRevert(registry.read.valuesAt([2]), 'NetworkParametersUnknownVersion')
  })

  it('applies a new epoch length, minimum stake and committee size from the epoch that opens with them', async () => {
    await c.openEpoch(0n)
    const start1 = await settlement().read.epochStart([1n])
    // poor tops up to 120, just above today's minimum: the raise to 150 leaves out its 2 % of the eligible stake.
    await c.stake(poor, parseEther('70'))
    const change = { epochLength: 30n, minStake: parseEther('150'), committeeSize: 200, unbondingBlocks: 200n }
    const id = await proposeAndQueue(change, 'longer epochs')
    await passTimelock()
    await gov.execute(wallet(nodes[0]!), id)
    // Epoch 0 is open: its committee and minimum stake stay as they were, and so does the clock.
    const sm = getContract({ address: c.contracts.stakeManager, abi: StakeManagerAbi, client: c.publicClient })
    assert.equal(await settlement().read.committeeWeight([0n, nodes[0]!.address]), STAKE)
    assert.equal(await settlement().read.epochStart([1n]), start1)
    assert.equal(await sm.read.unbondingBlocks(), defaultChainParams.unbondingBlocks)
    await c.openEpoch(1n)
    // Epoch 1 started where it did (under the old length); it and the epochs after it last 30 blocks.
    assert.equal(await settlement().read.epochStart([1n]), start1)
    assert.equal(await settlement().read.epochLength(), 30n)
    assert.equal(await settlement().read.epochStart([2n]), start1 + 30n)
    assert.equal(await sm.read.unbondingBlocks(), 200n)
    assert.equal(await settlement().read.epochStart([0n]), (await settlement().read.genesisBlock()))
    assert.equal(await settlement().read.committeeSizeOf([1n]), 200)
    assert.equal(await sm.read.minStake(), parseEther('150'))
    // Below the new minimum stake: epoch 1's snapshot came before it took effect; whoever refreshes
    // the node's eligibility (anyone may) takes it out of the committee from the next snapshot on.
    assert.equal(await settlement().read.committeeWeight([1n, poor.address]), parseEther('120'))
    assert.equal(await sm.read.isEligibilityStale([poor.address]), true)
    assert.equal(await sm.read.isEligibilityStale([nodes[0]!.address]), false)
    await c.send(getContract({ address: c.contracts.stakeManager, abi: StakeManagerAbi, client: wallet(nodes[1]!) }).write.refreshEligibility([poor.address]))
    assert.equal(await sm.read.eligibleStakeOf([poor.address]), 0n)
    await c.openEpoch(2n)
    assert.equal(await settlement().read.committeeWeight([2n, poor.address]), 0n)
    assert.equal(await settlement().read.committeeWeight([2n, nodes[0]!.address]), STAKE)
    await expectRevert(
      c.wallet(nodes[0]!).writeContract({ address: c.contracts.settlement, abi: SettlementAbi, functionName: 'openEpoch', args: [3n] }),
      'SettlementEpochNotStarted',
    )
  })

  it('opens epochs only in order', async () => {
    await c.openEpoch(0n)
    await c.mine(Number(defaultChainParams.epochLength) * 2)
    const args = await expectRevert(
      c.wallet(nodes[0]!).writeContract({ address: c.contracts.settlement, abi: SettlementAbi, functionName: 'openEpoch', args: [2n] }),
      'SettlementEpochOutOfOrder',
    )
    assert.deepEqual(args, [1n, 2n])
  })

  const parametersContract = () => ({ address: c.contracts.parameters, abi: NetworkParametersAbi }) as const
  const defaultNetworkValues = () => fromChainValues(toChainValues(defaultChainParams))
})
