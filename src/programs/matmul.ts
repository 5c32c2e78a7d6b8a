/** The matmul example program: the product of two pseudo-random n×n i32 matrices. */

/** The largest n the program accepts (it aborts above). */
export const MATMUL_MAX_N = 512

/** Input layout: u32 LE n ‖ u32 LE seed. */
export function matmulInput(n: number, seed: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > MATMUL_MAX_N) throw new RangeError(`n must be in [0, ${MATMUL_MAX_N}], got ${n}`)
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) throw new RangeError(`seed must be a u32, got ${seed}`)
  const input = new Uint8Array(8)
  const view = new DataView(input.buffer)
  view.setUint32(0, n, true)
  view.setUint32(4, seed, true)
  return input
}

/**
 * What the program outputs for `input`: C = A·B as i32 little-endian, row-major (4·n² bytes).
 * A then B are filled row-major from the LCG s ← s·1664525 + 1013904223 (mod 2^32), starting at
 * s = seed, each entry (s >>> 24) − 128. Arithmetic wraps like i32.
 */
export function matmulReference(input: Uint8Array): Uint8Array {
  if (input.length !== 8) throw new RangeError('matmul input is u32 n and u32 seed')
  const view = new DataView(input.buffer, input.byteOffset, input.length)
  const n = view.getUint32(0, true)
  if (n > MATMUL_MAX_N) throw new RangeError(`n must be at most ${MATMUL_MAX_N}`)
  let state = view.getUint32(4, true)
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return (state >>> 24) - 128
  }
  const a = Int32Array.from({ length: n * n }, next)
  const b = Int32Array.from({ length: n * n }, next)
  const c = new Int32Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k] as number
      for (let j = 0; j < n; j++) c[i * n + j] = ((c[i * n + j] as number) + Math.imul(aik, b[k * n + j] as number)) | 0
    }
  }
  // Int32Array is in platform byte order; write little-endian explicitly.
  const output = new Uint8Array(4 * n * n)
  const out = new DataView(output.buffer)
  c.forEach((value, i) => out.setInt32(4 * i, value, true))
  return output
}
