import { p256 } from '@noble/curves/nist'
import { secp256k1 } from '@noble/curves/secp256k1'
import { sha256 } from '@noble/hashes/sha2'
import { bytesToHex, getAddress, hexToBytes } from 'viem'
import { keccak256Bytes } from './keccak.ts'
import type { Address, Hex } from './types.ts'
import { bytesToPoint, encodeProof, pointLength, proofToHash, proveWithNonce, scalarLength, verifyDecoded, VrfError } from './vrf/ecvrf.ts'
import type { DecodedVrfProof, VrfPoint, VrfSuite } from './vrf/ecvrf.ts'
import { bytesToBigInt } from './vrf/rfc6979.ts'

/**
 * Verifiable random function: ECVRF of RFC 9381 with the try-and-increment (TAI) encode-to-curve,
 * the RFC 6979 nonce and SEC1 compressed points.
 *
 * - `p256Sha256Tai` is RFC 9381's ECVRF-P256-SHA256-TAI (suite_string 0x01), checked against the
 *   RFC's Appendix B.1 vectors.
 * - `secp256k1Sha256Tai` (the default) is the same construction on secp256k1 with SHA-256 and
 *   suite_string 0xFE, the "ECVRF-SECP256K1-SHA256-TAI" suite used in Ethereum VRF work (e.g.
 *   vrf-rs). RFC 9381 does not name a secp256k1 suite; this is its TAI construction with the
 *   curve swapped, nothing more.
 *
 * A proof pi = Gamma || c || s: Gamma a 33-byte compressed point, c 16 bytes, s 32 bytes (81 bytes
 * in all). It is carried as `VrfProof`, the three parts in lowercase hex; `encodeVrfProof` /
 * `decodeVrfProof` convert to and from the RFC's pi string.
 *
 * Uniqueness. The output beta = Hash(suite || 0x03 || Gamma || 0x00) depends on Gamma alone, and
 * Gamma = x * H(pk, alpha) is fixed by the key and alpha: every proof that verifies for a key and
 * alpha gives the same beta. The proof itself is not unique: c and s depend on the nonce k, and a
 * verifier cannot tell the RFC 6979 nonce (which makes `proveVrf` deterministic) from any other.
 * What the verifier does pin is the encoding: Gamma must be the canonical compressed point, s < q
 * and every field exactly its length, so one (Gamma, c, s) has exactly one accepted encoding.
 * Compare or deduplicate by beta, not by proof bytes.
 */

export type { VrfErrorCode, VrfSuite } from './vrf/ecvrf.ts'
export { VrfError }

/** A proof, as lowercase hex: gamma (ptLen = 33 bytes), c (cLen = 16), s (qLen = 32). */
export interface VrfProof {
  gamma: Hex
  c: Hex
  s: Hex
}

/**
 * Why a proof does not verify.
 * - `VRF_BAD_KEY`: the public key is not a 33-byte compressed or 65-byte uncompressed point on the
 *   curve in canonical form.
 * - `VRF_BAD_ENCODING`: a proof field is not lowercase hex of its length, gamma is not a canonical
 *   compressed point on the curve, or s ≥ q.
 * - `VRF_INVALID`: well formed, but not a proof for this key and alpha.
 */
export type VrfRejectionCode = 'VRF_BAD_KEY' | 'VRF_BAD_ENCODING' | 'VRF_INVALID'

export type VerifyVrfReturnType = { valid: true; beta: Hex } | { valid: false; reason: VrfRejectionCode }

/** ECVRF-SECP256K1-SHA256-TAI: RFC 9381's TAI construction on secp256k1, suite_string 0xFE. */
export const secp256k1Sha256Tai: VrfSuite = {
  name: 'ECVRF-SECP256K1-SHA256-TAI',
  suiteString: 0xfe,
  curve: secp256k1,
  hash: sha256,
  challengeLength: 16,
}

