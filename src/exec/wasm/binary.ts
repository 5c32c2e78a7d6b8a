/**
 * A minimal reader and writer for the WebAssembly binary format: bytes, LEB128 integers, names.
 * The instrumenter parses untrusted modules with it, so every read is bounds-checked and every
 * malformed encoding throws `MalformedBinaryError`, which the instrumenter turns into
 * 'invalid-module'.
 */

export class MalformedBinaryError extends Error {
  override name = 'MalformedBinaryError'
}

export class ByteReader {
  readonly bytes: Uint8Array
  pos: number
  readonly end: number

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes
    this.pos = start
    this.end = end
  }

  get done(): boolean {
    return this.pos >= this.end
  }

  u8(): number {
    if (this.pos >= this.end) throw new MalformedBinaryError('unexpected end of input')
    return this.bytes[this.pos++] as number
  }

  /** Returns a view (not a copy) of the next `length` bytes. */
  take(length: number): Uint8Array {
    if (length < 0 || this.pos + length > this.end) throw new MalformedBinaryError('unexpected end of input')
    const view = this.bytes.subarray(this.pos, this.pos + length)
    this.pos += length
    return view
  }

  skip(length: number): void {
    this.take(length)
  }

  /** Unsigned LEB128, at most 32 bits (5 bytes, unused high bits of the last byte zero). */
  u32(): number {
    let result = 0
    for (let i = 0; i < 5; i++) {
      const byte = this.u8()
      if (i === 4 && (byte & 0xf0) !== 0) throw new MalformedBinaryError('u32 LEB128 overflow')
      result += (byte & 0x7f) * 2 ** (7 * i)
      if ((byte & 0x80) === 0) return result
    }
    throw new MalformedBinaryError('u32 LEB128 too long')
  }

  /**
   * Signed LEB128 of at most `bits` bits, returned as a number (exact for bits <= 33, which is
   * all the instrumenter needs the value of: block types). Wider values are only skipped.
   */
  sleb(bits: 32 | 33): number {
    const maxBytes = Math.ceil(bits / 7)
    let result = 0
    for (let i = 0; i < maxBytes; i++) {
      const byte = this.u8()
      result += (byte & 0x7f) * 2 ** (7 * i)
      if ((byte & 0x80) === 0) {
        const width = 7 * (i + 1)
        if (i === maxBytes - 1) checkUnusedBits(byte, bits, width)
        // Sign-extend from the width that was read.
        if ((byte & 0x40) !== 0) result -= 2 ** width
        return result
      }
    }
    throw new MalformedBinaryError(`s${bits} LEB128 too long`)
  }

  /** Skips a signed LEB128 of at most `bits` bits, validating its length and padding. */
  skipSleb(bits: 32 | 64): void {
    const maxBytes = Math.ceil(bits / 7)
    for (let i = 0; i < maxBytes; i++) {
      const byte = this.u8()
      if ((byte & 0x80) === 0) {
        if (i === maxBytes - 1) checkUnusedBits(byte, bits, 7 * maxBytes)
        return
      }
    }
    throw new MalformedBinaryError(`s${bits} LEB128 too long`)
  }

  /** A length-prefixed UTF-8 name, decoded exactly: a leading U+FEFF is part of the name, not a byte-order mark. */
  name(): string {
    const length = this.u32()
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(this.take(length))
    } catch (error) {
      if (error instanceof MalformedBinaryError) throw error
      throw new MalformedBinaryError('name is not valid UTF-8')
    }
  }
}

/**
 * In the last byte of a maximal-length signed LEB128, the bits beyond `bits` must all equal the
 * sign bit (the spec rejects anything else).
 */
function checkUnusedBits(lastByte: number, bits: number, width: number): void {
  const payloadBits = 7 - (width - bits) // meaningful bits in the last byte
  const unused = lastByte >> (payloadBits - 1) // sign bit and the unused bits above it
  const allOnes = (1 << (7 - payloadBits + 1)) - 1
  if (unused !== 0 && unused !== allOnes) throw new MalformedBinaryError(`s${bits} LEB128 overflow`)
}

/** An append-only byte buffer that grows by doubling. */
export class ByteWriter {
  private buffer: Uint8Array
  length = 0

  constructor(initialCapacity = 1024) {
    this.buffer = new Uint8Array(Math.max(16, initialCapacity))
  }

  private reserve(extra: number): void {
    const needed = this.length + extra
    if (needed <= this.buffer.length) return
    let capacity = this.buffer.length * 2
    while (capacity < needed) capacity *= 2
    const next = new Uint8Array(capacity)
    next.set(this.buffer.subarray(0, this.length))
    this.buffer = next
  }

  u8(byte: number): this {
    this.reserve(1)
    this.buffer[this.length++] = byte
    return this
  }

  bytes(bytes: Uint8Array): this {
    this.reserve(bytes.length)
    this.buffer.set(bytes, this.length)
    this.length += bytes.length
    return this
  }

  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new RangeError(`not a u32: ${value}`)
    let rest = value
    do {
      let byte = rest % 128
      rest = Math.floor(rest / 128)
      if (rest !== 0) byte |= 0x80
      this.u8(byte)
    } while (rest !== 0)
    return this
  }

  /** Signed LEB128 of a safe integer (enough for i32 constants and s33 block types). */
  sleb(value: number): this {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`)
    let rest = value
    for (;;) {
      const byte = ((rest % 128) + 128) % 128
      rest = Math.floor(rest / 128)
      const signBitSet = (byte & 0x40) !== 0
      if ((rest === 0 && !signBitSet) || (rest === -1 && signBitSet)) {
        this.u8(byte)
        return this
      }
      this.u8(byte | 0x80)
    }
  }

  /** Signed LEB128 of an i64 constant. */
  sleb64(value: bigint): this {
    let rest = BigInt.asIntN(64, value)
    for (;;) {
      const byte = Number(rest & 0x7fn)
      rest >>= 7n
      const signBitSet = (byte & 0x40) !== 0
      if ((rest === 0n && !signBitSet) || (rest === -1n && signBitSet)) {
        this.u8(byte)
        return this
      }
      this.u8(byte | 0x80)
    }
  }

  name(value: string): this {
    const encoded = new TextEncoder().encode(value)
    return this.u32(encoded.length).bytes(encoded)
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.length)
  }
}
