import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { toEpochView } from '../chain/memory/createStaticChainView.ts'
import { arbitrationSeats, rankTask } from '../core/task.ts'
import { makeSpec, seed, testAccount } from '../../test/helpers/fixtures.ts'
import { createPublicSeats } from './publicSeats.ts'

const nodes = Array.from({ length: 9 }, (_, i) => ({ address: testAccount(`node-${i}`).address, weight: 1000n, runtimes: ['wasm'] }))
const view = toEpochView({ epoch: 0n, seed, nodes })
const taskId = keccak256(stringToBytes('task'))
const draw = keccak256(stringToBytes('draw block'))
const blockHash = (block: bigint) => (block === 1n ? draw : undefined)

describe('createPublicSeats', () => {
  it('gives the first k places of the ranking every node computes, the policy quorum, and the arbiters of a dispute', () => {
    const spec = makeSpec({ policy: { kind: 'replicate', k: 5, quorum: 3 } })
    const seatsOf = createPublicSeats({ specOf: (id) => (id === taskId ? spec : undefined), snapshot: (epoch) => (epoch === 0n ? view : undefined), blockHash })
    const ranking = rankTask({ view, taskId, spec, draw, backups: 3 })
    const arbiters = arbitrationSeats({ view, taskId, spec, draw, count: 193 })
    assert.deepEqual(seatsOf(taskId), { seats: ranking.slice(0, 5), quorum: 3, arbiters, auditPpm: 0 })
    assert.equal(arbiters.length, 193, 'seats drawn by stake with replacement')
  })

  it('names the verifier, the place right after the seats, when the policy audits', () => {
    const spec = makeSpec({ policy: { kind: 'replicate', k: 3, quorum: 2, auditPpm: 100_000 } })
    const seatsOf = createPublicSeats({ specOf: () => spec, snapshot: () => view, blockHash, arbiters: 4 })
    const ranking = rankTask({ view, taskId, spec, draw, backups: 0 })
    const arbiters = arbitrationSeats({ view, taskId, spec, draw, count: 4 })
    assert.deepEqual(seatsOf(taskId), { seats: ranking.slice(0, 3), quorum: 2, verifier: ranking[3], arbiters, auditPpm: 100_000 })
  })

  it('knows nothing of a task whose spec, epoch snapshot or draw block it has not seen', () => {
    const spec = makeSpec({ epoch: 1n })
    assert.equal(createPublicSeats({ specOf: () => undefined, snapshot: () => view, blockHash })(taskId), undefined)
    assert.equal(createPublicSeats({ specOf: () => spec, snapshot: (epoch) => (epoch === 0n ? view : undefined), blockHash })(taskId), undefined)
    // Before its draw block is mined, nobody knows a task's seats: not even a coalition.
    assert.equal(createPublicSeats({ specOf: () => makeSpec({ drawBlock: 2n }), snapshot: () => view, blockHash })(taskId), undefined)
  })
})
