import type { Stream } from '@libp2p/interface'

/** A chunk as libp2p streams yield it: bytes, or a list of byte arrays (`Uint8ArrayList`). */
type Chunk = Uint8Array | { subarray(): Uint8Array }

/** The stream ended before the bytes a reader asked for arrived. */
export class UnexpectedEndError extends Error {
  override name = 'UnexpectedEndError'
}

export interface StreamReader {
  /** Exactly `n` bytes; throws `UnexpectedEndError` if the stream ends first. */
  read(n: number): Promise<Uint8Array>
}

/**
 * Reads fixed-size fields from a libp2p stream. It buffers at most one chunk beyond what was asked
 * for, so a peer that sends more than it announced cannot make it hold more than the muxer's
 * window.
 */
export function createStreamReader(stream: Stream): StreamReader {
  const source = stream[Symbol.asyncIterator]()
  let buffer: Uint8Array = new Uint8Array(0)
  return {
    async read(n) {
      if (n === 0) return new Uint8Array(0)
      const parts: Uint8Array[] = []
      let have = 0
      while (have < n) {
        if (buffer.byteLength === 0) {
          const next = await source.next()
          if (next.done === true) throw new UnexpectedEndError(`stream ended after ${have} of ${n} bytes`)
          const chunk = next.value as Chunk
          buffer = chunk instanceof Uint8Array ? chunk : chunk.subarray()
          continue
        }
        const take = Math.min(n - have, buffer.byteLength)
        parts.push(buffer.subarray(0, take))
        buffer = buffer.subarray(take)
        have += take
      }
      // Always a fresh, plain Uint8Array: chunks may be Node Buffers over shared memory.
      const out = new Uint8Array(n)
      let at = 0
      for (const part of parts) {
        out.set(part, at)
        at += part.byteLength
      }
      return out
    },
  }
}

const writeChunkBytes = 64 * 1024

/** Sends `bytes` in chunks, waiting for the stream to drain when its write buffer is full. */
export async function writeAll(stream: Stream, bytes: Uint8Array, signal?: AbortSignal): Promise<void> {
  for (let at = 0; at < bytes.byteLength; at += writeChunkBytes) {
    if (!stream.send(bytes.subarray(at, at + writeChunkBytes))) await stream.onDrain(signal === undefined ? undefined : { signal })
  }
}

/** Aborts `stream` when `signal` fires; returns the function that stops watching. */
export function abortStreamOn(stream: Stream, signal: AbortSignal): () => void {
  const onAbort = (): void => stream.abort(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
  if (signal.aborted) {
    onAbort()
    return () => {}
  }
  signal.addEventListener('abort', onAbort, { once: true })
  return () => signal.removeEventListener('abort', onAbort)
}

export function uint32(value: number): Uint8Array {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value)
  return out
}

export function readUint32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0)
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.byteLength
  }
  return out
}
