import type { Stream } from '@libp2p/interface'
import { bytesToHex, hexToBytes } from 'viem'
import type { Hex } from '../../core/types.ts'
import type { BlobProvider } from '../../ports/network.ts'
import { concatBytes, createStreamReader, readUint32, uint32, writeAll } from './streamIo.ts'

/**
 * Blob request-response over one libp2p stream per request.
 *
 *   request   cid (32 bytes) ‖ maxBytes (uint32, big-endian)        then the requester closes its write side
 *   response  status (1 byte): 0 found, 1 not found, 2 too large
 *             found only: length (uint32, big-endian) ‖ the bytes    then the server closes
 *
 * The requester checks `length ≤ maxBytes` before reading the body and aborts the stream otherwise,
 * then reads exactly `length` bytes: a server can never make it buffer more than it asked for
 * (plus one muxer window). The server answers "too large" without sending a blob above the
 * requester's limit or its own.
 */
export const blobProtocol = '/veritask/blob/1.0.0'

const status = { found: 0, notFound: 1, tooLarge: 2 } as const

export type BlobAnswer = { kind: 'found'; bytes: Uint8Array } | { kind: 'not-found' } | { kind: 'too-large' }

/** Asks the peer at the other end of `stream` for `cid`. Throws on protocol errors and aborts. */
export async function requestBlob(stream: Stream, cid: Hex, maxBytes: number, signal?: AbortSignal): Promise<BlobAnswer> {
  await writeAll(stream, concatBytes(hexToBytes(cid), uint32(maxBytes)), signal)
  await stream.close(signal === undefined ? undefined : { signal })
  const reader = createStreamReader(stream)
  const [code] = await reader.read(1)
  if (code === status.notFound) return { kind: 'not-found' }
  if (code === status.tooLarge) return { kind: 'too-large' }
  if (code !== status.found) throw new Error(`unknown blob response status ${code}`)
  const length = readUint32(await reader.read(4))
  if (length > maxBytes) {
    stream.abort(new Error(`blob of ${length} bytes exceeds the ${maxBytes}-byte limit`))
    return { kind: 'too-large' }
  }
  return { kind: 'found', bytes: await reader.read(length) }
}

/**
 * Answers one blob request on `stream` from `provider`, serving nothing above `maxBlobBytes`.
 * Returns the number of bytes served, or undefined when it sent no blob.
 */
export async function serveBlobRequest(
  stream: Stream,
  provider: BlobProvider | undefined,
  maxBlobBytes: number,
  signal?: AbortSignal,
): Promise<number | undefined> {
  const request = await createStreamReader(stream).read(36)
  const cid = bytesToHex(request.subarray(0, 32))
  const limit = Math.min(readUint32(request.subarray(32)), maxBlobBytes)
  let bytes: Uint8Array | undefined
  try {
    bytes = await provider?.(cid)
  } catch {
    bytes = undefined // a failing provider is this node's problem; the requester asks someone else
  }
  let served: number | undefined
  if (bytes === undefined) await writeAll(stream, Uint8Array.of(status.notFound), signal)
  else if (bytes.byteLength > limit) await writeAll(stream, Uint8Array.of(status.tooLarge), signal)
  else {
    await writeAll(stream, concatBytes(Uint8Array.of(status.found), uint32(bytes.byteLength)), signal)
    await writeAll(stream, bytes, signal)
    served = bytes.byteLength
  }
  await stream.close(signal === undefined ? undefined : { signal })
  return served
}
