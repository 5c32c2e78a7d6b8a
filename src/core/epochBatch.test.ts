import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import { concat, encodeAbiParameters, keccak256, numberToHex, stringToBytes, zeroHash } from 'viem'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { requiredCommitteeWeight } from './committee.ts'
import { balanceLeafEncoding, buildEpochBatch, outcomeLeafEncoding, outcomeLeafOf } from './epochBatch.ts'
import type { SettledTask } from './epochBatch.ts'
import type { Address, Verdict } from './types.ts'

const [e1, e2, e3] = ['e1', 'e2', 'e3'].map((l) => testAccount(l).address) as [Address, Address, Address]
const alice = testAccount('alice').address
const bob = testAccount('bob').address
const treasury = testAccount('treasury').address
const split = { executorsBps: 8_000 }

function task(i: number, outcome: Verdict['outcome'], requester = alice, fee = 1_000n): SettledTask {
  const taskId = keccak256(numberToHex(i, { size: 32 }))
  return {
    requester,
    fee,
    verdict: {
      taskId,
      outcome,
      resultHash: outcome === 'unresolved' ? zeroHash : keccak256(stringToBytes(`result ${i}`)),
      executors: outcome === 'unresolved' ? [] : [e1, e2, e3],
      dissenters: [],
    },
  }
}

const rich = new Map([
  [alice, 10n ** 18n],
  [bob, 10n ** 18n],
])

describe('buildEpochBatch', () => {
  it('charges requesters, pays agreeing executors and the treasury, and balances the sums', () => {
    const tasks = [task(1, 'verified'), task(2, 'failed'), task(3, 'unresolved'), task(4, 'verified', bob, 3_001n)]
    const { batch, cumulative } = buildEpochBatch({ epoch: 0n, tasks, previous: new Map(), chargeable: rich, treasury, split })
    assert.equal(batch.taskCount, 4)
    assert.equal(batch.totalFees, 1_000n + 1_000n + 3_001n, 'the unresolved task is not charged')
    assert.equal(batch.totalRewards + batch.treasuryAmount, batch.totalFees)
    // 80% of 1000 split three ways is 266 each (2 left for the treasury); of 3001, 2400 → 800 each.
    assert.equal(cumulative.get(e1)?.earned, 266n + 266n + 800n)
    assert.equal(cumulative.get(alice)?.charged, 2_000n)
    assert.equal(cumulative.get(bob)?.charged, 3_001n)
    assert.equal(cumulative.get(treasury)?.earned, batch.treasuryAmount)
  })

  it('is deterministic: the same verdicts in any order give the same roots', () => {
    const tasks = Array.from({ length: 20 }, (_, i) => task(i, i % 5 === 0 ? 'failed' : 'verified'))
    const a = buildEpochBatch({ epoch: 3n, tasks, previous: new Map(), chargeable: rich, treasury, split })
    const b = buildEpochBatch({ epoch: 3n, tasks: [...tasks].reverse(), previous: new Map(), chargeable: rich, treasury, split })
    assert.deepEqual(a.batch, b.batch)
    const c = buildEpochBatch({ epoch: 3n, tasks: tasks.slice(1), previous: new Map(), chargeable: rich, treasury, split })
    assert.notEqual(c.batch.outcomesRoot, a.batch.outcomesRoot)
  })

  it('accumulates balances across epochs', () => {
    const first = buildEpochBatch({ epoch: 0n, tasks: [task(1, 'verified')], previous: new Map(), chargeable: rich, treasury, split })
    const second = buildEpochBatch({ epoch: 1n, tasks: [task(2, 'verified')], previous: first.cumulative, chargeable: rich, treasury, split })
    assert.equal(second.cumulative.get(alice)?.charged, 2_000n)
    assert.equal(second.cumulative.get(e2)?.earned, 2n * 266n)
    assert.notEqual(second.batch.balancesRoot, first.batch.balancesRoot)
  })

  it('scales a requester’s fees down pro rata when its escrow cannot cover the epoch', () => {
    const tasks = [task(1, 'verified'), task(2, 'verified'), task(3, 'verified', bob)]
    const chargeable = new Map([
      [alice, 500n],
      [bob, 10_000n],
    ])
    const { batch, cumulative } = buildEpochBatch({ epoch: 0n, tasks, previous: new Map(), chargeable, treasury, split })
    assert.equal(cumulative.get(alice)?.charged, 500n, 'never more than alice can pay')
    assert.equal(cumulative.get(bob)?.charged, 1_000n)
    assert.equal(batch.totalRewards + batch.treasuryAmount, batch.totalFees)
  })

  it('includes listed accounts without activity, and an empty epoch has a zero outcomes root', () => {
    const { batch, balances } = buildEpochBatch({ epoch: 0n, tasks: [], previous: new Map(), chargeable: rich, accounts: [bob], treasury, split })
    assert.equal(batch.outcomesRoot, zeroHash)
    assert.equal(batch.taskCount, 0)
    assert.deepEqual([...balances!.entries()].map(([, v]) => v), [[bob, 0n, 0n]])
  })

  it('makes receipts in OpenZeppelin’s standard format: proofs verify with @openzeppelin/merkle-tree', () => {
    const tasks = Array.from({ length: 9 }, (_, i) => task(i, 'verified'))
    const { batch, outcomes, balances } = buildEpochBatch({ epoch: 0n, tasks, previous: new Map(), chargeable: rich, treasury, split })
    for (const t of tasks) {
      const leaf = outcomeLeafOf(t.verdict)
      const proof = outcomes!.getProof(leaf)
      assert.ok(StandardMerkleTree.verify(batch.outcomesRoot, [...outcomeLeafEncoding], leaf, proof))
      // The leaf hash is keccak256(bytes.concat(keccak256(abi.encode(...)))), as in Solidity.
      const encoded = encodeAbiParameters(outcomeLeafEncoding.map((type) => ({ type })), leaf)
      assert.equal(outcomes!.leafHash(leaf), keccak256(concat([keccak256(encoded)])))
      const tampered = [leaf[0], keccak256(stringToBytes('forged')), leaf[2], leaf[3]] as typeof leaf
      assert.ok(!StandardMerkleTree.verify(batch.outcomesRoot, [...outcomeLeafEncoding], tampered, proof))
    }
    const [, aliceLeaf] = [...balances!.entries()].find(([, v]) => v[0] === alice)!
    assert.ok(StandardMerkleTree.verify(batch.balancesRoot, [...balanceLeafEncoding], aliceLeaf, balances!.getProof(aliceLeaf)))
  })
})

