// hash-chain: input = 32-byte seed ‖ u32 LE rounds; output = the 32-byte value after `rounds`
// iterations of h ← SHA-256(h), starting from the seed (0 rounds returns the seed).
import { allocOutput, outputData, readU32 } from '../shared/abi'
import { sha256 } from './sha256'

export { alloc } from '../shared/abi'

export function run(input: i32, len: i32): i32 {
  if (len != 36) abort('expected a 32-byte seed and a u32 round count')
  const rounds = readU32(input, len, 32)
  const output = allocOutput(32)
  const h = outputData(output)
  memory.copy(h, <usize>input, 32)
  for (let i: u32 = 0; i < rounds; i++) sha256(h, 32, h)
  return <i32>output
}
