import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { keccak256, parseEther, toHex, type Hex, type LocalAccount } from 'viem'
import { createTestChain, type TestChain } from '../../../test/helpers/contractChain.ts'
import { defaultGovernanceSettings, writeAddressesFile } from '../../chain/deploy.ts'
import { tempDir } from '../../../test/helpers/tempDir.ts'
import { main } from '../main.ts'
import { exitCodes } from '../options.ts'

/** The key createTestChain derives for `label-i`. */
const keyOf = (label: string, i: number): Hex => keccak256(toHex(`veritask-test:${label}-${i}`))

describe('veritask gov', () => {
  let c: TestChain
  let voters: LocalAccount[]
  let addresses: string
  const dir = tempDir('veritask-gov-')

  /** Runs the CLI against the test chain, signing with voter `signer`'s key (none: no key). */
  const gov = async (signer: number | null, ...args: string[]) => {
    const out: string[] = []
    const err: string[] = []
    const code = await main(['node', 'veritask', 'gov', ...args, '--rpc-url', c.anvil.rpcUrl, '--addresses', addresses], {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      signal: new AbortController().signal,
      env: signer === null ? {} : { VERITASK_KEY: keyOf('voter', signer) },
    })
    return { code, stdout: out.join('\n'), stderr: err.join('\n') }
  }
  const json = async (signer: number | null, ...args: string[]) => {
    const r = await gov(signer, ...args, '--json')
    assert.equal(r.code, exitCodes.ok, r.stderr)
    return JSON.parse(r.stdout) as Record<string, unknown>
  }

  before(async () => {
    c = await createTestChain()
    voters = await c.createAccounts('voter', 4)
    for (const v of voters) await c.stake(v, parseEther('1000'))
    addresses = join(dir, 'addresses.json')
    await writeAddressesFile(addresses, { chainId: c.chain.id, ...c.contracts })
  })
  after(async () => {
    await c?.stop()
  })

  it('prints the parameters, then takes a proposal from propose to execute', async () => {
    const params = await json(null, 'params')
    const rows = params.parameters as Array<{ name: string; value: unknown; min: string; max: string }>
    const k = rows.find((p) => p.name === 'replicationK')
    assert.deepEqual(k && [k.value, k.min, k.max], [3, '1', '16'])
    assert.equal(rows.find((p) => p.name === 'minStake')?.value, parseEther('100').toString()) // bigints as decimal strings
    assert.equal(params.activeVersion, 0)
    const notOpened = await gov(null, 'params', '--epoch', '0')
    assert.equal(notOpened.code, exitCodes.failure)
    assert.match(notOpened.stderr, /Epoch 0 is not opened yet/)
    await c.openEpoch(0n)

    // Bad changes are refused before anything is sent.
    const unknown = await gov(0, 'propose', '--set', 'frobnication=1')
    assert.equal(unknown.code, exitCodes.usage)
    assert.match(unknown.stderr, /replicationK/)
    const inconsistent = await gov(0, 'propose', '--set', 'replicationQuorum=4')
    assert.equal(inconsistent.code, exitCodes.failure)
    assert.match(inconsistent.stderr, /NetworkParametersInvalidQuorum\(4, 3\)[\s\S]*strict majority/)
    assert.equal((await gov(null, 'propose', '--set', 'replicationK=5')).code, exitCodes.usage) // no key
    assert.deepEqual((await json(null, 'status')).proposals, [])

    const proposed = await json(0, 'propose', '--set', 'replicationK=5', '--set', 'replicationQuorum=3', '--description', 'k = 5')
    const id = String(proposed.proposalId)
    assert.deepEqual(proposed.changes, { replicationK: 5, replicationQuorum: 3 })
    await c.mine(defaultGovernanceSettings.votingDelayBlocks + 1)
    for (const voter of [0, 1, 2]) assert.equal((await json(voter, 'vote', id, 'for')).support, 'for')
    const again = await gov(1, 'vote', id, 'against')
    assert.equal(again.code, exitCodes.failure)
    assert.match(again.stderr, /GovernorAlreadyCastVote/)
    assert.equal((await gov(3, 'vote', id, 'maybe')).code, exitCodes.usage)

    await c.mine(defaultGovernanceSettings.votingPeriodBlocks)
    assert.equal((await json(3, 'queue', id)).state, 'queued')
    const early = await gov(3, 'execute', id)
    assert.equal(early.code, exitCodes.failure)
    assert.match(early.stderr, /TimelockUnexpectedOperationState[\s\S]*timelock delay/)
    await c.testClient.increaseTime({ seconds: Number(defaultGovernanceSettings.timelockDelaySeconds) })
    await c.mine(1)
    assert.equal((await json(3, 'execute', id)).state, 'executed')

    const status = await json(null, 'status', id)
    assert.deepEqual([status.state, status.changes, status.votes], ['executed', { replicationK: 5, replicationQuorum: 3 }, {
      against: '0',
      for: parseEther('3000').toString(),
      abstain: '0',
    }])
    const text = await gov(null, 'status')
    assert.match(text.stdout, new RegExp(`proposal ${id}\\n  state     executed\\n  changes   replicationK=5, replicationQuorum=3`))
    // Scheduled for the next epoch opened; the value in effect is unchanged until then.
    const after = await json(null, 'params')
    const kAfter = (after.parameters as Array<{ name: string; value: unknown; scheduled?: unknown }>).find((p) => p.name === 'replicationK')
    assert.deepEqual([after.latestVersion, kAfter?.value, kAfter?.scheduled], [1, 3, 5])
    // Epoch 0 opened before the change and keeps k = 3; the next epoch opens with k = 5.
    await c.openEpoch(1n)
    const epochs = [await json(null, 'params', '--epoch', '0'), await json(null, 'params', '--epoch', '1')]
    const kOf = (p: Record<string, unknown>) => (p.parameters as Array<{ name: string; value: unknown }>).find((r) => r.name === 'replicationK')?.value
    assert.deepEqual(epochs.map((p) => [p.version, kOf(p)]), [[0, 3], [1, 5]])
  })
})
