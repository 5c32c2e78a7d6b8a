import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes, zeroHash } from 'viem'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { findBatchObjection } from './batchCheck.ts'
import type { ObservedReveal, SettledTask } from './epochBatch.ts'
import type { Address } from './types.ts'

const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((l) => testAccount(l).address) as [Address, Address, Address, Address]
const requester = testAccount('requester').address
const good = keccak256(stringToBytes('good'))
const bad = keccak256(stringToBytes('bad'))
const taskId = keccak256(stringToBytes('task'))

const seen = (executor: Address, resultHash = good): ObservedReveal => ({ executor, status: 'ok', resultHash })

function settled(executors: Address[], dissenters: Address[], reveals: ObservedReveal[], outcome: 'verified' | 'unresolved' = 'verified'): SettledTask {
  return {
    requester,
    fee: 100n,
    quorum: 2,
    reveals,
    verdict: { taskId, outcome, resultHash: outcome === 'verified' ? good : zeroHash, executors, dissenters },
  }
}

describe('findBatchObjection', () => {
  const mine = [settled([a, b], [], [seen(a), seen(b), seen(c, bad)])]

  it('accepts the aggregator’s outcome when signed reveals back every executor and dissenter', () => {
    assert.equal(findBatchObjection([settled([a, b], [c], [])], mine), null)
    // Even if the member's own state machine decided otherwise (a commit it saw too late).
    assert.equal(findBatchObjection([settled([a, b], [], [])], [settled([], [], [seen(a), seen(b)], 'unresolved')]), null)
    assert.equal(findBatchObjection([settled([], [], [], 'unresolved')], mine), null)
  })

  it('objects to executors or dissenters it has no signed reveal for, and to a winner below quorum', () => {
    assert.deepEqual(findBatchObjection([settled([a, d], [], [])], mine), { taskId, reason: 'no-evidence' })
    assert.deepEqual(findBatchObjection([settled([a, b], [d], [])], mine), { taskId, reason: 'dissent-without-evidence' })
    // Claiming an honest executor dissented, when it revealed the winning result.
    assert.deepEqual(findBatchObjection([settled([a], [b], [])], mine), { taskId, reason: 'below-quorum' })
    assert.deepEqual(findBatchObjection([settled([a, c], [], [])], mine), { taskId, reason: 'no-evidence' })
  })

  it('objects to unknown, missing and altered tasks, but not to omitting one that crossed the epoch boundary', () => {
    const other = { ...settled([a, b], [], []), verdict: { ...mine[0]!.verdict, taskId: keccak256(stringToBytes('x')) } }
    assert.equal(findBatchObjection([other], mine)?.reason, 'unknown-task')
    assert.equal(findBatchObjection([], mine)?.reason, 'missing-task')
    // A task accepted after the epoch ended may be left unsettled rather than stall the epoch.
    assert.equal(findBatchObjection([], mine, (id) => id === taskId), null)
    assert.equal(findBatchObjection([{ ...settled([a, b], [], []), fee: 1_000n }], mine)?.reason, 'terms-differ')
  })
})