/** ECVRF-P256-SHA256-TAI, RFC 9381 section 5.5, suite_string 0x01. */
export const p256Sha256Tai: VrfSuite = {
  name: 'ECVRF-P256-SHA256-TAI',
  suiteString: 0x01,
  curve: p256,
  hash: sha256,
  challengeLength: 16,
}

/** `length` bytes of 0x-prefixed hex, or `undefined`. Proof fields must be lowercase. */
function parseHex(value: unknown, length: number, anyCase = false): Uint8Array | undefined {
  if (typeof value !== 'string' || value.length !== 2 + 2 * length) return undefined
  if (!(anyCase ? /^0x[0-9a-fA-F]*$/ : /^0x[0-9a-f]*$/).test(value)) return undefined
  return hexToBytes(value as Hex)
}

/** A public key as a point: canonical SEC1, compressed or uncompressed, not the identity. */
function parsePublicKey(suite: VrfSuite, publicKey: unknown): VrfPoint | undefined {
  const length = pointLength(suite)
  const bytes = parseHex(publicKey, length, true) ?? parseHex(publicKey, 2 * length - 1, true)
  if (bytes === undefined) return undefined
  if (bytes.length === length) return bytesToPoint(suite, bytes)
  if (bytes[0] !== 0x04) return undefined
  const compressed = bytesToPoint(suite, Uint8Array.of(bytes[bytes.length - 1]! & 1 ? 0x03 : 0x02, ...bytes.subarray(1, length)))
  if (compressed === undefined) return undefined
  const again = compressed.toRawBytes(false)
  return again.every((byte, i) => byte === bytes[i]) ? compressed : undefined
}

function parseProof(suite: VrfSuite, proof: VrfProof): DecodedVrfProof | undefined {
  const gammaBytes = parseHex(proof?.gamma, pointLength(suite))
  const cBytes = parseHex(proof?.c, suite.challengeLength)
  const sBytes = parseHex(proof?.s, scalarLength(suite))
  if (gammaBytes === undefined || cBytes === undefined || sBytes === undefined) return undefined
  const gamma = bytesToPoint(suite, gammaBytes)
  const s = bytesToBigInt(sBytes)
  if (gamma === undefined || s >= suite.curve.CURVE.n) return undefined
  return { gamma, c: bytesToBigInt(cBytes), s }
}

function toVrfProof(suite: VrfSuite, decoded: DecodedVrfProof): VrfProof {
  const pi = encodeProof(suite, decoded)
  const c = pointLength(suite)
  const s = c + suite.challengeLength
  return { gamma: bytesToHex(pi.subarray(0, c)), c: bytesToHex(pi.subarray(c, s)), s: bytesToHex(pi.subarray(s)) }
}

/**
 * ECVRF_prove: the proof that beta is the VRF output of `privateKey` on `alpha`. Deterministic
 * (RFC 6979 nonce). Throws `VrfError` `VRF_BAD_PRIVATE_KEY` unless the key is qLen bytes of hex
 * with 1 ≤ x < q.
 */
export function proveVrf(privateKey: Hex, alpha: Uint8Array, suite: VrfSuite = secp256k1Sha256Tai): VrfProof {
  const bytes = parseHex(privateKey, scalarLength(suite), true)
  const x = bytes === undefined ? 0n : bytesToBigInt(bytes)
  if (x === 0n || x >= suite.curve.CURVE.n) {
    throw new VrfError('VRF_BAD_PRIVATE_KEY', `expected a ${suite.name} private key as ${scalarLength(suite)} bytes of hex, in [1, q)`)
  }
  return toVrfProof(suite, proveWithNonce(suite, x, alpha))
}

/**
 * ECVRF_verify: whether `proof` proves the VRF output of `publicKey` (33-byte compressed or 65-byte
 * uncompressed SEC1) on `alpha`, and if so that output, beta (32 bytes). Never throws on bad input:
 * the outcome is data.
 */
