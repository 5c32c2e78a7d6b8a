import secp256k1 from 'secp256k1'
import { bytesToHex, getAddress, hexToBytes, keccak256 } from 'viem'
import type { Address, Hex } from 'viem'
import type { SignatureVerifier, Signer } from '../core/signing.ts'

// libsecp256k1 through the `secp256k1` package (a prebuilt native addon, with a pure-JS fallback).
// Signature checks dominate a node's CPU outside task execution: recovery here takes tens of
// microseconds where pure JS takes milliseconds. Signatures are RFC 6979 with low s, byte for byte
// the ones viem makes.

function addressOf(publicKey: Uint8Array): Address {
  return getAddress(`0x${keccak256(publicKey.subarray(1)).slice(-40)}`)
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
    return addressOf(publicKey) === getAddress(expected)
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
