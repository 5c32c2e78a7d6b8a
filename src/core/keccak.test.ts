import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256 } from 'viem'
import { keccak256Bytes, keccak256Hex, toHex } from './keccak.ts'

/** Deterministic pseudo-random bytes. */
function bytesOf(length: number, seed: number): Uint8Array {
  let x = seed >>> 0
  return Uint8Array.from({ length }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    return x >>> 24
  })
}

describe('keccak256', () => {
  it('matches the published digests of the empty string and "abc"', () => {
    assert.equal(keccak256Hex(new Uint8Array()), '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
    assert.equal(keccak256Hex(new TextEncoder().encode('abc')), '0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45')
  })

  it("is byte-identical to viem's on every length around the 136-byte block boundaries", () => {
    for (let length = 0; length <= 3 * 136 + 2; length++) {
      const bytes = bytesOf(length, length + 1)
      assert.equal(keccak256Hex(bytes), keccak256(bytes), `length ${length}`)
    }
    const large = bytesOf(70_000, 9)
    assert.equal(keccak256Hex(large), keccak256(large))
  })

  it('hashes a view by its own bytes, not its whole buffer, and leaves the input unchanged', () => {
    const buffer = bytesOf(300, 3)
    const view = buffer.subarray(17, 217)
    const before = view.slice()
    assert.equal(keccak256Hex(view), keccak256(before))
    assert.deepEqual(view, before)
    assert.equal(toHex(keccak256Bytes(view)), keccak256Hex(view))
  })
})
