import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, numberToHex, stringToBytes, zeroHash } from 'viem'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { MessageRejectedError } from './errors.ts'
import { balancesRootOf, decodeEpochProposal, encodeEpochProposal, settleProposal } from './epochProposal.ts'
import type { EpochFacts, EpochProposal } from './epochProposal.ts'
import type { SettledTask } from './epochBatch.ts'
import type { Address } from './types.ts'

const [e1, e2, e3] = ['e1', 'e2', 'e3'].map((l) => testAccount(l).address) as [Address, Address, Address]
const alice = testAccount('alice').address
const treasury = testAccount('treasury').address

function task(i: number): SettledTask {
  const resultHash = keccak256(stringToBytes(`result ${i}`))
  return {
    requester: alice,
    fee: 1_000n,
    quorum: 2,
    missed: [e3],
    reveals: [
      { executor: e1, status: 'ok', resultHash },
      { executor: e2, status: 'ok', resultHash },
    ],
    verdict: { taskId: keccak256(numberToHex(i, { size: 32 })), outcome: 'verified', resultHash, executors: [e1, e2], dissenters: [] },
  }
}

const facts = (funded: bigint): EpochFacts => ({
  funded: new Map([[alice, funded]]),
  stakes: new Map(),
  jailUntilBlock: 100n,
  treasury,
  split: { executorsBps: 8_000 },
  dissentSlashBps: 1_000,
})

describe('epoch proposals', () => {
  const proposal: EpochProposal = { epoch: 3n, previous: new Map([[alice, { earned: 0n, charged: 500n }]]), tasks: [task(1), task(2)] }

  it('round-trip through their wire form, bigints and evidence included', () => {
    const decoded = decodeEpochProposal(encodeEpochProposal(proposal))
    assert.equal(decoded.epoch, 3n)
    assert.deepEqual([...decoded.previous], [...proposal.previous])
    assert.deepEqual(decoded.tasks, proposal.tasks)
  })

  it('are refused when malformed, with a typed error', () => {
    const bad = (text: string) => assert.throws(() => decodeEpochProposal(new TextEncoder().encode(text)), MessageRejectedError)
    bad('not json')
    bad('{"epoch":"3","previous":[],"tasks":[{"verdict":{}}]}')
    bad('{"epoch":"-1","previous":[],"tasks":[]}')
  })

  it('build the batch every member builds: charges capped by what was funded less earlier charges', () => {
    const plenty = settleProposal(proposal, facts(10_000n))
    assert.equal(plenty.batch.totalFees, 2_000n)
    assert.equal(plenty.cumulative.get(alice)?.charged, 2_500n)
    // 1,700 funded, 500 charged before: 1,200 left for 2,000 of fees, scaled down pro rata.
    const short = settleProposal(proposal, facts(1_700n))
    assert.equal(short.batch.totalFees, 1_200n)
    // The root members compare with the chain's is the one the batch itself commits to.
    assert.equal(balancesRootOf(plenty.cumulative), plenty.batch.balancesRoot)
    assert.equal(balancesRootOf(new Map()), zeroHash)
  })
})
