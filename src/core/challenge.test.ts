import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { secp256k1 } from '@noble/curves/secp256k1'
import { bytesToHex, hexToBytes, keccak256, numberToHex, stringToBytes } from 'viem'
import { privateKeyToAddress } from 'viem/accounts'
import { auditAlpha, auditDrawOf, createVrfKey, isAudited, signChallenge } from './challenge.ts'
import { devnetDomain, hashChallenge } from './eip712.ts'
import { isSignedBy } from './signing.ts'
import type { Challenge, Hex, SignedChallenge } from './types.ts'
import { secp256k1Sha256Tai } from './vrf.ts'
import { encodeProof, proveWithNonce } from './vrf/ecvrf.ts'

// The attacks on sampling: a verifier grinding its signature for "no audit" (RFC 6979
// extra entropy; the high-s twin and both `v` encodings are accepted by recovery), and anyone
// rebroadcasting a re-encoded copy of an honest challenge to flip the decision. The audit decision
// is now the verifier's VRF output on the challenge: unique for its key, whatever the bytes around it.

const key = keccak256(stringToBytes('challenge-test verifier'))
const verifier = { address: privateKeyToAddress(key), sign: async ({ hash }: { hash: Hex }) => signWith(hash) }
const vrf = createVrfKey(key)
const N = secp256k1.CURVE.n

/** ECDSA over a digest, optionally with RFC 6979 extra entropy: a different valid signature each time. */
function signWith(hash: Hex, extraEntropy?: Uint8Array): Hex {
  const sig = secp256k1.sign(hexToBytes(hash), hexToBytes(key), extraEntropy === undefined ? {} : { extraEntropy })
  return `${bytesToHex(sig.toCompactRawBytes())}${(27 + sig.recovery).toString(16)}` as Hex
}

/** The same signature in the other forms recovery accepts: the high-s twin, and `v` as 0 / 1. */
function reencodings(signature: Hex): Hex[] {
  const r = signature.slice(2, 66)
  const s = BigInt(`0x${signature.slice(66, 130)}`)
  const v = Number.parseInt(signature.slice(130), 16)
  const twin = `0x${r}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` as Hex
  const rawV = `0x${signature.slice(2, 130)}${(v - 27).toString(16).padStart(2, '0')}` as Hex
  return [twin, rawV]
}

describe('audit draws', () => {
  const challenges: Challenge[] = Array.from({ length: 12 }, (_, i) => ({ taskId: keccak256(numberToHex(i, { size: 32 })), commitment: keccak256(numberToHex(1_000 + i, { size: 32 })) }))

  it('cannot be flipped by re-encoding or re-signing the challenge: the decision reads the draw, never the signature', async () => {
    for (const challenge of challenges) {
      const honest = await signChallenge(verifier, vrf, challenge, devnetDomain)
      const draw = auditDrawOf(honest)
      assert.ok(draw !== undefined)
      const digest = hashChallenge(challenge, devnetDomain)
      // Every re-encoding still recovers to the verifier (so gossip would accept it), and decides the same.
      const ground = Array.from({ length: 5 }, (_, i) => signWith(digest, stringToBytes(`grind ${i}`.padEnd(32, '.'))))
      for (const signature of [...reencodings(honest.signature), ...ground]) {
        assert.notEqual(signature, honest.signature)
        assert.equal(await isSignedBy(digest, signature, verifier.address), true)
        const copy: SignedChallenge = { ...honest, signature }
        assert.equal(auditDrawOf(copy), draw)
      }
    }
  })

  it('cannot be ground by the verifier: every proof it can make for a challenge gives the same output', () => {
    for (const challenge of challenges.slice(0, 4)) {
      const draw = auditDrawOf({ message: challenge, signer: verifier.address, draw: { publicKey: vrf.publicKey, ...vrf.prove(auditAlpha(challenge)) } })
      for (const nonce of [7n, 123_456_789n, N - 5n]) {
        // A proof with a nonce of the verifier's choosing: it verifies, with the same output.
        const pi = encodeProof(secp256k1Sha256Tai, proveWithNonce(secp256k1Sha256Tai, BigInt(key), auditAlpha(challenge), nonce))
        const proof = { gamma: bytesToHex(pi.subarray(0, 33)), c: bytesToHex(pi.subarray(33, 49)), s: bytesToHex(pi.subarray(49)) }
        assert.equal(auditDrawOf({ message: challenge, signer: verifier.address, draw: { publicKey: vrf.publicKey, ...proof } }), draw)
      }
    }
  })

  it('belong to the signer and to the challenge: another key’s draw, or a draw on another commitment, proves nothing', () => {
    const [one, two] = challenges as [Challenge, Challenge]
    const other = createVrfKey(keccak256(stringToBytes('challenge-test other')))
    const foreign = { message: one, signer: verifier.address, draw: { publicKey: other.publicKey, ...other.prove(auditAlpha(one)) } }
    assert.equal(auditDrawOf(foreign), undefined)
    const moved = { message: two, signer: verifier.address, draw: { publicKey: vrf.publicKey, ...vrf.prove(auditAlpha(one)) } }
    assert.equal(auditDrawOf(moved), undefined)
    const flipped = { message: one, signer: verifier.address, draw: { publicKey: vrf.publicKey, ...vrf.prove(auditAlpha(one)), s: numberToHex(1n, { size: 32 }) } }
    assert.equal(auditDrawOf(flipped), undefined)
  })

  it('audit at the rate the spec names: output mod 10^6 below ratePpm', () => {
    const low = `0x${'00'.repeat(29)}0f423f` as Hex // 999,999
    assert.equal(isAudited(low, 1_000_000), true)
    assert.equal(isAudited(low, 999_999), false)
    assert.equal(isAudited(`0x${'00'.repeat(32)}`, 1), true)
    assert.equal(isAudited(`0x${'00'.repeat(32)}`, 0), false)
  })
})
