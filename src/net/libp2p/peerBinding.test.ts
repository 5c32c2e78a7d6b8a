import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { zeroAddress } from 'viem'
import { testAccount } from '../../../test/helpers/fixtures.ts'
import { devnetDomain } from '../../core/eip712.ts'
import { isSignedBy } from '../../core/signing.ts'
import { decodePeerBinding, encodePeerBinding, isValidPeerBinding, peerBindingBytes, signPeerBinding } from './peerBinding.ts'

const account = testAccount('binding')
const peerId = '12D3KooWGzh9Bq1J1kH1zF7uRyWcUQ7gQ6pC3pG4h4s3Jm8f5Qm1'

describe('peer binding', () => {
  it('round-trips through its 85-byte wire form and verifies for its peer id only', async () => {
    const binding = await signPeerBinding(account, devnetDomain, peerId)
    const bytes = encodePeerBinding(binding)
    assert.equal(bytes.byteLength, peerBindingBytes)
    assert.deepEqual(decodePeerBinding(bytes), binding)
    assert.equal(await isValidPeerBinding(binding, devnetDomain, peerId, isSignedBy), true)
    assert.equal(await isValidPeerBinding(binding, devnetDomain, `${peerId.slice(0, -1)}2`, isSignedBy), false)
  })

  it('is bound to the protocol domain and to the signing account', async () => {
    const binding = await signPeerBinding(account, devnetDomain, peerId)
    assert.equal(await isValidPeerBinding(binding, { chainId: 1, verifyingContract: zeroAddress }, peerId, isSignedBy), false)
    const claimed = { ...binding, account: testAccount('someone else').address }
    assert.equal(await isValidPeerBinding(claimed, devnetDomain, peerId, isSignedBy), false)
  })

  it('treats malformed input as invalid rather than throwing', async () => {
    assert.equal(decodePeerBinding(new Uint8Array(84)), undefined)
    const zeros = decodePeerBinding(new Uint8Array(peerBindingBytes))!
    assert.equal(await isValidPeerBinding(zeros, devnetDomain, peerId, isSignedBy), false)
  })
})