export function verifyVrf(publicKey: Hex, alpha: Uint8Array, proof: VrfProof, suite: VrfSuite = secp256k1Sha256Tai): VerifyVrfReturnType {
  const key = parsePublicKey(suite, publicKey)
  if (key === undefined) return { valid: false, reason: 'VRF_BAD_KEY' }
  const decoded = parseProof(suite, proof)
  if (decoded === undefined) return { valid: false, reason: 'VRF_BAD_ENCODING' }
  if (!verifyDecoded(suite, key, alpha, decoded)) return { valid: false, reason: 'VRF_INVALID' }
  return { valid: true, beta: bytesToHex(proofToHash(suite, decoded.gamma)) }
}

/**
 * ECVRF_proof_to_hash: beta from the proof's gamma, without verifying the proof. For the prover's
 * own proofs; a checker takes beta from `verifyVrf`. Throws `VrfError` `VRF_BAD_ENCODING` on a
 * malformed proof.
 */
export function vrfOutput(proof: VrfProof, suite: VrfSuite = secp256k1Sha256Tai): Hex {
  const decoded = parseProof(suite, proof)
  if (decoded === undefined) throw new VrfError('VRF_BAD_ENCODING', `not a well-formed ${suite.name} proof`)
  return bytesToHex(proofToHash(suite, decoded.gamma))
}

/** The RFC's pi string, gamma || c || s (81 bytes). Throws `VrfError` `VRF_BAD_ENCODING` on a malformed proof. */
export function encodeVrfProof(proof: VrfProof, suite: VrfSuite = secp256k1Sha256Tai): Hex {
  const decoded = parseProof(suite, proof)
  if (decoded === undefined) throw new VrfError('VRF_BAD_ENCODING', `not a well-formed ${suite.name} proof`)
  return bytesToHex(encodeProof(suite, decoded))
}

/**
 * Splits a pi string into its three parts, or `undefined` unless it is lowercase hex of exactly
 * ptLen + cLen + qLen bytes. The parts are checked by `verifyVrf`, not here.
 */
export function decodeVrfProof(pi: Hex, suite: VrfSuite = secp256k1Sha256Tai): VrfProof | undefined {
  const c = pointLength(suite)
  const s = c + suite.challengeLength
  if (parseHex(pi, s + scalarLength(suite)) === undefined) return undefined
  return { gamma: `0x${pi.slice(2, 2 + 2 * c)}`, c: `0x${pi.slice(2 + 2 * c, 2 + 2 * s)}`, s: `0x${pi.slice(2 + 2 * s)}` }
}

/**
 * The Ethereum address of a secp256k1 VRF public key (compressed or uncompressed): the last 20
 * bytes of keccak256 of the uncompressed key without its 0x04 tag, checksummed. A checker binds
 * the key a proof carries to the node's account with it. Throws `VrfError` `VRF_BAD_KEY` if the
 * key is not a point on secp256k1.
 */
export function vrfPublicKeyToAddress(publicKey: Hex): Address {
  // Each node's key comes back with every challenge it signs: decompressing it (a square root) is
  // the costly part, and the answer never changes.
  const known = addresses.get(publicKey)
  if (known !== undefined) return known
  const key = parsePublicKey(secp256k1Sha256Tai, publicKey)
  if (key === undefined) throw new VrfError('VRF_BAD_KEY', 'expected a secp256k1 public key as 33 or 65 bytes of SEC1 hex')
  const digest = keccak256Bytes(key.toRawBytes(false).subarray(1))
  const address = getAddress(bytesToHex(digest.subarray(12)))
  if (addresses.size >= KEPT_ADDRESSES) addresses.delete(addresses.keys().next().value as Hex)
  addresses.set(publicKey, address)
  return address
}

/** VRF public keys whose addresses are remembered (oldest out first): a network's verifiers, a few KB. */
const KEPT_ADDRESSES = 4_096
const addresses = new Map<Hex, Address>()
