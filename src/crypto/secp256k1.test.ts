import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, numberToHex, stringToBytes } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { isSignedBy } from '../core/signing.ts'
import { createNativeSigner, createNativeVerifier, verifyNative } from './secp256k1.ts'

const key = keccak256(stringToBytes('native-test-key'))
const viemAccount = privateKeyToAccount(key)
const native = createNativeSigner(key)

describe('native secp256k1', () => {
  it('derives the same address and makes byte-identical signatures to viem', async () => {
    assert.equal(native.address, viemAccount.address)
    for (let i = 0; i < 20; i++) {
      const hash = keccak256(numberToHex(i))
      assert.equal(await native.sign({ hash }), await viemAccount.sign({ hash }))
    }
  })

  it('agrees with viem on valid, wrong-signer, tampered and malformed signatures', async () => {
    const hash = keccak256(stringToBytes('digest'))
    const other = privateKeyToAccount(keccak256(stringToBytes('other'))).address
    const signature = await native.sign({ hash })
    const flipped = `${signature.slice(0, 20)}${signature[20] === '0' ? '1' : '0'}${signature.slice(21)}` as `0x${string}`
    const cases: Array<[`0x${string}`, `0x${string}`, `0x${string}`]> = [
      [hash, signature, native.address],
      [hash, signature, other],
      [keccak256(stringToBytes('other digest')), signature, native.address],
      [hash, flipped, native.address],
      [hash, `0x${'00'.repeat(65)}`, native.address],
      [hash, '0x1234', native.address],
      [hash, `${signature.slice(0, 130)}1f` as `0x${string}`, native.address],
    ]
    for (const [digest, sig, expected] of cases) {
      assert.equal(await verifyNative(digest, sig, expected), await isSignedBy(digest, sig, expected), `${sig} by ${expected}`)
    }
    assert.equal(await verifyNative(hash, signature, native.address), true)
  })

  it('answers the same from its cache as by recovery, for any expected signer, and stays bounded', async () => {
    const hash = keccak256(stringToBytes('cached digest'))
    const other = privateKeyToAccount(keccak256(stringToBytes('other'))).address
    const signature = await native.sign({ hash })
    const malformed = `${signature.slice(0, 130)}1f` as `0x${string}`
    const cached = createNativeVerifier({ cacheSize: 2 })
    const uncached = createNativeVerifier({ cacheSize: 0 })
    for (let round = 0; round < 2; round++) {
      for (const [sig, expected] of [[signature, native.address], [signature, other], [malformed, native.address], [signature.toUpperCase().replace('0X', '0x'), native.address]] as const) {
        assert.equal(await cached(hash, sig as `0x${string}`, expected), await uncached(hash, sig as `0x${string}`, expected), `${sig} by ${expected}, round ${round}`)
      }
    }
    // More distinct signatures than the cache holds: old entries leave, answers stay right.
    for (let i = 0; i < 5; i++) {
      const digest = keccak256(numberToHex(1000 + i))
      assert.equal(await cached(digest, await native.sign({ hash: digest }), native.address), true)
    }
    assert.equal(await cached(hash, signature, other), false)
    assert.equal(await cached(hash, signature, native.address), true)
  })
})
