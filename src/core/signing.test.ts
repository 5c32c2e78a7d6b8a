import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { isCanonicalSignature, isSignedBy, SECP256K1_HALF_ORDER } from './signing.ts'

const N = SECP256K1_HALF_ORDER * 2n + 1n

describe('isCanonicalSignature', () => {
  it('accepts what ECDSA.recover accepts and refuses the mirror forms recovery also takes', async () => {
    const account = testAccount('canonical')
    const digest = keccak256(stringToBytes('a batch'))
    const signature = await account.sign({ hash: digest })
    assert.equal(isCanonicalSignature(signature), true)
    // s → n − s with v flipped: the same signer recovers, the contract reverts.
    const s = BigInt(`0x${signature.slice(66, 130)}`)
    const v = Number.parseInt(signature.slice(130), 16)
    const mirror = `${signature.slice(0, 66)}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` as `0x${string}`
    assert.equal(await isSignedBy(digest, mirror, account.address), true, 'recovery takes the mirror form')
    assert.equal(isCanonicalSignature(mirror), false)
    const zeroV = `${signature.slice(0, 130)}${(v - 27).toString(16).padStart(2, '0')}` as `0x${string}`
    assert.equal(isCanonicalSignature(zeroV), false)
    assert.equal(isCanonicalSignature('0x1234'), false)
  })
})
