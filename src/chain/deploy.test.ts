import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { getContract } from 'viem'
import { createTestChain, type TestChain } from '../../test/helpers/contractChain.ts'
import { defaultChainParams, defaultGovernanceSettings, deployContracts, readAddressesFile, writeAddressesFile } from './deploy.ts'
import { findNetworkParameter } from './governance/parameters.ts'
import {
  EscrowAbi,
  NetworkParametersAbi,
  SettlementAbi,
  StakeManagerAbi,
  TaskAnchorsAbi,
  TestTokenAbi,
  VeritaskGovernorAbi,
  VeritaskTimelockAbi,
} from './generated/contracts.ts'
import { toChainValues } from './governance/parameters.ts'
import { VeritaskError } from '../core/errors.ts'

describe('deployContracts', () => {
  let c: TestChain
  let dir: string

  before(async () => {
    c = await createTestChain()
    dir = await mkdtemp(join(tmpdir(), 'veritask-deploy-'))
  })
  after(async () => {
    await c?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('deploys the contracts with the default parameters and wires them to Settlement', async () => {
    const { token, stakeManager, escrow, settlement, deployBlock } = c.contracts
    const read = { client: c.publicClient }
    const s = getContract({ address: settlement, abi: SettlementAbi, ...read })
    const sm = getContract({ address: stakeManager, abi: StakeManagerAbi, ...read })
    const e = getContract({ address: escrow, abi: EscrowAbi, ...read })
    const t = getContract({ address: token, abi: TestTokenAbi, ...read })
    assert.equal(await sm.read.settlement(), settlement)
    assert.equal(await e.read.settlement(), settlement)
    assert.equal(await s.read.stakeManager(), stakeManager)
    assert.equal(await s.read.escrow(), escrow)
    assert.equal(await s.read.treasury(), c.deployer.address)
    assert.equal(await sm.read.token(), token)
    assert.equal(await e.read.token(), token)
    assert.equal(await sm.read.minStake(), defaultChainParams.minStake)
    assert.equal(await sm.read.unbondingBlocks(), defaultChainParams.unbondingBlocks)
    assert.equal(await e.read.withdrawalDelayBlocks(), defaultChainParams.withdrawalDelayBlocks)
    assert.equal(await s.read.epochLength(), defaultChainParams.epochLength)
    const p = getContract({ address: c.contracts.parameters, abi: NetworkParametersAbi, ...read })
    assert.deepEqual(await p.read.valuesAt([0]), toChainValues(defaultChainParams))
    assert.equal(await s.read.parameters(), c.contracts.parameters)
    assert.equal(await sm.read.parameters(), c.contracts.parameters)
    assert.equal(await p.read.settlement(), settlement)
    const a = getContract({ address: c.contracts.anchors, abi: TaskAnchorsAbi, ...read })
    assert.deepEqual([await a.read.token(), await a.read.parameters(), await a.read.treasury()], [token, c.contracts.parameters, c.deployer.address])
    // Only passed proposals change parameters: the timelock owns them, the governor is its only proposer.
    const tl = getContract({ address: c.contracts.timelock, abi: VeritaskTimelockAbi, ...read })
    const g = getContract({ address: c.contracts.governor, abi: VeritaskGovernorAbi, ...read })
    assert.equal(await p.read.owner(), c.contracts.timelock)
    assert.equal(await g.read.timelock(), c.contracts.timelock)
    assert.equal(await g.read.token(), stakeManager)
    assert.equal(await tl.read.hasRole([await tl.read.PROPOSER_ROLE(), c.contracts.governor]), true)
    assert.equal(await tl.read.hasRole([await tl.read.PROPOSER_ROLE(), c.deployer.address]), false)
    assert.equal(await tl.read.hasRole([await tl.read.DEFAULT_ADMIN_ROLE(), c.deployer.address]), false)
    assert.equal(await tl.read.getMinDelay(), defaultGovernanceSettings.timelockDelaySeconds)
    assert.equal(await g.read.votingPeriod(), BigInt(defaultGovernanceSettings.votingPeriodBlocks))
    assert.deepEqual([await t.read.name(), await t.read.symbol(), await t.read.decimals()], ['Veritask Test Token', 'VTT', 18])
    assert.equal(await t.read.owner(), c.deployer.address)
    assert.ok(deployBlock > 0n && deployBlock <= (await s.read.genesisBlock()))
  })

  it('refuses initial parameters outside their bounds, naming the bound', async () => {
    await assert.rejects(c.deployMore({ commitWindowMs: 50 }), (e: unknown) => {
      assert.ok(e instanceof VeritaskError)
      assert.equal(e.code, 'CHAIN_DEPLOY_FAILED')
      const id = findNetworkParameter('commitWindowMs')!.id
      assert.match(e.message, new RegExp(`Deploying NetworkParameters failed: NetworkParametersOutOfBounds\\(${id}, 50, 100, 86400000\\)`))
      return true
    })
  })

  it('reuses a given token', async () => {
    const more = await c.deployMore({})
    assert.notEqual(more.contracts.token, c.contracts.token)
    const reused = await deployContracts({
      walletClient: c.wallet(c.deployer),
      publicClient: c.publicClient,
      token: c.contracts.token,
    })
    assert.equal(reused.token, c.contracts.token)
    const sm = getContract({ address: reused.stakeManager, abi: StakeManagerAbi, client: c.publicClient })
    assert.equal(await sm.read.token(), c.contracts.token)
  })

  it('round-trips an addresses file and rejects a broken one', async () => {
    const path = join(dir, 'addresses.json')
    const contents = { chainId: 31337, ...c.contracts }
    await writeAddressesFile(path, contents)
    assert.deepEqual(await readAddressesFile(path), contents)

    await writeFile(path, JSON.stringify({ chainId: 1, token: '0x1234' }))
    await assert.rejects(readAddressesFile(path), /invalid addresses file .*'token' is not an address/)
    await assert.rejects(readAddressesFile(join(dir, 'missing.json')), /invalid addresses file/)
  })
})
