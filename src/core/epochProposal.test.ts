import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes, zeroHash } from 'viem'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { MessageRejectedError } from './errors.ts'
import { balancesRootOf, decodeEpochProposal, encodeEpochProposal, settleProposal } from './epochProposal.ts'
import type { EpochFacts, EpochProposal, EpochSettlement } from './epochProposal.ts'
import type { PrivateKeyAccount } from 'viem/accounts'
import { certify, instantAnchorOf, rankedAs } from '../../test/helpers/certificates.ts'
import { requester } from '../../test/helpers/fixtures.ts'
import { certifyTasks } from './batchCheck.ts'
import type { CertifiedTask } from './batchCheck.ts'
import { devnetDomain } from './eip712.ts'
import { isSignedBy } from './signing.ts'

const [e1, e2, e3] = ['e1', 'e2', 'e3'].map((l) => testAccount(l)) as [PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount]
const alice = requester.address
const treasury = testAccount('treasury').address

async function task(i: number): Promise<CertifiedTask> {
  const resultHash = keccak256(stringToBytes(`result ${i}`))
  const { certificate } = await certify(
    [
      { executor: e1, resultHash },
      { executor: e2, resultHash },
      { executor: e3, resultHash, withhold: true },
    ],
    { nonce: BigInt(i), requester: requester.address },
  )
  const { tasks } = await certifyTasks([certificate], { domain: devnetDomain, verify: isSignedBy, epoch: 0n, rankingOf: rankedAs([e1.address, e2.address, e3.address]), anchorOf: instantAnchorOf })
  return tasks[0]!
}

const facts = (funded: bigint): EpochFacts => ({
  funded: new Map([[alice, funded]]),
  stakes: new Map(),
  jailUntilBlock: 100n,
  treasury,
  split: { executorsBps: 8_000 },
  dissentSlashBps: 1_000,
})

describe('epoch proposals', async () => {
  const tasks = [await task(1), await task(2)]
  const previous = new Map([[alice, { earned: 0n, charged: 500n }]])
  const proposal: EpochProposal = { epoch: 3n, previous, tasks: tasks.map(({ certificate, verdict }) => ({ certificate, verdict })) }
  const settlement: EpochSettlement = { epoch: 3n, previous, tasks }

  it('round-trip through their wire form, bigints and certificates included, each batch seal written once', () => {
    const bytes = encodeEpochProposal(proposal)
    const decoded = decodeEpochProposal(bytes)
    assert.equal(decoded.epoch, 3n)
    assert.deepEqual([...decoded.previous], [...proposal.previous])
    assert.deepEqual(decoded.tasks, proposal.tasks)
    // Items of one batch share its seal after decoding, as before.
    const wire = JSON.parse(new TextDecoder().decode(bytes)) as { seals: unknown[] }
    assert.equal(wire.seals.length, 2 * 2 + 2 * 3, 'a seal per signed batch: 6 commits and 4 reveals, one batch each')
  })

  it('are refused when malformed, with a typed error', () => {
    const bad = (text: string) => assert.throws(() => decodeEpochProposal(new TextEncoder().encode(text)), MessageRejectedError)
    bad('not json')
    bad('{"epoch":"3","previous":[],"tasks":[{"verdict":{}}]}')
    bad('{"epoch":"-1","previous":[],"seals":[],"tasks":[]}')
    // An item naming a seal the proposal does not hold.
    const wire = JSON.parse(new TextDecoder().decode(encodeEpochProposal(proposal))) as { seals: unknown[] }
    bad(JSON.stringify({ ...wire, seals: [] }))
  })

  it('build the batch every member builds: charges capped by what was funded less earlier charges', () => {
    const plenty = settleProposal(settlement, facts(10_000n))
    assert.equal(plenty.batch.totalFees, 2_000n)
    assert.equal(plenty.cumulative.get(alice)?.charged, 2_500n)
    // 1,700 funded, 500 charged before: 1,200 left for 2,000 of fees, scaled down pro rata.
    const short = settleProposal(settlement, facts(1_700n))
    assert.equal(short.batch.totalFees, 1_200n)
    // The root members compare with the chain's is the one the batch itself commits to.
    assert.equal(balancesRootOf(plenty.cumulative), plenty.batch.balancesRoot)
    assert.equal(balancesRootOf(new Map()), zeroHash)
  })
})