describe('buildEpochBatch penalties', () => {
  it('slashes each dissenter per dissent, caps at its stake, jails it, and leaves everyone else alone', () => {
    const liar = testAccount('liar').address
    const lazy = testAccount('lazy').address
    const withDissent = (i: number): SettledTask => {
      const t = task(i, 'verified')
      return { ...t, verdict: { ...t.verdict, executors: [e1, e2], dissenters: [liar] } }
    }
    const rules = {
      stakes: new Map([
        [liar, 1_000n],
        [lazy, 1_000n],
      ]),
      dissentSlashBps: 4_000,
      jailUntilBlock: 500n,
    }
    const one = buildEpochBatch({ epoch: 0n, tasks: [withDissent(1)], previous: new Map(), chargeable: rich, treasury, split, penalties: rules })
    // A node with stake and no dissent (`lazy`: it may have missed deadlines) has no penalty: absence proves nothing.
    assert.deepEqual(one.batch.penalties, [{ node: liar, slashAmount: 400n, jailUntilBlock: 500n }])
    const three = buildEpochBatch({
      epoch: 0n,
      tasks: [withDissent(1), withDissent(2), withDissent(3)],
      previous: new Map(),
      chargeable: rich,
      treasury,
      split,
      penalties: rules,
    })
    assert.equal(three.batch.penalties.find((p) => p.node === liar)?.slashAmount, 1_000n, '3 × 40% is capped at the whole stake')
    // The liar earns nothing for its dissenting reveals.
    assert.equal(three.cumulative.get(liar), undefined)
  })
})

describe('requiredCommitteeWeight', () => {
  it('asks for ⌈2/3⌉ of the signing stake', () => {
    assert.equal(requiredCommitteeWeight(1_000n), 667n)
  })
})
