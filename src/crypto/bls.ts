import { PublicKey, SecretKey, Signature, aggregateSerializedSignatures, aggregateSerializedPublicKeys, verify } from '@chainsafe/blst'
import { bytesToHex, concat, encodePacked, hexToBytes, keccak256, size, stringToBytes } from 'viem'
import type { Address, Hex } from 'viem'
import type { Signer } from '../core/signing.ts'

// BLS12-381 signatures for the epoch committee, through blst (@chainsafe/blst, prebuilt native
// bindings): public keys in G1, signatures in G2, messages hashed to G2 with the IETF
// proof-of-possession suite's tag (`BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`, the one blst's
// `sign` uses and contracts/BLS12381.sol hashes with). On the wire a signature is its 96-byte
// compressed form; the chain takes the EIP-2537 encodings (G1: 128 bytes, G2: 256 bytes), which
// these helpers convert to and from. Secret keys never leave the closure `deriveBlsKey` returns.

/** What a proof of possession signs, before the node's address and key: see `blsPopMessage`. */
export const BLS_POP_PREFIX = 'veritask/bls-pop/1'
/**
 * The digest a node signs (ECDSA, RFC 6979: deterministic) to derive its BLS key. No protocol
 * message hashes to it (that would take a keccak256 preimage), so the signature is never sent.
 */
export const BLS_KEY_DERIVATION_DIGEST = keccak256(stringToBytes('veritask/bls-key/1'))
const KEY_INFO = stringToBytes('veritask/bls')

/** A node's BLS key: its public key as the chain stores it, and signing without exposing the secret. */
export interface BlsKey {
  /** The G1 public key, EIP-2537 encoded (128 bytes). */
  readonly publicKey: Hex
  /** Signs a 32-byte digest: the 96-byte compressed G2 signature. */
  sign(digest: Hex): Hex
  /** The proof of possession `StakeManager.registerBlsKey` checks for `node` (EIP-2537 G2, 256 bytes). */
  proofOfPossession(node: Address): Hex
}

/**
 * Derives a node's BLS key from its account key, deterministically, so that no new key needs
 * managing and every place that holds the account (daemon, devnet, tests) finds the same key:
 * blst's KeyGen (IETF BLS draft §2.3, key info "veritask/bls") over keccak256 of the account's
 * signature of `BLS_KEY_DERIVATION_DIGEST`. Needs a deterministic signer (RFC 6979, as viem's
 * local accounts and libsecp256k1 sign); only the holder of the account key can compute it.
 */
export async function deriveBlsKey(account: Signer): Promise<BlsKey> {
  const seed = await account.sign({ hash: BLS_KEY_DERIVATION_DIGEST })
  const secret = SecretKey.fromKeygen(hexToBytes(keccak256(seed)), KEY_INFO)
  const publicKey = g1ToEip2537(secret.toPublicKey().toBytes(false))
  return {
    publicKey,
    sign: (digest) => bytesToHex(secret.sign(hexToBytes(digest)).toBytes(true)),
    proofOfPossession: (node) => g2ToEip2537(secret.sign(hexToBytes(blsPopMessage(node, publicKey))).toBytes(false)),
  }
}

/** The message a proof of possession signs: keccak256(prefix ‖ node ‖ publicKey), binding the key to its node. */
export function blsPopMessage(node: Address, publicKey: Hex): Hex {
  return keccak256(encodePacked(['string', 'address', 'bytes'], [BLS_POP_PREFIX, node, publicKey]))
}

/** Whether `signature` (compressed, 96 bytes) is `publicKey`'s (EIP-2537) signature of `digest`; false for anything malformed. */
export function verifyBlsSignature(digest: Hex, signature: Hex, publicKey: Hex): boolean {
  try {
    return verify(hexToBytes(digest), PublicKey.fromBytes(eip2537ToG1(publicKey), true), Signature.fromBytes(hexToBytes(signature), true), false, false)
  } catch {
    return false
  }
}

/** The aggregate (sum) of compressed signatures, compressed; each is checked to be a G2 subgroup point. */
export function aggregateBlsSignatures(signatures: readonly Hex[]): Hex {
  return bytesToHex(aggregateSerializedSignatures(signatures.map((s) => hexToBytes(s)), true).toBytes(true))
}

/** The aggregate (sum) of EIP-2537 public keys, EIP-2537 encoded; each is validated (not infinity, in G1). */
export function aggregateBlsPublicKeys(publicKeys: readonly Hex[]): Hex {
  return g1ToEip2537(aggregateSerializedPublicKeys(publicKeys.map(eip2537ToG1), true).toBytes(false))
}

/** A compressed signature as the chain takes it (EIP-2537 G2, 256 bytes). Throws if it is not a G2 point. */
export function blsSignatureToEip2537(signature: Hex): Hex {
  return g2ToEip2537(Signature.fromBytes(hexToBytes(signature), false, false).toBytes(false))
}

const FP = 48
const pad = (fp: Uint8Array): Hex => bytesToHex(concat([new Uint8Array(16), fp]))

