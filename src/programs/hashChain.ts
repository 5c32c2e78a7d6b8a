/** The hash-chain example program: `rounds` iterations of SHA-256 over a 32-byte seed. */
import { createHash } from 'node:crypto'

/** Input layout: 32-byte seed ‖ u32 little-endian round count. */
export function hashChainInput(seed: Uint8Array, rounds: number): Uint8Array {
  if (seed.length !== 32) throw new RangeError(`seed must be 32 bytes, got ${seed.length}`)
  if (!Number.isInteger(rounds) || rounds < 0 || rounds > 0xffff_ffff) throw new RangeError(`invalid round count: ${rounds}`)
  const input = new Uint8Array(36)
  input.set(seed)
  new DataView(input.buffer).setUint32(32, rounds, true)
  return input
}

/** What the program outputs for `input`: the 32-byte hash after the given rounds. */
export function hashChainReference(input: Uint8Array): Uint8Array {
  if (input.length !== 36) throw new RangeError('hash-chain input is a 32-byte seed and a u32 round count')
  const rounds = new DataView(input.buffer, input.byteOffset, input.length).getUint32(32, true)
  let h = input.slice(0, 32)
  for (let i = 0; i < rounds; i++) h = new Uint8Array(createHash('sha256').update(h).digest())
  return h
}
