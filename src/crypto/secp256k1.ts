import secp256k1 from 'secp256k1'
import { bytesToHex, getAddress, hexToBytes } from 'viem'
import type { Address, Hex } from 'viem'
import { keccak256Hex } from '../core/keccak.ts'
import type { SignatureVerifier, Signer } from '../core/signing.ts'

// libsecp256k1 through the `secp256k1` package (a prebuilt native addon, with a pure-JS fallback).
// Signature checks dominate a node's CPU outside task execution: recovery here takes tens of
// microseconds where pure JS takes milliseconds. Signatures are RFC 6979 with low s, byte for byte
// the ones viem makes.

/** The lowercase hex address (no 0x) of an uncompressed public key. */
function lowercaseAddressOf(publicKey: Uint8Array): string {
  return keccak256Hex(publicKey.subarray(1)).slice(-40)
}

function addressOf(publicKey: Uint8Array): Address {
  return getAddress(`0x${lowercaseAddressOf(publicKey)}`)
}

/** The lowercase address (no 0x) that signed `digest`, or '' when the signature is malformed. */
function recoverLowercase(digest: Hex, signature: Hex): string {
  try {
    const bytes = hexToBytes(signature)
    if (bytes.length !== 65) return ''
    const v = bytes[64]!
    const recovery = v >= 27 ? v - 27 : v
    if (recovery !== 0 && recovery !== 1) return ''
    return lowercaseAddressOf(secp256k1.ecdsaRecover(bytes.subarray(0, 64), recovery, hexToBytes(digest), false))
  } catch {
    return ''
  }
}

export interface CreateNativeVerifierParameters {
  /** (digest, signature) pairs whose signer is remembered; 0 turns the cache off. Default 2048. */
  cacheSize?: number
}

/**
 * A verifier that recovers the signer's address, like `ecrecover`, and remembers the signers of
 * the last `cacheSize` signatures it checked. Recovery is a pure function of (digest, signature),
 * so a hit answers exactly as a recovery would. Gossip delivers each message to a node once, so a
 * node's own cache rarely hits; nodes that share one process (the devnet) share `verifyNative`'s,
 * and a message all of them receive is recovered once instead of once per node. The cache is
 * bounded (oldest entry out first; 2048 entries are about 1 MB), so memory stays flat.
 */
export function createNativeVerifier({ cacheSize = 2048 }: CreateNativeVerifierParameters = {}): SignatureVerifier {
  const signers = new Map<string, string>()
  return (digest, signature, expected) => {
    if (expected.length !== 42) return false
    const key = `${digest}${signature}`.toLowerCase()
    let signer = signers.get(key)
    if (signer === undefined) {
      signer = recoverLowercase(digest, signature)
      if (cacheSize > 0) {
        if (signers.size >= cacheSize) signers.delete(signers.keys().next().value as string)
        signers.set(key, signer)
      }
    }
    // Compared as 20 bytes in lowercase hex: no checksum to compute on the hot path.
    return signer !== '' && signer === expected.slice(2).toLowerCase()
  }
}

/** Verifies by recovering the signer's address, like `ecrecover`; one cache per process. */
export const verifyNative: SignatureVerifier = createNativeVerifier()

/** A signer over a raw private key; signs EIP-712 digests (no message prefix). */
export function createNativeSigner(privateKey: Hex): Signer {
  const key = hexToBytes(privateKey)
  if (!secp256k1.privateKeyVerify(key)) throw new RangeError('invalid secp256k1 private key')
  const address = addressOf(secp256k1.publicKeyCreate(key, false))
  return {
    address,
    sign: async ({ hash }) => {
      const { signature, recid } = secp256k1.ecdsaSign(hexToBytes(hash), key)
      const out = new Uint8Array(65)
      out.set(signature)
      out[64] = 27 + recid
      return bytesToHex(out)
    },
  }
}
