/**
 * Splitting a job's input into chunks, as pure functions over bytes. Each file is chunked on its
 * own (a chunk never spans two files), in the order the files are given.
 */

/** One named piece of input: a file's relative path and its bytes. */
export interface InputFile {
  path: string
  bytes: Uint8Array
}

/** How a chunk boundary is chosen. */
export type SplitMode =
  /** After the last newline that fits; else after the last ASCII whitespace; else exactly at the size. Words and lines stay whole. */
  | 'lines'
  /** Exactly every `chunkSize` bytes. */
  | 'bytes'

export interface PlanChunksParameters {
  files: readonly InputFile[]
  /** Largest chunk in bytes; a file that fits is one chunk. Default: one chunk per file. */
  chunkSize?: number
  split?: SplitMode
}

/** One chunk of a job's input: it runs as one task. */
export interface Chunk {
  /** Position in the job, from 0. */
  index: number
  /** The file it comes from, and where in it. */
  source: string
  offset: number
  bytes: Uint8Array
}

const NEWLINE = 0x0a

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d)
}

/** The length of the next chunk of `bytes` from `start`: at most `size`, cut at a boundary the mode prefers. */
export function nextChunkLength(bytes: Uint8Array, start: number, size: number, split: SplitMode): number {
  const rest = bytes.length - start
  if (rest <= size || split === 'bytes') return Math.min(rest, size)
  const end = start + size
  // Cut after the boundary byte, so it belongs to the chunk before: no chunk starts mid-line.
  for (let i = end - 1; i >= start; i--) if (bytes[i] === NEWLINE) return i + 1 - start
  for (let i = end - 1; i >= start; i--) if (isWhitespace(bytes[i]!)) return i + 1 - start
  return size
}

/**
 * Splits files into chunks of at most `chunkSize` bytes. Empty files give no chunks; the caller
 * decides whether no chunks at all is an error. The chunks' bytes are views into the files' bytes.
 */
export function planChunks({ files, chunkSize, split = 'lines' }: PlanChunksParameters): Chunk[] {
  if (chunkSize !== undefined && (!Number.isSafeInteger(chunkSize) || chunkSize < 1)) {
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`)
  }
  const chunks: Chunk[] = []
  for (const file of files) {
    const size = chunkSize ?? Math.max(1, file.bytes.length)
    let offset = 0
    while (offset < file.bytes.length) {
      const length = nextChunkLength(file.bytes, offset, size, split)
      chunks.push({ index: chunks.length, source: file.path, offset, bytes: file.bytes.subarray(offset, offset + length) })
      offset += length
    }
  }
  return chunks
}
