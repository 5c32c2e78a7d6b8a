// Hex to bytes without intermediate strings or arrays: the hashing hot paths write fixed-size
// values (ids, addresses) straight into the buffer they hash.

const hexDigit = (code: number): number => {
  if (code >= 48 && code <= 57) return code - 48
  if (code >= 97 && code <= 102) return code - 87
  if (code >= 65 && code <= 70) return code - 55
  return -1
}

/** Writes the bytes of 0x-prefixed `hex` at `offset`; throws unless it has exactly `length` bytes. */
export function writeHex(out: Uint8Array, offset: number, hex: string, length: number, what: string): void {
  if (typeof hex !== 'string' || hex.length !== 2 + length * 2 || hex[0] !== '0' || (hex[1] !== 'x' && hex[1] !== 'X')) {
    throw new TypeError(`expected ${what} as 0x-prefixed hex of ${length} bytes, got ${String(hex)}`)
  }
  for (let i = 0; i < length; i++) {
    const hi = hexDigit(hex.charCodeAt(2 + i * 2))
    const lo = hexDigit(hex.charCodeAt(3 + i * 2))
    if (hi < 0 || lo < 0) throw new TypeError(`${what} is not hex: ${hex}`)
    out[offset + i] = (hi << 4) | lo
  }
}
