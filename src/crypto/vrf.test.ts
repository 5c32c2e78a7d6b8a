import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, numberToHex, stringToBytes, toBytes } from 'viem'
import { proveVrf, verifyVrf } from '../core/vrf.ts'
import type { VrfProof } from '../core/vrf.ts'
import { createVrfKey } from '../core/challenge.ts'
import { createCachedVrfVerifier, createNativeVrfKey, proveVrfNative, verifyVrfNative } from './vrf.ts'

// The native backend must be the pure implementation, byte for byte: same proofs, same outputs,
// same refusals.

const keys = Array.from({ length: 8 }, (_, i) => keccak256(stringToBytes(`native vrf key ${i}`)))
const alphas = [new Uint8Array(0), stringToBytes('sample'), toBytes(keccak256(numberToHex(7))), new Uint8Array(300).fill(9)]

describe('ECVRF on libsecp256k1', () => {
  it('proves exactly what the pure implementation proves, and both verify it to the same output', () => {
    for (const key of keys) {
      const native = createNativeVrfKey(key)
      assert.equal(native.publicKey, createVrfKey(key).publicKey)
      for (const alpha of alphas) {
        const proof = proveVrfNative(key, alpha)
        assert.deepEqual(proof, proveVrf(key, alpha))
        const pure = verifyVrf(native.publicKey, alpha, proof)
        assert.ok(pure.valid)
        assert.deepEqual(verifyVrfNative(native.publicKey, alpha, proof), pure)
      }
    }
  })

  it('refuses what the pure implementation refuses, with the same reason', () => {
    const key = keys[0]!
    const { publicKey } = createVrfKey(key)
    const alpha = alphas[1]!
    const proof = proveVrf(key, alpha)
    const flip = (hex: `0x${string}`, at: number) => `${hex.slice(0, at)}${hex[at] === '0' ? '1' : '0'}${hex.slice(at + 1)}` as `0x${string}`
    const cases: Array<[string, `0x${string}`, Uint8Array, VrfProof]> = [
      ['another alpha', publicKey, alphas[2]!, proof],
      ['another key', createVrfKey(keys[1]!).publicKey, alpha, proof],
      ['a changed c', publicKey, alpha, { ...proof, c: flip(proof.c, 10) }],
      ['a changed s', publicKey, alpha, { ...proof, s: flip(proof.s, 20) }],
      ['a changed gamma', publicKey, alpha, { ...proof, gamma: flip(proof.gamma, 30) }],
      ['s = n', publicKey, alpha, { ...proof, s: '0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141' }],
      ['uppercase s', publicKey, alpha, { ...proof, s: proof.s.toUpperCase().replace('0X', '0x') as `0x${string}` }],
      ['a short c', publicKey, alpha, { ...proof, c: proof.c.slice(0, -2) as `0x${string}` }],
      ['an uncompressed gamma tag', publicKey, alpha, { ...proof, gamma: `0x04${proof.gamma.slice(4)}` }],
      ['a hybrid key tag', `0x06${'00'.repeat(64)}`, alpha, proof],
      ['a key off the curve', `0x02${'ff'.repeat(32)}`, alpha, proof],
    ]
    for (const [what, pk, a, p] of cases) {
      const pure = verifyVrf(pk, a, p)
      assert.equal(pure.valid, false, what)
      assert.deepEqual(verifyVrfNative(pk, a, p), pure, what)
    }
  })

  it('a cached verifier answers as the check does, and checks each draw once', () => {
    let checks = 0
    const cached = createCachedVrfVerifier({
      cacheSize: 2,
      verify: (publicKey, alpha, proof) => {
        checks++
        return verifyVrfNative(publicKey, alpha, proof)
      },
    })
    const key = keys[2]!
    const { publicKey } = createVrfKey(key)
    const proof = proveVrf(key, alphas[1]!)
    const tampered = { ...proof, s: `0x${(BigInt(proof.s) ^ 1n).toString(16).padStart(64, '0')}` as `0x${string}` }
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(cached(publicKey, alphas[1]!, proof), verifyVrfNative(publicKey, alphas[1]!, proof))
      assert.deepEqual(cached(publicKey, alphas[1]!, tampered), { valid: false, reason: 'VRF_INVALID' })
    }
    assert.equal(checks, 2, 'each distinct draw checked once')
    // The same proof for another alpha is another draw, refused; the cache keeps only the newest two.
    assert.equal(cached(publicKey, alphas[2]!, proof).valid, false)
    assert.equal(cached(publicKey, alphas[1]!, proof).valid, true)
    assert.equal(checks, 4, 'the oldest entry was dropped for the third draw')
    // A proof that is not made of strings is checked, and refused, every time.
    const malformed = { gamma: 1, c: proof.c, s: proof.s } as unknown as typeof proof
    assert.equal(cached(publicKey, alphas[1]!, malformed).valid, false)
    assert.equal(cached(publicKey, alphas[1]!, malformed).valid, false)
    assert.equal(checks, 6)
  })
})
