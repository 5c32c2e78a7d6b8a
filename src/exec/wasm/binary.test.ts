import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ByteReader, ByteWriter, MalformedBinaryError } from './binary.ts'

const reader = (...bytes: number[]) => new ByteReader(Uint8Array.from(bytes))

describe('LEB128', () => {
  it('round-trips u32 values', () => {
    for (const value of [0, 1, 127, 128, 255, 16_384, 2 ** 31, 0xffff_ffff]) {
      const bytes = new ByteWriter().u32(value).finish()
      const r = new ByteReader(bytes)
      assert.equal(r.u32(), value)
      assert.ok(r.done)
    }
  })

  it('round-trips signed values as s33 and skips them as s32/s64', () => {
    for (const value of [0, 1, -1, 63, 64, -64, -65, 2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1, -(2 ** 32)]) {
      const bytes = new ByteWriter().sleb(value).finish()
      assert.equal(new ByteReader(bytes).sleb(33), value)
      if (value >= -(2 ** 31) && value < 2 ** 31) {
        assert.equal(new ByteReader(bytes).sleb(32), value)
        const r = new ByteReader(bytes)
        r.skipSleb(32)
        assert.ok(r.done)
      }
    }
  })

  it('writes i64 constants', () => {
    for (const value of [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 1234567890123n]) {
      const r = new ByteReader(new ByteWriter().sleb64(value).finish())
      r.skipSleb(64)
      assert.ok(r.done)
    }
    assert.deepEqual([...new ByteWriter().sleb64(-1n).finish()], [0x7f])
    assert.deepEqual([...new ByteWriter().sleb64(64n).finish()], [0xc0, 0x00])
  })

  it('accepts padded encodings but rejects overlong and overflowing ones', () => {
    assert.equal(reader(0x80, 0x80, 0x80, 0x80, 0x00).u32(), 0)
    assert.throws(() => reader(0x80, 0x80, 0x80, 0x80, 0x80, 0x00).u32(), MalformedBinaryError)
    assert.throws(() => reader(0xff, 0xff, 0xff, 0xff, 0x1f).u32(), MalformedBinaryError)
    assert.equal(reader(0xff, 0xff, 0xff, 0xff, 0x7f).sleb(32), -1)
    assert.throws(() => reader(0xff, 0xff, 0xff, 0xff, 0x4f).sleb(32), MalformedBinaryError)
    assert.throws(() => reader(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02).skipSleb(64), MalformedBinaryError)
    assert.throws(() => reader(0x80).u32(), MalformedBinaryError)
  })

  it('reads names as UTF-8 and rejects invalid UTF-8', () => {
    assert.equal(new ByteReader(new ByteWriter().name('env·abort').finish()).name(), 'env·abort')
    assert.throws(() => reader(2, 0xc3, 0x28).name(), MalformedBinaryError)
  })
})
