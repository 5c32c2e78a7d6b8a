import type { CurveFn, ProjPointType } from '@noble/curves/abstract/weierstrass'
import type { CHash } from '@noble/hashes/utils'
import { VeritaskError } from '../errors.ts'
import { bigIntToBytes, bytesToBigInt, rfc6979Nonce } from './rfc6979.ts'

// ECVRF (RFC 9381 section 5) over any short-Weierstrass curve that @noble/curves describes, with
// the try-and-increment encode-to-curve (section 5.4.1.1), the RFC 6979 nonce (5.4.2.1) and SEC1
// compressed points, i.e. the shape of ECVRF-P256-SHA256-TAI. Byte strings and bigints in and
// out; the hex-facing API is in ../vrf.ts.

/** One ECVRF cipher suite: the curve, the hash and the suite's identifying octet. */
export interface VrfSuite {
  /** The suite's name, for logs and docs. */
  readonly name: string
  /** RFC 9381's suite_string, the first octet of every hash input. */
  readonly suiteString: number
  readonly curve: CurveFn
  readonly hash: CHash
  /** cLen: the length in bytes of the challenge c (16 for both suites here). */
  readonly challengeLength: number
}

export type VrfPoint = ProjPointType<bigint>

/** Misuse of the prover's API (a bad private key, a malformed proof passed to `vrfOutput`). */
export type VrfErrorCode = 'VRF_BAD_PRIVATE_KEY' | 'VRF_BAD_ENCODING' | 'VRF_BAD_KEY' | 'VRF_ENCODE_TO_CURVE_FAILED'

export class VrfError extends VeritaskError<VrfErrorCode> {
  override name = 'VrfError'
}

/** The three parts of a proof, decoded: pi = point(gamma) || c (cLen bytes) || s (qLen bytes). */
export interface DecodedVrfProof {
  gamma: VrfPoint
  c: bigint
  s: bigint
}

// Domain separators (RFC 9381 sections 5.2, 5.4.1.1 and 5.4.3).
export const ENCODE_TO_CURVE_FRONT = 0x01
export const CHALLENGE_FRONT = 0x02
export const PROOF_TO_HASH_FRONT = 0x03
const BACK = 0x00

/** ptLen: a SEC1 compressed point, a tag octet and the x coordinate. */
export const pointLength = (suite: VrfSuite): number => 1 + suite.curve.CURVE.Fp.BYTES

/** qLen: a scalar (s, the secret key). */
export const scalarLength = (suite: VrfSuite): number => suite.curve.CURVE.nByteLength

/** point_to_string: SEC1 compressed form. The identity has none; callers never pass it. */
export const pointToBytes = (point: VrfPoint): Uint8Array => point.toRawBytes(true)

/**
 * string_to_point, strict: exactly ptLen bytes, tag 0x02 or 0x03, x below the field prime, on the
 * curve, and (for cofactor > 1) in the prime-order subgroup. Any other byte string, including a
 * valid uncompressed encoding of the same point, is `undefined`, so a point has one accepted
 * encoding.
 */
export function bytesToPoint(suite: VrfSuite, bytes: Uint8Array): VrfPoint | undefined {
  if (bytes.length !== pointLength(suite) || (bytes[0] !== 0x02 && bytes[0] !== 0x03)) return undefined
  let point: VrfPoint
  try {
    point = suite.curve.ProjectivePoint.fromHex(bytes)
  } catch {
    return undefined
  }
  if (point.equals(suite.curve.ProjectivePoint.ZERO) || !point.isTorsionFree()) return undefined
  const again = pointToBytes(point)
  return again.every((byte, i) => byte === bytes[i]) ? point : undefined
}

/** Hash(suite_string || front || parts… || 0x00): every hash the suite takes (RFC 9381 section 5). */
export function hashParts(suite: VrfSuite, front: number, parts: Uint8Array[]): Uint8Array {
  const h = suite.hash.create()
  h.update(Uint8Array.of(suite.suiteString, front))
  for (const part of parts) h.update(part)
  h.update(Uint8Array.of(BACK))
  return h.digest()
}

/**
 * ECVRF_encode_to_curve_try_and_increment (RFC 9381 section 5.4.1.1): hash salt || alpha || ctr
 * for ctr = 0, 1, … and take the first digest that is the x coordinate of a point with even y.
 * The salt is the compressed public key. `undefined` if no ctr below 256 works (probability
 * about 2^-256).
 */
