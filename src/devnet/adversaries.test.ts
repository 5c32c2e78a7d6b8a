import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import type { Address, Hex } from '../core/types.ts'
import type { ExecutionRequest, Runtime } from '../ports/runtime.ts'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { castBehaviours } from './adversaries.ts'
import type { TaskSeats } from './publicSeats.ts'

const [a, b, c, h1, h2] = ['a', 'b', 'c', 'h1', 'h2'].map((label) => testAccount(label).address) as [Address, Address, Address, Address, Address]
const truth = new Uint8Array([42])
const honest: Runtime = { name: 'wasm', execute: async () => ({ status: 'ok', output: truth, fuelUsed: 1n }), close: async () => {} }
const task = (label: string): Hex => keccak256(stringToBytes(label))
/** Seats by task: the coalition {a, b, c} holds all, two (a quorum) or one of them. */
const seats = new Map<Hex, TaskSeats>([
  [task('all'), { seats: [b, a, c], quorum: 2 }],
  [task('quorum'), { seats: [h1, c, a], quorum: 2 }],
  [task('one'), { seats: [h1, a, h2], quorum: 2 }],
])
const request = (taskId?: Hex): ExecutionRequest => ({
  programId: task('program'),
  program: new Uint8Array(0),
  input: new Uint8Array([1, 2, 3]),
  limits: { fuel: 10n, memoryPages: 1, outputBytes: 64 },
  ...(taskId === undefined ? {} : { taskId }),
})

async function outputs(behaviour: 'strategic-colluder' | 'quorum-colluder'): Promise<Record<string, string[]>> {
  const cast = castBehaviours({
    behaviours: ['honest', 'honest', behaviour, behaviour, behaviour],
    seed: 'unit',
    commitWindowMs: 1_000,
    addresses: [h1, h2, a, b, c],
    seatsOf: (id) => seats.get(id),
  })
  const result: Record<string, string[]> = {}
  for (const label of ['all', 'quorum', 'one', 'unknown', 'no task id']) {
    const id = label === 'no task id' ? undefined : task(label)
    result[label] = await Promise.all(
      [2, 3, 4].map(async (i) => {
        const r = await cast.wrap(i, honest).execute(request(id))
        return r.status === 'ok' ? (r.output === truth ? 'true' : Buffer.from(r.output).toString('hex')) : 'failed'
      }),
    )
  }
  return result
}

describe('coalitions that rank the public seats', () => {
  it('a strategic colluder lies, all with one answer, only where the coalition holds every seat', async () => {
    const out = await outputs('strategic-colluder')
    assert.notEqual(out.all![0], 'true')
    assert.ok(out.all!.every((o) => o === out.all![0]), 'the coalition agrees on its lie')
    for (const label of ['quorum', 'one', 'unknown', 'no task id']) assert.deepEqual(out[label], ['true', 'true', 'true'], label)
  })

  it('a quorum colluder lies wherever the coalition holds a quorum of the seats', async () => {
    const out = await outputs('quorum-colluder')
    for (const label of ['all', 'quorum']) {
      assert.notEqual(out[label]![0], 'true', label)
      assert.ok(out[label]!.every((o) => o === out[label]![0]), `${label}: the coalition agrees on its lie`)
    }
    for (const label of ['one', 'unknown', 'no task id']) assert.deepEqual(out[label], ['true', 'true', 'true'], label)
  })
})
