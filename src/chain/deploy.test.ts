import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { getContract } from 'viem'
import { createTestChain, type TestChain } from './anvil/testChain.ts'
import { defaultChainParams, deployContracts, readAddressesFile, writeAddressesFile } from './deploy.ts'
import { EscrowAbi, SettlementAbi, StakeManagerAbi, TestTokenAbi } from './generated/contracts.ts'

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
    assert.equal(await s.read.committeeSize(), defaultChainParams.committeeSize)
    assert.equal(await s.read.equivocationSlashBps(), defaultChainParams.equivocationSlashBps)
    assert.equal(await s.read.jailBlocks(), defaultChainParams.jailBlocks)
    assert.deepEqual([await t.read.name(), await t.read.symbol(), await t.read.decimals()], ['Veritask Test Token', 'VTT', 18])
    assert.equal(await t.read.owner(), c.deployer.address)
    assert.ok(deployBlock > 0n && deployBlock <= (await s.read.genesisBlock()))
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
