import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { makeSpec, requester } from '../../test/helpers/fixtures.ts'
import { devnetDomain } from './eip712.ts'
import { MessageRejectedError } from './errors.ts'
import { MAX_BATCH_ITEMS, decodeMessage, encodeMessage } from './messages.ts'
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
      type: 'reveals',
      message: { reveals: [{ taskId: taskId.toUpperCase().replace('0X', '0x'), status: 'ok', resultHash: taskId, salt: taskId }] },
      signer: requester.address.toLowerCase(),
      signature: `0x${'ab'.repeat(65)}`,
    }
    const decoded = decodeMessage(bytes(raw), max)
    assert.equal(decoded.signer, requester.address)
    assert.equal(decoded.type, 'reveals')
    assert.equal(decoded.type === 'reveals' && decoded.message.reveals[0]!.taskId, taskId)
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

  it('takes batches of 1 to MAX_BATCH_ITEMS commits or reveals, and refuses empty or larger ones', () => {
    const taskId = keccak256(stringToBytes('t'))
    const batch = (n: number) => ({
      type: 'commits',
      message: { commits: Array.from({ length: n }, () => ({ taskId, commitment: taskId })) },
      signer: requester.address,
      signature: `0x${'ab'.repeat(65)}`,
    })
    const decoded = decodeMessage(bytes(batch(MAX_BATCH_ITEMS)), max)
    assert.equal(decoded.type === 'commits' && decoded.message.commits.length, MAX_BATCH_ITEMS)
    rejectsWith(bytes(batch(0)), 'MESSAGE_MALFORMED')
    rejectsWith(bytes(batch(MAX_BATCH_ITEMS + 1)), 'MESSAGE_MALFORMED')
    // A full batch of reveals fits the default message limit.
    const reveals = {
      type: 'reveals',
      message: { reveals: Array.from({ length: MAX_BATCH_ITEMS }, () => ({ taskId, status: 'failed', resultHash: taskId, salt: taskId })) },
      signer: requester.address,
      signature: `0x${'ab'.repeat(65)}`,
    }
    assert.equal(decodeMessage(bytes(reveals), max).type, 'reveals')
  })
})

describe('settlement messages', () => {
  it('round-trip a member’s evidence and vouch, and refuse a vouch bitmap that is empty, odd or too long', () => {
    const id = keccak256(stringToBytes('a blob'))
    const signature = `0x${'ab'.repeat(65)}` as const
    const evidence = { type: 'evidence' as const, message: { epoch: 3n, round: 2, tasks: id }, signer: requester.address, signature }
    assert.deepEqual(decodeMessage(encodeMessage(evidence), max), evidence)
    const vouch = { type: 'vouch' as const, message: { epoch: 3n, round: 2, digest: id, seated: id, tasks: '0x8105' as const }, signer: requester.address, signature }
    assert.deepEqual(decodeMessage(encodeMessage(vouch), max), vouch)
    const raw = JSON.parse(new TextDecoder().decode(encodeMessage(vouch)))
    for (const tasks of ['0x', '0x810', `0x${'ff'.repeat(1537)}`]) rejectsWith(bytes({ ...raw, message: { ...raw.message, tasks } }), 'MESSAGE_MALFORMED')
  })
})
