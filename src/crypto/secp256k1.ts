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

/** Verifies by recovering the signer's address, like `ecrecover`. */
export const verifyNative: SignatureVerifier = (digest, signature, expected) => {
  try {
    const bytes = hexToBytes(signature)
    if (bytes.length !== 65) return false
    const v = bytes[64]!
    const recovery = v >= 27 ? v - 27 : v
    if (recovery !== 0 && recovery !== 1) return false
    const publicKey = secp256k1.ecdsaRecover(bytes.subarray(0, 64), recovery, hexToBytes(digest), false)
    // Compared as 20 bytes in lowercase hex: no checksum to compute on the hot path.
    return expected.length === 42 && lowercaseAddressOf(publicKey) === expected.slice(2).toLowerCase()
  } catch {
    return false
  }
}

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
