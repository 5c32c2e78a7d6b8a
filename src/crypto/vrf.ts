import secp256k1 from 'secp256k1'
import { bytesToHex, hexToBytes } from 'viem'
import type { Hex } from 'viem'
import type { VrfKey, VrfVerifier } from '../core/challenge.ts'
import { secp256k1Sha256Tai } from '../core/vrf.ts'
import type { VerifyVrfReturnType, VrfProof } from '../core/vrf.ts'
import { CHALLENGE_FRONT, ENCODE_TO_CURVE_FRONT, hashParts, PROOF_TO_HASH_FRONT } from '../core/vrf/ecvrf.ts'
import { bigIntToBytes, bytesToBigInt, rfc6979Nonce } from '../core/vrf/rfc6979.ts'

// ECVRF-SECP256K1-SHA256-TAI (src/core/vrf.ts) with its point arithmetic in libsecp256k1 (the
// `secp256k1` package, as for ECDSA): the same proofs and outputs, byte for byte, as the pure
// implementation (tested against it), at a fraction of the cost. The hashing and the nonce are the
// core's own functions; only multiplication and addition of points come from the library.

const suite = secp256k1Sha256Tai
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const C_LENGTH = suite.challengeLength

const scalar = (value: bigint): Uint8Array => bigIntToBytes(value, 32)

/** encode_to_curve, try and increment: the first hash that is the x of a point (with even y). */
function encodeToCurve(salt: Uint8Array, alpha: Uint8Array): Uint8Array | undefined {
  const candidate = new Uint8Array(33)
  candidate[0] = 0x02
  for (let ctr = 0; ctr < 256; ctr++) {
    candidate.set(hashParts(suite, ENCODE_TO_CURVE_FRONT, [salt, alpha, Uint8Array.of(ctr)]).subarray(0, 32), 1)
    if (secp256k1.publicKeyVerify(candidate)) return candidate.slice()
  }
  return undefined
}

const challengeOf = (points: Uint8Array[]): bigint => bytesToBigInt(hashParts(suite, CHALLENGE_FRONT, points).subarray(0, C_LENGTH))

/** a·P − b·Q for points P, Q and scalars a, b in [1, q); undefined at infinity. */
function difference(p: Uint8Array, a: bigint, q: Uint8Array, b: bigint): Uint8Array | undefined {
  try {
    const left = secp256k1.publicKeyTweakMul(p, scalar(a), true)
    const right = secp256k1.publicKeyNegate(secp256k1.publicKeyTweakMul(q, scalar(b), true), true)
    return secp256k1.publicKeyCombine([left, right], true)
  } catch {
    return undefined
  }
}

const G = secp256k1.publicKeyCreate(scalar(1n), true)

export interface CreateCachedVrfVerifierParameters {
  /** Draws whose outcome is remembered (oldest out first). Default 2048. */
  cacheSize?: number
  verify?: VrfVerifier
}

/**
 * `verifyVrfNative` that remembers the outcome of its last `cacheSize` checks, as
 * `createNativeVerifier` remembers signers: a check is a pure function of (key, alpha, proof), so a
 * hit answers exactly as a check would. Nodes that share a process (the in-process devnet, the
 * simulator) then check each challenge's audit draw once instead of once per node.
 */
export function createCachedVrfVerifier({ cacheSize = 2048, verify = verifyVrfNative }: CreateCachedVrfVerifierParameters = {}): VrfVerifier {
  const outcomes = new Map<string, VerifyVrfReturnType>()
  return (publicKey, alpha, proof) => {
    // Only well-typed inputs have a key; anything else is checked (and refused) every time.
    if (typeof publicKey !== 'string' || ![proof.gamma, proof.c, proof.s].every((part) => typeof part === 'string')) return verify(publicKey, alpha, proof)
    const key = `${publicKey}/${bytesToHex(alpha)}/${proof.gamma}/${proof.c}/${proof.s}`
    let outcome = outcomes.get(key)
    if (outcome === undefined) {
      outcome = verify(publicKey, alpha, proof)
      if (outcomes.size >= cacheSize) outcomes.delete(outcomes.keys().next().value as string)
      outcomes.set(key, outcome)
    }
    return outcome
  }
}