export function encodeToCurveTai(suite: VrfSuite, salt: Uint8Array, alpha: Uint8Array): VrfPoint | undefined {
  const candidate = new Uint8Array(pointLength(suite))
  candidate[0] = 0x02
  for (let ctr = 0; ctr < 256; ctr++) {
    const digest = hashParts(suite, ENCODE_TO_CURVE_FRONT, [salt, alpha, Uint8Array.of(ctr)])
    candidate.set(digest.subarray(0, candidate.length - 1), 1)
    const point = bytesToPoint(suite, candidate)
    if (point !== undefined) return point.clearCofactor()
  }
  return undefined
}

/** ECVRF_challenge_generation (section 5.4.3): the first cLen bytes of the hash of five points. */
export function challenge(suite: VrfSuite, points: readonly VrfPoint[]): bigint {
  const digest = hashParts(suite, CHALLENGE_FRONT, points.map(pointToBytes))
  return bytesToBigInt(digest.subarray(0, suite.challengeLength))
}

/** ECVRF_proof_to_hash (section 5.2): beta = Hash(suite || 0x03 || point(cofactor * gamma) || 0x00). */
export function proofToHash(suite: VrfSuite, gamma: VrfPoint): Uint8Array {
  return hashParts(suite, PROOF_TO_HASH_FRONT, [pointToBytes(gamma.clearCofactor())])
}

/** pi_string: point(gamma) || int(c, cLen) || int(s, qLen). */
export function encodeProof(suite: VrfSuite, proof: DecodedVrfProof): Uint8Array {
  const out = new Uint8Array(pointLength(suite) + suite.challengeLength + scalarLength(suite))
  out.set(pointToBytes(proof.gamma), 0)
  out.set(bigIntToBytes(proof.c, suite.challengeLength), pointLength(suite))
  out.set(bigIntToBytes(proof.s, scalarLength(suite)), pointLength(suite) + suite.challengeLength)
  return out
}

/**
 * ECVRF_prove (section 5.1) for secret scalar `x` in [1, q). `nonce` overrides the RFC 6979 nonce;
 * it exists for tests. Never pass one in production: two proofs for different alphas made with the
 * same nonce reveal the secret key. Throws only if encode-to-curve fails (probability ~2^-256).
 */
export function proveWithNonce(suite: VrfSuite, x: bigint, alpha: Uint8Array, nonce?: bigint): DecodedVrfProof {
  const { ProjectivePoint: Point, CURVE } = suite.curve
  const q = CURVE.n
  const publicKey = Point.BASE.multiply(x)
  const h = encodeToCurveTai(suite, pointToBytes(publicKey), alpha)
  if (h === undefined) {
    throw new VrfError('VRF_ENCODE_TO_CURVE_FAILED', 'ECVRF encode_to_curve found no point in 256 tries', { details: { suite: suite.name } })
  }
  const gamma = h.multiply(x)
  const k = nonce ?? rfc6979Nonce(suite.hash, q, x, pointToBytes(h))
  const c = challenge(suite, [publicKey, h, gamma, Point.BASE.multiply(k), h.multiply(k)])
  const s = (k + c * x) % q
  return { gamma, c, s }
}

/**
 * ECVRF_verify (section 5.3) from step 4 on, for a validated public key and a decoded proof with
 * s < q: U = s*B - c*Y, V = s*H - c*Gamma, and c must equal the challenge over (Y, H, Gamma, U, V).
 */
export function verifyDecoded(suite: VrfSuite, publicKey: VrfPoint, alpha: Uint8Array, proof: DecodedVrfProof): boolean {
  const Point = suite.curve.ProjectivePoint
  const h = encodeToCurveTai(suite, pointToBytes(publicKey), alpha)
  if (h === undefined) return false
  // s*B with the constant-time `multiply`: in @noble/curves 1.9.0-1.9.1, `BASE.multiplyUnsafe` is
  // wrong on secp256k1 for scalars above ~2^136 (its precomputed-window path assumes the
  // endomorphism's 128-bit half scalars), and s is a full-size scalar.
  const sB = proof.s === 0n ? Point.ZERO : Point.BASE.multiply(proof.s)
  const u = sB.subtract(publicKey.multiplyUnsafe(proof.c))
  const v = h.multiplyUnsafe(proof.s).subtract(proof.gamma.multiplyUnsafe(proof.c))
  // An honest proof never has U or V at infinity (that needs k = 0); point_to_string has no
  // encoding for it.
  if (u.equals(Point.ZERO) || v.equals(Point.ZERO)) return false
  return challenge(suite, [publicKey, h, proof.gamma, u, v]) === proof.c
}
