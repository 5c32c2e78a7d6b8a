import { hmac } from '@noble/hashes/hmac'
import { concatBytes } from '@noble/hashes/utils'
import type { CHash } from '@noble/hashes/utils'

// RFC 6979 section 3.2 deterministic nonce, as RFC 9381 section 5.4.2.1 uses it for the ECVRF
// nonce: the message m is h_string (the encoded hash-to-curve point), the HMAC and the digest
// h1 = Hash(m) use the suite's hash, and q is the group order.

/** Big-endian bytes to an integer. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let value = 0n
  for (const byte of bytes) value = (value << 8n) | BigInt(byte)
  return value
}

/** An integer to `length` big-endian bytes (the caller guarantees it fits). */
export function bigIntToBytes(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = length - 1; i >= 0; i--, value >>= 8n) out[i] = Number(value & 0xffn)
  return out
}

/**
 * The RFC 6979 nonce k in [1, q) for secret scalar `x` and message `message`.
 * Deterministic: the same key and message always give the same k.
 */
export function rfc6979Nonce(hash: CHash, q: bigint, x: bigint, message: Uint8Array): bigint {
  const qBits = q.toString(2).length
  const rLength = Math.ceil(qBits / 8)
  // bits2int: the leftmost qlen bits of the string, as an integer.
  const bits2int = (bytes: Uint8Array): bigint => {
    const value = bytesToBigInt(bytes)
    const excess = bytes.length * 8 - qBits
    return excess > 0 ? value >> BigInt(excess) : value
  }
  const h1 = hash(message)
  const key = bigIntToBytes(x, rLength)
  const digest = bigIntToBytes(bits2int(h1) % q, rLength)
  let v: Uint8Array = new Uint8Array(hash.outputLen).fill(0x01)
  let k: Uint8Array = new Uint8Array(hash.outputLen)
  k = hmac(hash, k, concatBytes(v, Uint8Array.of(0x00), key, digest))
  v = hmac(hash, k, v)
  k = hmac(hash, k, concatBytes(v, Uint8Array.of(0x01), key, digest))
  v = hmac(hash, k, v)
  for (;;) {
    let t: Uint8Array = new Uint8Array(0)
    while (t.length < rLength) {
      v = hmac(hash, k, v)
      t = concatBytes(t, v)
    }
    const candidate = bits2int(t)
    if (candidate >= 1n && candidate < q) return candidate
    k = hmac(hash, k, concatBytes(v, Uint8Array.of(0x00)))
    v = hmac(hash, k, v)
  }
}
