import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { contentId } from '../../core/contentId.ts'
import { defaultParams } from '../../core/params.ts'
import type { Hex } from '../../core/types.ts'
import type { BlobStore } from '../../ports/node.ts'
import { StoreError } from '../errors.ts'

export interface CreateDiskBlobStoreParameters {
  /** The store's directory; created if missing. */
  dir: string
  /**
   * Largest blob `put` accepts, in bytes; larger ones throw `STORE_TOO_LARGE`. Defaults to the
   * largest blob the default protocol parameters allow (program, input or output).
   */
  maxBytes?: number
  /** Called when `get` finds a file whose bytes do not match its name; the file is then removed. */
  onCorrupt?: (cid: Hex, path: string) => void
}

const cidPattern = /^0x[0-9a-f]{64}$/

/**
 * Content-addressed blobs on disk: the blob with content id `0xabcd…` lives in `<dir>/ab/abcd…`
 * (the id's 64 hex digits, lowercase).
 *
 * - `put` writes a temp file under `<dir>/tmp/` and renames it into place, so a blob is either
 *   absent or complete after a process crash; leftover temp files are removed on open. A blob
 *   already present (same size) is not rewritten.
 * - No fsync: blobs are a cache of bytes anyone can check, not state the node vouches for. After
 *   a power loss a blob may be missing or torn; `get` then finds it missing and the node fetches
 *   it again (its own results are also served by the other executors). An fsync per put cost tens
 *   of milliseconds of a blocked event loop per task on a node busy with gossip.
 * - `get` hashes what it reads: a file whose keccak256 does not match its name is treated as
 *   missing and removed (and reported to `onCorrupt`), so the node fetches it again. Hashing costs
 *   time proportional to the blob on every read.
 * - `has` only checks that the file exists; it does not read it.
 * - Content ids are matched case-insensitively; a string that is not a content id is simply not
 *   found, so it can never name a path outside the store.
 * - One process per directory (the node's data dir, which its SQLite node store locks): opening
 *   removes whatever is in `<dir>/tmp/`.
 */
export function createDiskBlobStore({
  dir,
  maxBytes = Math.max(defaultParams.maxProgramBytes, defaultParams.maxInputBytes, defaultParams.maxOutputBytes),
  onCorrupt,
}: CreateDiskBlobStoreParameters): BlobStore {
  const root = resolve(dir)
  const tmp = join(root, 'tmp')
  let tmpCounter = 0
  try {
    mkdirSync(tmp, { recursive: true })
    for (const name of readdirSync(tmp)) rmSync(join(tmp, name), { force: true, recursive: true })
    // Proves the directory is writable now, rather than at the first put.
    const probe = join(tmp, `probe.${process.pid}`)
    closeSync(openSync(probe, 'w'))
    rmSync(probe)
  } catch (cause) {
    throw unavailable(root, 'open', cause)
  }

  /** The file of `cid`, or undefined if `cid` is not a content id. */
  function pathOf(cid: Hex): string | undefined {
    const id = cid.toLowerCase()
    if (!cidPattern.test(id)) return undefined
    return join(root, id.slice(2, 4), id.slice(2))
  }

  function sizeOf(path: string): number | undefined {
    try {
      const stats = statSync(path)
      return stats.isFile() ? stats.size : undefined
    } catch (cause) {
      if (isNotFound(cause)) return undefined
      throw unavailable(root, 'stat', cause)
    }
  }

  return {
    put(bytes) {
      if (bytes.byteLength > maxBytes) {
        throw new StoreError('STORE_TOO_LARGE', `A blob of ${bytes.byteLength} bytes exceeds the store's ${maxBytes}-byte limit.`, {
          details: { size: bytes.byteLength, maxBytes },
        })
      }
      const cid = contentId(bytes)
      const path = pathOf(cid) as string
      if (sizeOf(path) === bytes.byteLength) return cid
      const temp = join(tmp, `${cid.slice(2)}.${process.pid}.${tmpCounter++}`)
      try {
        writeFile(temp, bytes)
        mkdirSync(join(root, cid.slice(2, 4)), { recursive: true })
        renameSync(temp, path)
        return cid
      } catch (cause) {
        rmSync(temp, { force: true })
        throw unavailable(root, 'write', cause)
      }
    },

    get(cid) {
      const path = pathOf(cid)
      if (path === undefined) return undefined
      let bytes: Uint8Array
      try {
        const buffer = readFileSync(path)
        bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
      } catch (cause) {
        if (isNotFound(cause)) return undefined
        throw unavailable(root, 'read', cause)
      }
      if (contentId(bytes) === cid.toLowerCase()) return bytes
      rmSync(path, { force: true })
      onCorrupt?.(cid.toLowerCase() as Hex, path)
      return undefined
    },

    has(cid) {
      const path = pathOf(cid)
      return path !== undefined && sizeOf(path) !== undefined
    },
  }
}

function writeFile(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'wx')
  try {
    let written = 0
    while (written < bytes.byteLength) written += writeSync(fd, bytes, written, bytes.byteLength - written)
  } finally {
    closeSync(fd)
  }
}

const isCode = (error: unknown, code: string): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code

const isNotFound = (error: unknown): boolean => isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')

function unavailable(root: string, action: 'open' | 'read' | 'write' | 'stat', cause: unknown): StoreError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new StoreError('STORE_UNAVAILABLE', `The blob store at ${root} cannot ${action === 'open' ? 'be opened' : action}: ${reason}`, {
    details: { path: root, action, reason, code: (cause as { code?: unknown } | undefined)?.code },
    hint: 'Check that the data dir exists, is writable by this user, and that the disk is not full.',
    cause,
  })
}
