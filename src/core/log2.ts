/** Fractional bits of the fixed-point logarithm. */
export const LOG2_FRACTION_BITS = 64n
const ONE = 1n << LOG2_FRACTION_BITS
const TWO = ONE << 1n

function bitLength(x: bigint): bigint {
  return BigInt(x.toString(2).length)
}

/**
 * log2(x) for a positive integer x, in fixed point with 64 fractional bits, by the binary
 * logarithm's squaring method. Integer arithmetic only, so every node gets the same bits.
 */
export function log2Fixed(x: bigint): bigint {
  if (x <= 0n) throw new RangeError('log2Fixed needs a positive integer')
  const n = bitLength(x) - 1n
  // Normalise x / 2^n into [1, 2) with 64 fractional bits.
  let y = n >= LOG2_FRACTION_BITS ? x >> (n - LOG2_FRACTION_BITS) : x << (LOG2_FRACTION_BITS - n)
  let result = n << LOG2_FRACTION_BITS
  for (let bit = ONE >> 1n; bit > 0n; bit >>= 1n) {
    y = (y * y) >> LOG2_FRACTION_BITS
    if (y >= TWO) {
      y >>= 1n
      result |= bit
    }
  }
  return result
}
