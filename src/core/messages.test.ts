import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { makeSpec, requester } from '../../test/helpers/fixtures.ts'
import { devnetDomain } from './eip712.ts'
import { MessageRejectedError } from './errors.ts'
import { decodeMessage, encodeMessage } from './messages.ts'
import { signTaskSpec } from './taskSpec.ts'

const max = 16 * 1024
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
const rejectsWith = (input: Uint8Array, code: string) =>
  assert.throws(() => decodeMessage(input, max), (e: unknown) => e instanceof MessageRejectedError && e.code === code)

describe('wire messages', () => {
  it('round-trips a signed spec, bigints included', async () => {
    const signed = await signTaskSpec(requester, makeSpec({ fee: 2n ** 200n }), devnetDomain)
    const decoded = decodeMessage(encodeMessage({ type: 'spec', ...signed }), max)
    assert.deepEqual(decoded, { type: 'spec', ...signed })
  })

  it('round-trips commits and reveals, normalising hex case and address checksums', () => {
    const taskId = keccak256(stringToBytes('t'))
    const raw = {
      type: 'reveal',
      message: { taskId: taskId.toUpperCase().replace('0X', '0x'), status: 'ok', resultHash: taskId, salt: taskId },
      signer: requester.address.toLowerCase(),
      signature: `0x${'ab'.repeat(65)}`,
    }
    const decoded = decodeMessage(bytes(raw), max)
    assert.equal(decoded.signer, requester.address)
    assert.equal(decoded.type, 'reveal')
    assert.equal((decoded.message as { taskId: string }).taskId, taskId)
  })

  it('rejects oversized, non-JSON, unknown and ill-formed messages with distinct codes', async () => {
    const signed = await signTaskSpec(requester, makeSpec(), devnetDomain)
    const valid = JSON.parse(new TextDecoder().decode(encodeMessage({ type: 'spec', ...signed })))
    rejectsWith(new Uint8Array(max + 1), 'MESSAGE_TOO_LARGE')
    rejectsWith(new Uint8Array([0xff, 0xfe, 0x00]), 'MESSAGE_MALFORMED')
    rejectsWith(new TextEncoder().encode('{"type": "spec",'), 'MESSAGE_MALFORMED')
    rejectsWith(bytes({ ...valid, type: 'gossip-bomb' }), 'MESSAGE_UNKNOWN_TYPE')
    rejectsWith(bytes({ ...valid, extra: 1 }), 'MESSAGE_MALFORMED')
    rejectsWith(bytes({ ...valid, signature: '0x1234' }), 'MESSAGE_MALFORMED')
    rejectsWith(bytes({ ...valid, message: { ...valid.message, nonce: '-1' } }), 'MESSAGE_MALFORMED')
    rejectsWith(bytes({ ...valid, message: { ...valid.message, nonce: (2n ** 64n).toString() } }), 'MESSAGE_MALFORMED')
    rejectsWith(bytes({ ...valid, message: { ...valid.message, program: '0xabc' } }), 'MESSAGE_MALFORMED')
    rejectsWith(bytes({ ...valid, message: { ...valid.message, policy: { kind: 'replicate', k: 1.5, quorum: 1 } } }), 'MESSAGE_MALFORMED')
    rejectsWith(bytes(null), 'MESSAGE_MALFORMED')
  })
})
