import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { badResult, certify, goodResult, instantAnchorOf, rankedAs } from '../../test/helpers/certificates.ts'
import type { Play } from '../../test/helpers/certificates.ts'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { checkTaskCertificate } from './certificate.ts'
import { devnetDomain } from './eip712.ts'
import { isSignedBy } from './signing.ts'
import { advanceTask, applyCommit, applyReveal, openArbitration, openTask } from './task.ts'

const accounts = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((l) => testAccount(`arbitration-${l}`))
const nodes = accounts.map((x) => x.address)
const timing = { commitWindowMs: 1_000, revealWindowMs: 500 }

/** What one arbiter does: reveal the good or the bad result, or commit and withhold. */
const arbiterPlay = fc.constantFrom('good', 'bad', 'withhold')

describe('arbitration: the node and the certificate check', () => {
  it('reach the same verdict from the same evidence, whatever the seats each node holds and whatever the arbiters do', async () => {
    // One code path in two places: a node's task state decides an arbitration as it happens
    // (`openArbitration`, `decide`), a member checks the certificate of it afterwards
    // (`checkTaskCertificate`). Both must count the same votes: a node that verified what the
    // certificate check calls unresolved (or the other way round) would split the committee.
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()).filter((seats) => new Set(seats).size === 2),
        fc.array(fc.integer({ min: 0, max: nodes.length - 1 }), { minLength: 1, maxLength: 24 }),
        fc.array(arbiterPlay, { minLength: 4, maxLength: 4 }),
        async (seatGood, seatIndexes, plays) => {
          const seats = seatIndexes.map((i) => nodes[i]!)
          const committers = accounts.slice(0, 3)
          const seatPlays: Play[] = committers.map((executor, i) => ({ executor, resultHash: seatGood[i] ? goodResult : badResult }))
          // The arbiters: the seat holders that did not commit, in the order of their first seat.
          const arbiters = [...new Set(seats)].filter((node) => !committers.some((c) => c.address === node))
          const arbiterPlays: Play[] = arbiters.map((node, i) => ({
            executor: accounts[nodes.indexOf(node)]!,
            resultHash: plays[i] === 'good' ? goodResult : badResult,
            withhold: plays[i] === 'withhold',
          }))
          const { certificate, taskId } = await certify(seatPlays, {}, arbiterPlays)

          const checked = await checkTaskCertificate({ certificate, domain: devnetDomain, rankingOf: rankedAs(nodes), anchorOf: instantAnchorOf, arbitrationSeatsOf: () => seats, verify: isSignedBy })
          assert.ok(checked.kind === 'valid', JSON.stringify(checked))

          let s = openTask({ taskId, spec: certificate.spec.message, ranking: nodes, timing, now: 0 })
          for (const commit of certificate.commits) s = applyCommit(s, commit, 1, timing)
          for (const reveal of certificate.reveals) s = applyReveal(s, reveal, 2, timing)
          assert.equal(s.phase, 'dispute')
          s = openArbitration(s, seats, 3, timing)
          for (const commit of certificate.arbitration!.commits) s = applyCommit(s, commit, 4, timing)
          for (const reveal of certificate.arbitration!.reveals) s = applyReveal(s, reveal, 5, timing)
          s = advanceTask(s, 100_000, timing)
          assert.deepEqual(s.verdict, checked.verdict)
          assert.equal(s.quorum, checked.quorum)
        },
      ),
      { numRuns: 40, seed: 20261208 },
    )
  })
})
