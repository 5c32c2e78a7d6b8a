// matmul: input = u32 LE n ‖ u32 LE seed (n ≤ 512). Generates two n×n i32 matrices A then B,
// row-major, from the LCG  s ← s·1664525 + 1013904223 (mod 2^32), each entry (s >>> 24) − 128,
// starting from s = seed. Output = C = A·B (i32, wrapping), row-major, little-endian: 4·n² bytes.
import { allocOutput, outputData, readU32 } from '../shared/abi'

export { alloc } from '../shared/abi'

const MAX_N: u32 = 512

export function run(input: i32, len: i32): i32 {
  if (len != 8) abort('expected u32 n and u32 seed')
  const n = readU32(input, len, 0)
  if (n > MAX_N) abort('n is too large')
  let state = readU32(input, len, 4)
  const cells = <usize>(n * n)
  const a = heap.alloc(cells << 2)
  const b = heap.alloc(cells << 2)
  for (let i: usize = 0; i < cells; i++) {
    state = state * 1664525 + 1013904223
    store<i32>(a + (i << 2), <i32>(state >>> 24) - 128)
  }
  for (let i: usize = 0; i < cells; i++) {
    state = state * 1664525 + 1013904223
    store<i32>(b + (i << 2), <i32>(state >>> 24) - 128)
  }
  const output = allocOutput(<i32>(cells << 2))
  const c = outputData(output)
  memory.fill(c, 0, cells << 2)
  const size = <usize>n
  // i-k-j order walks B and C row by row.
  for (let i: usize = 0; i < size; i++) {
    const cRow = c + ((i * size) << 2)
    for (let k: usize = 0; k < size; k++) {
      const aik = load<i32>(a + ((i * size + k) << 2))
      const bRow = b + ((k * size) << 2)
      for (let j: usize = 0; j < size; j++) {
        const p = cRow + (j << 2)
        store<i32>(p, load<i32>(p) + aik * load<i32>(bRow + (j << 2)))
      }
    }
  }
  return <i32>output
}
