import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { concat, encodeAbiParameters, getContract, keccak256, parseEther, zeroHash, type Address, type Hex, type LocalAccount } from 'viem'
import { createTestChain, expectRevert, type EpochBatch, type TestChain } from '../../test/helpers/contractChain.ts'
import { createMerkleTree, type MerkleTree } from '../core/merkleTree.ts'
import { EscrowAbi, SettlementAbi, TestTokenAbi } from './generated/contracts.ts'

const DELAY = 10n
const BALANCE_TYPES = ['address', 'uint256', 'uint256']

type Balance = [account: Address, cumulativeEarned: bigint, cumulativeCharged: bigint]

describe('Escrow', () => {
  let c: TestChain
  let node: LocalAccount
  let alice: LocalAccount
  let bob: LocalAccount
  let reset: () => Promise<void>
  let nextEpoch = 0n

  const escrow = (account?: LocalAccount) =>
    getContract({
      address: c.contracts.escrow,
      abi: EscrowAbi,
      client: { public: c.publicClient, wallet: c.wallet(account ?? c.deployer) },
    })
  const balanceOf = (who: Address) =>
    c.publicClient.readContract({ address: c.contracts.token, abi: TestTokenAbi, functionName: 'balanceOf', args: [who] })

  /** Settles the next epoch with a balances tree over `balances`; returns the tree. */
  async function settleBalances(balances: Balance[]): Promise<MerkleTree<Balance>> {
    const tree = createMerkleTree(balances, BALANCE_TYPES)
    const epoch = nextEpoch++
    await c.openEpoch(epoch)
    const batch: EpochBatch = {
      epoch,
      round: 0,
      outcomesRoot: zeroHash,
      balancesRoot: tree.root as Hex,
      taskCount: 0,
      totalFees: 0n,
      totalRewards: 0n,
      treasuryAmount: 0n,
      penalties: [],
    }
    await c.submitBatch(batch, await c.signBatchBy([node], batch))
    return tree
  }
  const proofOf = (tree: MerkleTree<Balance>, account: Address): Hex[] => {
    for (const [i, [who]] of tree.entries()) if (who === account) return tree.getProof(i) as Hex[]
    throw new Error(`no leaf for ${account}`)
  }

  before(async () => {
    c = await createTestChain({ withdrawalDelayBlocks: DELAY, epochLength: 5n, minStake: parseEther('1') })
    ;[node, alice, bob] = (await c.createAccounts('escrow', 3)) as [LocalAccount, LocalAccount, LocalAccount]
    await c.stake(node, parseEther('100')) // the whole committee
    await c.deposit(alice, parseEther('100'))
    reset = (await c.snapshot()).revert
  })
  after(() => c?.stop())
  beforeEach(async () => {
    await reset()
    nextEpoch = 0n
  })

  it('hashes balance leaves like the off-chain tree and viem', async () => {
    const leaf: Balance = [alice.address, 3n, 4n]
    const tree = createMerkleTree([leaf], BALANCE_TYPES)
    const viemHash = keccak256(concat([keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }, { type: 'uint256' }], leaf))]))
    assert.equal(tree.leafHash(leaf), viemHash)
    assert.equal(await escrow().read.balanceLeaf(leaf), viemHash)
  })

  it('credits deposits to the requester, also when paid by someone else', async () => {
    await c.mint(bob.address, parseEther('5'))
    await c.send(c.wallet(bob).writeContract({ address: c.contracts.token, abi: TestTokenAbi, functionName: 'approve', args: [c.contracts.escrow, parseEther('5')] }))
    await c.send(escrow(bob).write.depositFor([alice.address, parseEther('5')]))
    assert.equal(await escrow().read.depositOf([alice.address]), parseEther('105'))
    assert.equal(await escrow().read.depositOf([bob.address]), 0n)
    assert.equal(await balanceOf(c.contracts.escrow), parseEther('105'))
    await expectRevert(escrow(bob).write.deposit([0n]), 'EscrowZeroAmount')
  })

  it('pays earnings once per cumulative amount, to the account, whoever calls', async () => {
    const tree = await settleBalances([
      [alice.address, 0n, parseEther('30')],
      [node.address, parseEther('27'), 0n],
      [bob.address, parseEther('3'), 0n],
    ])
    const before = await balanceOf(node.address)
    await c.send(escrow(bob).write.claim([node.address, parseEther('27'), 0n, proofOf(tree, node.address)]))
    assert.equal((await balanceOf(node.address)) - before, parseEther('27'))
    assert.equal(await escrow().read.claimedOf([node.address]), parseEther('27'))
    await expectRevert(escrow(node).write.claim([node.address, parseEther('27'), 0n, proofOf(tree, node.address)]), 'EscrowNothingToClaim')
    // A leaf that is not in the tree, or a proof for another leaf.
    await expectRevert(escrow(bob).write.claim([bob.address, parseEther('30'), 0n, proofOf(tree, bob.address)]), 'EscrowInvalidProof')
    await expectRevert(escrow(bob).write.claim([bob.address, parseEther('3'), 0n, proofOf(tree, node.address)]), 'EscrowInvalidProof')

    // The next epoch raises the node's cumulative earnings: only the difference is paid.
    const later = await settleBalances([
      [alice.address, 0n, parseEther('40')],
      [node.address, parseEther('36'), 0n],
      [bob.address, parseEther('4'), 0n],
    ])
    await c.send(escrow(node).write.claim([node.address, parseEther('36'), 0n, proofOf(later, node.address)]))
    assert.equal((await balanceOf(node.address)) - before, parseEther('36'))
    // Old roots are no longer accepted.
    await expectRevert(escrow(bob).write.claim([bob.address, parseEther('3'), 0n, proofOf(tree, bob.address)]), 'EscrowInvalidProof')
  })

  it('pays a withdrawal only after the delay and once an epoch that saw the request has settled', async () => {
    const receipt = await c.send(escrow(alice).write.requestWithdrawal([parseEther('40')]))
    const availableAt = receipt.blockNumber + DELAY
    assert.deepEqual(await escrow().read.pendingWithdrawalOf([alice.address]), [parseEther('40'), receipt.blockNumber, availableAt])
    assert.equal(await escrow().read.isWithdrawalReady([alice.address]), false)
    const [readyAt] = await expectRevert(escrow(alice).write.withdraw([0n, 0n, []]), 'EscrowWithdrawalNotReady')
    assert.equal(readyAt, availableAt)
    await c.mine(Number(availableAt - (await c.blockNumber())))
    // The delay has passed, but no epoch whose snapshot saw the request has settled: charges made
    // while the request was invisible to nodes might still be on their way into the root.
    const [requestedAt, settledSnapshot] = await expectRevert(escrow(alice).write.withdraw([0n, 0n, []]), 'EscrowWithdrawalNotSettled')
    assert.deepEqual([requestedAt, settledSnapshot], [receipt.blockNumber, 0n])
    // Every depositor gets a leaf, charged or not.
    assert.equal(await escrow().read.depositorCount(), 1n)
    assert.equal(await escrow().read.depositorAt([0n]), alice.address)
    const tree = await settleBalances([[alice.address, 0n, 0n], [node.address, 0n, 0n]])
    assert.equal(await escrow().read.isWithdrawalReady([alice.address]), true)
    await expectRevert(escrow(alice).write.withdraw([0n, 1n, proofOf(tree, alice.address)]), 'EscrowInvalidProof')
    const before = await balanceOf(alice.address)
    await c.send(escrow(alice).write.withdraw([0n, 0n, proofOf(tree, alice.address)]))
    assert.equal((await balanceOf(alice.address)) - before, parseEther('40'))
    assert.equal(await escrow().read.withdrawnOf([alice.address]), parseEther('40'))
    assert.deepEqual(await escrow().read.pendingWithdrawalOf([alice.address]), [0n, 0n, 0n])
    await expectRevert(escrow(alice).write.withdraw([0n, 0n, proofOf(tree, alice.address)]), 'EscrowNoPendingWithdrawal')
  })

  it('pays at most deposits minus proven charges minus earlier withdrawals', async () => {
    await expectRevert(escrow(alice).write.requestWithdrawal([parseEther('101')]), 'EscrowInsufficientBalance')
    // A new request replaces the pending one, and restarts its wait.
    await c.send(escrow(alice).write.requestWithdrawal([parseEther('50')]))
    const receipt = await c.send(escrow(alice).write.requestWithdrawal([parseEther('71')]))
    assert.deepEqual(await escrow().read.pendingWithdrawalOf([alice.address]), [parseEther('71'), receipt.blockNumber, receipt.blockNumber + DELAY])
    await c.mine(Number(DELAY))
    // An epoch that had charged alice 30 before it saw the request settles.
    const tree = await settleBalances([
      [alice.address, 0n, parseEther('30')],
      [node.address, parseEther('30'), 0n],
    ])
    const aliceProof = proofOf(tree, alice.address)
    // Lying about the charges does not pass the proof; a proof-less withdrawal is refused once a root exists.
    await expectRevert(escrow(alice).write.withdraw([0n, 0n, aliceProof]), 'EscrowInvalidProof')
    await expectRevert(escrow(alice).write.withdraw([0n, 0n, []]), 'EscrowInvalidProof')
    // 71 asked, 70 unspent: the unspent part is paid, and the request is done.
    const before = await balanceOf(alice.address)
    await c.send(escrow(alice).write.withdraw([0n, parseEther('30'), aliceProof]))
    assert.equal((await balanceOf(alice.address)) - before, parseEther('70'))
    assert.equal(await escrow().read.availableOf([alice.address, parseEther('30')]), 0n)
    // Nothing is left to pay a further request.
    await c.send(escrow(alice).write.requestWithdrawal([parseEther('30')]))
    await c.mine(Number(DELAY))
    const later = await settleBalances([
      [alice.address, 0n, parseEther('30')],
      [node.address, parseEther('30'), 0n],
    ])
    const [available, requested] = await expectRevert(
      escrow(alice).write.withdraw([0n, parseEther('30'), proofOf(later, alice.address)]),
      'EscrowInsufficientBalance',
    )
    assert.deepEqual([available, requested], [0n, parseEther('30')])
    // The node's earnings come out of the pool: 100 deposited = 70 withdrawn + 30 earned.
    await c.send(escrow(node).write.claim([node.address, parseEther('30'), 0n, proofOf(later, node.address)]))
    assert.equal(await balanceOf(c.contracts.escrow), 0n)
  })

  it('reads the balances root of the latest settled epoch from Settlement', async () => {
    assert.equal(await escrow().read.settlement(), c.contracts.settlement)
    const tree = await settleBalances([[alice.address, 0n, 1n]])
    const root = await c.publicClient.readContract({ address: c.contracts.settlement, abi: SettlementAbi, functionName: 'balancesRoot' })
    assert.equal(root, tree.root)
    assert.equal(await escrow().read.verifyBalance([alice.address, 0n, 1n, proofOf(tree, alice.address)]), true)
    await expectRevert(escrow().write.setSettlement([bob.address]), 'EscrowSettlementAlreadySet')
  })
})
