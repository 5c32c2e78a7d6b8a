import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { planChunks } from './chunking.ts'

const text = (s: string) => new TextEncoder().encode(s)
const decode = (b: Uint8Array) => new TextDecoder().decode(b)

describe('sdk chunking', () => {
  it('gives one chunk per file without a chunk size, and none for empty files', () => {
    const chunks = planChunks({ files: [{ path: 'a', bytes: text('one two') }, { path: 'empty', bytes: text('') }, { path: 'b', bytes: text('three') }] })
    assert.deepEqual(
      chunks.map((c) => [c.index, c.source, c.offset, decode(c.bytes)]),
      [
        [0, 'a', 0, 'one two'],
        [1, 'b', 0, 'three'],
      ],
    )
  })

  it('cuts after the last newline that fits, else after whitespace, else at the size', () => {
    const bytes = text('ab cd\nef gh ij\nklmnopqrstuv')
    const chunks = planChunks({ files: [{ path: 'f', bytes }], chunkSize: 10 })
    assert.deepEqual(chunks.map((c) => decode(c.bytes)), ['ab cd\n', 'ef gh ij\n', 'klmnopqrst', 'uv'])
    // Nothing lost, nothing repeated, offsets line up.
    assert.equal(chunks.map((c) => decode(c.bytes)).join(''), decode(bytes))
    for (const c of chunks) assert.equal(decode(bytes.subarray(c.offset, c.offset + c.bytes.length)), decode(c.bytes))
    const words = planChunks({ files: [{ path: 'f', bytes: text('alpha beta gamma') }], chunkSize: 8 })
    assert.deepEqual(words.map((c) => decode(c.bytes)), ['alpha ', 'beta ', 'gamma'])
  })

  it("cuts exactly every chunkSize bytes in 'bytes' mode, and never spans two files", () => {
    const chunks = planChunks({ files: [{ path: 'a', bytes: text('aaaaa') }, { path: 'b', bytes: text('bb') }], chunkSize: 2, split: 'bytes' })
    assert.deepEqual(chunks.map((c) => `${c.source}:${decode(c.bytes)}`), ['a:aa', 'a:aa', 'a:a', 'b:bb'])
    assert.deepEqual(chunks.map((c) => c.index), [0, 1, 2, 3])
  })

  it('refuses a chunk size that is not a positive integer', () => {
    assert.throws(() => planChunks({ files: [], chunkSize: 0 }), RangeError)
    assert.throws(() => planChunks({ files: [], chunkSize: 1.5 }), RangeError)
  })
})
