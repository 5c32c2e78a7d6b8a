import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { keccak256, parseEther, toHex, zeroHash, type Address, type Hex, type LocalAccount } from 'viem'
import { createTestChain, expectRevert, type TestChain } from '../../test/helpers/contractChain.ts'
import { VeritaskError } from '../core/errors.ts'
import { TaskAnchorsAbi, TestTokenAbi } from './generated/contracts.ts'
import { anchorRoot, readAnchor, type AnchorRootReturnType } from './viem/anchors.ts'

const MIN_FEE = 3n * 10n ** 15n

describe('TaskAnchors', () => {
  let c: TestChain
  let alice: LocalAccount
  let bob: LocalAccount
  const treasury = () => c.deployer.address
  const rootOf = (label: string): Hex => keccak256(toHex(`veritask-anchors-test:${label}`))

  const balanceOf = (who: Address) =>
    c.publicClient.readContract({ address: c.contracts.token, abi: TestTokenAbi, functionName: 'balanceOf', args: [who] })
  const allowanceOf = (who: Address) =>
    c.publicClient.readContract({ address: c.contracts.token, abi: TestTokenAbi, functionName: 'allowance', args: [who, c.contracts.anchors] })
  const anchor = (requester: LocalAccount, root: Hex, count: number): Promise<AnchorRootReturnType> =>
    anchorRoot({ walletClient: c.wallet(requester), publicClient: c.publicClient, anchors: c.contracts.anchors, token: c.contracts.token, root, count })
  const gasOf = async (hash: Hex) => (await c.publicClient.getTransactionReceipt({ hash })).gasUsed

  /** Awaits `promise`, which must fail with CHAIN_ANCHOR_FAILED for the contract error `error`. */
  const rejectsWith = (promise: Promise<unknown>, error: string, message = new RegExp(`reverted with ${error}\\(`)) =>
    assert.rejects(promise, (e: unknown) => {
      assert.ok(e instanceof VeritaskError, String(e))
      assert.equal(e.code, 'CHAIN_ANCHOR_FAILED')
      assert.equal(e.details.error, error)
      assert.match(e.message, message)
      assert.ok(e.hint !== undefined && e.hint.length > 0)
      return true
    })

  before(async () => {
    c = await createTestChain({ minFee: MIN_FEE })
    ;[alice, bob] = (await c.createAccounts('anchors', 2)) as [LocalAccount, LocalAccount]
    await c.mint(alice.address, parseEther('100'))
    await c.mint(bob.address, parseEther('100'))
  })
  after(async () => {
    await c?.stop()
  })

  it('is deployed with the token, the parameters and the treasury', async () => {
    const read = (functionName: 'token' | 'parameters' | 'treasury') =>
      c.publicClient.readContract({ address: c.contracts.anchors, abi: TaskAnchorsAbi, functionName })
    assert.deepEqual([await read('token'), await read('parameters'), await read('treasury')], [c.contracts.token, c.contracts.parameters, treasury()])
  })

  it('anchors a root, paying count × minFee to the treasury, and records its block and count', async () => {
    const root = rootOf('one')
    assert.equal(await readAnchor(c.publicClient, c.contracts.anchors, alice.address, root), undefined)
    const [aliceBefore, treasuryBefore] = [await balanceOf(alice.address), await balanceOf(treasury())]
    const one = await anchor(alice, root, 1)
    assert.equal(one.paid, MIN_FEE)
    assert.deepEqual(await readAnchor(c.publicClient, c.contracts.anchors, alice.address, root), { block: one.block, count: 1 })

    const thousand = await anchor(alice, rootOf('thousand'), 1000)
    assert.equal(thousand.paid, 1000n * MIN_FEE)
    assert.ok(thousand.block > one.block)
    assert.deepEqual(await readAnchor(c.publicClient, c.contracts.anchors, alice.address, rootOf('thousand')), { block: thousand.block, count: 1000 })
    const again = await anchor(alice, rootOf('one again'), 1)
    assert.equal(await balanceOf(treasury()), treasuryBefore + 1002n * MIN_FEE)
    assert.equal(await balanceOf(alice.address), aliceBefore - 1002n * MIN_FEE)
    assert.equal(await allowanceOf(alice.address), 0n, 'approves exactly what the anchor spends')
    // The first anchor also pays for the treasury's first token (a zero balance slot written).
    const gas = { first: await gasOf(one.txHash), count1: await gasOf(again.txHash), count1000: await gasOf(thousand.txHash) }
    console.log(`# anchor gas: first (count 1) ${gas.first}, count 1 ${gas.count1}, count 1000 ${gas.count1000}`)
  })

  it('refuses a second anchor of the same root, with a typed error, and takes nothing', async () => {
    const root = rootOf('twice')
    const first = await anchor(alice, root, 5)
    const [aliceBefore, treasuryBefore, allowanceBefore] = [await balanceOf(alice.address), await balanceOf(treasury()), await allowanceOf(alice.address)]
    const blockBefore = await c.blockNumber()
    await rejectsWith(anchor(alice, root, 5), 'TaskAnchorsAlreadyAnchored')
    await rejectsWith(anchor(alice, root, 7), 'TaskAnchorsAlreadyAnchored')
    assert.equal(await c.blockNumber(), blockBefore, 'no transaction is sent, not even an approval')
    assert.deepEqual([await balanceOf(alice.address), await balanceOf(treasury()), await allowanceOf(alice.address)], [aliceBefore, treasuryBefore, allowanceBefore])
    assert.deepEqual(await readAnchor(c.publicClient, c.contracts.anchors, alice.address, root), { block: first.block, count: 5 })

    // The contract itself refuses it too, with an allowance that would pay for it.
    await c.send(c.wallet(alice).writeContract({ address: c.contracts.token, abi: TestTokenAbi, functionName: 'approve', args: [c.contracts.anchors, 5n * MIN_FEE] }))
    const args = await expectRevert(
      c.wallet(alice).writeContract({ address: c.contracts.anchors, abi: TaskAnchorsAbi, functionName: 'anchor', args: [root, 5] }),
      'TaskAnchorsAlreadyAnchored',
    )
    assert.deepEqual(args, [alice.address, root, first.block])
    await rejectsWith(anchor(alice, root, 5), 'TaskAnchorsAlreadyAnchored') // sent, with the allowance in place: refused by the chain
    assert.equal(await balanceOf(alice.address), aliceBefore)
    await c.send(c.wallet(alice).writeContract({ address: c.contracts.token, abi: TestTokenAbi, functionName: 'approve', args: [c.contracts.anchors, 0n] }))
  })

  it('refuses a count of 0 or above MAX_COUNT, and a zero root', async () => {
    const treasuryBefore = await balanceOf(treasury())
    await rejectsWith(anchor(alice, rootOf('none'), 0), 'TaskAnchorsBadCount')
    await rejectsWith(anchor(alice, rootOf('too many'), 2 ** 20 + 1), 'TaskAnchorsBadCount')
    await rejectsWith(anchor(alice, zeroHash, 1), 'TaskAnchorsZeroRoot')
    assert.equal(await readAnchor(c.publicClient, c.contracts.anchors, alice.address, rootOf('none')), undefined)
    assert.equal(await balanceOf(treasury()), treasuryBefore)
  })

  it('refuses an anchor the requester cannot pay for, before sending anything', async () => {
    const [poor] = (await c.createAccounts('anchors-poor', 1)) as [LocalAccount]
    await c.mint(poor.address, 2n * MIN_FEE)
    const blockBefore = await c.blockNumber()
    await rejectsWith(anchor(poor, rootOf('unpaid'), 3), 'ERC20InsufficientBalance', /holds 6000000000000000 tokens; 3 task ids .* cost 9000000000000000/)
    assert.equal(await c.blockNumber(), blockBefore)
    // The chain refuses it too.
    await c.send(c.wallet(poor).writeContract({ address: c.contracts.token, abi: TestTokenAbi, functionName: 'approve', args: [c.contracts.anchors, 3n * MIN_FEE] }))
    await expectRevert(
      c.wallet(poor).writeContract({ address: c.contracts.anchors, abi: TaskAnchorsAbi, functionName: 'anchor', args: [rootOf('unpaid'), 3] }),
      'ERC20InsufficientBalance',
    )
    assert.equal(await readAnchor(c.publicClient, c.contracts.anchors, poor.address, rootOf('unpaid')), undefined)
    assert.equal(await balanceOf(poor.address), 2n * MIN_FEE)
  })

  it('lets another requester anchor the same root independently', async () => {
    const root = rootOf('shared')
    const byAlice = await anchor(alice, root, 2)
    await c.mine(3)
    const byBob = await anchor(bob, root, 9)
    assert.equal(byBob.paid, 9n * MIN_FEE)
    assert.deepEqual(await readAnchor(c.publicClient, c.contracts.anchors, alice.address, root), { block: byAlice.block, count: 2 })
    assert.deepEqual(await readAnchor(c.publicClient, c.contracts.anchors, bob.address, root), { block: byBob.block, count: 9 })
  })
})