/** ECVRF_verify with libsecp256k1: the same outcome as `verifyVrf` (src/core/vrf.ts) for the secp256k1 suite. */
export function verifyVrfNative(publicKey: Hex, alpha: Uint8Array, proof: VrfProof): VerifyVrfReturnType {
  // Canonical SEC1 only, as the pure check takes it: 33 bytes tagged 02/03, or 65 tagged 04.
  if (typeof publicKey !== 'string' || (publicKey.length !== 68 && publicKey.length !== 132) || !/^0x[0-9a-fA-F]*$/.test(publicKey)) {
    return { valid: false, reason: 'VRF_BAD_KEY' }
  }
  const bytes = hexToBytes(publicKey)
  const tagged = bytes.length === 33 ? bytes[0] === 0x02 || bytes[0] === 0x03 : bytes[0] === 0x04
  if (!tagged || !secp256k1.publicKeyVerify(bytes)) return { valid: false, reason: 'VRF_BAD_KEY' }
  const key = secp256k1.publicKeyConvert(bytes, true)
  const lowerHex = (hex: unknown, length: number) => typeof hex === 'string' && hex.length === 2 + 2 * length && /^0x[0-9a-f]*$/.test(hex)
  if (!lowerHex(proof.gamma, 33) || !lowerHex(proof.c, C_LENGTH) || !lowerHex(proof.s, 32)) return { valid: false, reason: 'VRF_BAD_ENCODING' }
  const gamma = hexToBytes(proof.gamma)
  const s = BigInt(proof.s)
  const c = BigInt(proof.c)
  if ((gamma[0] !== 0x02 && gamma[0] !== 0x03) || !secp256k1.publicKeyVerify(gamma) || s >= N) return { valid: false, reason: 'VRF_BAD_ENCODING' }
  const h = encodeToCurve(key, alpha)
  // s = 0 or c = 0 never come out of an honest prover (they need k = 0 or a 2^-128 hash).
  if (h === undefined || s === 0n || c === 0n) return { valid: false, reason: 'VRF_INVALID' }
  const u = difference(G, s, key, c)
  const v = difference(h, s, gamma, c)
  if (u === undefined || v === undefined || challengeOf([key, h, gamma, u, v]) !== c) return { valid: false, reason: 'VRF_INVALID' }
  return { valid: true, beta: bytesToHex(hashParts(suite, PROOF_TO_HASH_FRONT, [gamma])) }
}

/** ECVRF_prove with libsecp256k1: the same proof as `proveVrf` (src/core/vrf.ts), RFC 6979 nonce included. */
export function proveVrfNative(privateKey: Hex, alpha: Uint8Array): VrfProof {
  const secret = hexToBytes(privateKey)
  if (secret.length !== 32 || !secp256k1.privateKeyVerify(secret)) throw new RangeError('invalid secp256k1 private key')
  const x = bytesToBigInt(secret)
  const key = secp256k1.publicKeyCreate(secret, true)
  const h = encodeToCurve(key, alpha)
  if (h === undefined) throw new RangeError('ECVRF encode_to_curve found no point in 256 tries')
  const gamma = secp256k1.publicKeyTweakMul(h, secret, true)
  const k = rfc6979Nonce(suite.hash, N, x, h)
  const c = challengeOf([key, h, gamma, secp256k1.publicKeyCreate(scalar(k), true), secp256k1.publicKeyTweakMul(h, scalar(k), true)])
  const s = (k + c * x) % N
  return { gamma: bytesToHex(gamma), c: bytesToHex(bigIntToBytes(c, C_LENGTH)), s: bytesToHex(scalar(s)) }
}

/** A node's VRF key over libsecp256k1 (`createVrfKey` with the native prover). */
export function createNativeVrfKey(privateKey: Hex): VrfKey {
  const publicKey = bytesToHex(secp256k1.publicKeyCreate(hexToBytes(privateKey), true))
  return { publicKey, prove: (alpha) => proveVrfNative(privateKey, alpha) }
}
