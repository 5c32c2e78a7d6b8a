import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeAbiParameters, getAddress, keccak256, numberToHex } from 'viem'
import { computeCommitment } from './commit.ts'

const hex32 = (i: number) => keccak256(numberToHex(i, { size: 32 }))

describe('computeCommitment', () => {
  it('is keccak256(abi.encode(taskId, status, resultHash, salt, executor)), as the contracts compute it', () => {
    for (const [i, status] of [[1, 'ok'], [2, 'failed']] as const) {
      const params = { taskId: hex32(i), status, resultHash: hex32(i + 10), salt: hex32(i + 20), executor: getAddress(hex32(i + 30).slice(0, 42)) }
      const want = keccak256(
        encodeAbiParameters(
          [{ type: 'bytes32' }, { type: 'uint8' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'address' }],
          [params.taskId, status === 'ok' ? 0 : 1, params.resultHash, params.salt, params.executor],
        ),
      )
      assert.equal(computeCommitment(params), want)
    }
  })

  it('throws on a malformed id instead of committing to something else', () => {
    assert.throws(() => computeCommitment({ taskId: '0x12', status: 'ok', resultHash: hex32(1), salt: hex32(2), executor: getAddress(hex32(3).slice(0, 42)) }), TypeError)
  })
})