/** blst's uncompressed G1 (x ‖ y, 48 bytes each, flags in the top bits) to EIP-2537 (each coordinate in 64 bytes). */
export function g1ToEip2537(uncompressed: Uint8Array): Hex {
  if (uncompressed.length !== 2 * FP) throw new Error('expected a 96-byte uncompressed G1 point')
  if ((uncompressed[0]! & 0x40) !== 0) return bytesToHex(new Uint8Array(128))
  return concat([pad(uncompressed.subarray(0, FP)), pad(uncompressed.subarray(FP))])
}

/** blst's uncompressed G2 (x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0) to EIP-2537 (x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1, 64 bytes each). */
export function g2ToEip2537(uncompressed: Uint8Array): Hex {
  if (uncompressed.length !== 4 * FP) throw new Error('expected a 192-byte uncompressed G2 point')
  if ((uncompressed[0]! & 0x40) !== 0) return bytesToHex(new Uint8Array(256))
  const part = (i: number) => pad(uncompressed.subarray(i * FP, (i + 1) * FP))
  return concat([part(1), part(0), part(3), part(2)])
}

/** An EIP-2537 G1 point to blst's uncompressed form (96 bytes). Throws on a wrong length or non-zero padding. */
export function eip2537ToG1(point: Hex): Uint8Array {
  if (size(point) !== 128) throw new Error('expected a 128-byte EIP-2537 G1 point')
  const bytes = hexToBytes(point)
  if (bytes.every((b) => b === 0)) {
    const infinity = new Uint8Array(2 * FP)
    infinity[0] = 0x40
    return infinity
  }
  if (bytes.subarray(0, 16).some((b) => b !== 0) || bytes.subarray(64, 80).some((b) => b !== 0)) throw new Error('EIP-2537 padding is not zero')
  return concat([bytes.subarray(16, 64), bytes.subarray(80, 128)])
}

/** An EIP-2537 G2 point (a proof of possession as the chain takes it) as a compressed signature. Throws if it is not a G2 subgroup point. */
export function eip2537ToBlsSignature(point: Hex): Hex {
  if (size(point) !== 256) throw new Error('expected a 256-byte EIP-2537 G2 point')
  const bytes = hexToBytes(point)
  for (let i = 0; i < 4; i++) if (bytes.subarray(i * 64, i * 64 + 16).some((b) => b !== 0)) throw new Error('EIP-2537 padding is not zero')
  const fp = (i: number) => bytes.subarray(i * 64 + 16, (i + 1) * 64)
  const uncompressed = concat([fp(1), fp(0), fp(3), fp(2)])
  return bytesToHex(Signature.fromBytes(uncompressed, true, true).toBytes(true))
}

/** An EIP-2537 G1 point as the contracts' `BLS12381.G1Point` struct (its four 32-byte words). */
export function g1Struct(point: Hex): { xHi: Hex; xLo: Hex; yHi: Hex; yLo: Hex } {
  const [xHi, xLo, yHi, yLo] = words(point, 4)
  return { xHi: xHi!, xLo: xLo!, yHi: yHi!, yLo: yLo! }
}

/** An EIP-2537 G2 point as the contracts' `BLS12381.G2Point` struct (its eight 32-byte words). */
export function g2Struct(point: Hex): { x0Hi: Hex; x0Lo: Hex; x1Hi: Hex; x1Lo: Hex; y0Hi: Hex; y0Lo: Hex; y1Hi: Hex; y1Lo: Hex } {
  const [x0Hi, x0Lo, x1Hi, x1Lo, y0Hi, y0Lo, y1Hi, y1Lo] = words(point, 8)
  return { x0Hi: x0Hi!, x0Lo: x0Lo!, x1Hi: x1Hi!, x1Lo: x1Lo!, y0Hi: y0Hi!, y0Lo: y0Lo!, y1Hi: y1Hi!, y1Lo: y1Lo! }
}

/** A `BLS12381.G1Point` struct as read from a contract, back to its EIP-2537 bytes. */
export function fromG1Struct(point: { xHi: Hex; xLo: Hex; yHi: Hex; yLo: Hex }): Hex {
  return concat([point.xHi, point.xLo, point.yHi, point.yLo])
}

function words(point: Hex, count: number): Hex[] {
  if (size(point) !== count * 32) throw new Error(`expected ${count * 32} bytes`)
  const bytes = hexToBytes(point)
  return Array.from({ length: count }, (_, i) => bytesToHex(bytes.subarray(i * 32, (i + 1) * 32)))
}

/** The BLS12-381 base field's modulus p. */
const FIELD_MODULUS = 0x1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaabn

/**
 * Whether `point` is a canonical EIP-2537 G1 encoding, as `BLS12381.isCanonical` checks it: 128
 * bytes, each coordinate 16 zero bytes then a value below p. Says nothing about the curve.
 */
export function isCanonicalG1(point: Hex): boolean {
  if (size(point) !== 128) return false
  const bytes = hexToBytes(point)
  return [0, 64].every((at) => bytes.subarray(at, at + 16).every((b) => b === 0) && BigInt(bytesToHex(bytes.subarray(at + 16, at + 64))) < FIELD_MODULUS)
}
