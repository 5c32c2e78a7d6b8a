import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir as makeTempDir, withTempDir } from '../../../test/helpers/tempDir.ts'
import { describe, it } from 'node:test'
import { stringToBytes } from 'viem'
import { describeBlobStoreCompliance } from '../../../test/helpers/storeCompliance.ts'
import type { Hex } from '../../core/types.ts'
import { StoreError } from '../errors.ts'
import type { StoreErrorCode } from '../errors.ts'
import { createDiskBlobStore } from './createDiskBlobStore.ts'

const tempDir = () => makeTempDir('veritask-blobs-')

const isStoreError = (code: StoreErrorCode) => (error: unknown) => error instanceof StoreError && error.code === code

describeBlobStoreCompliance('disk', () => {
  const dir = tempDir()
  return {
    store: createDiskBlobStore({ dir }),
    reopen: () => createDiskBlobStore({ dir }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}, { durable: true })

const withDir = (fn: (dir: string) => Promise<void> | void) => withTempDir(fn, 'veritask-blobs-')

describe('createDiskBlobStore', () => {
  it('keeps each blob in <dir>/<first two hex digits>/<64 hex digits>, with no temp files left', () =>
    withDir((dir) => {
      const bytes = stringToBytes('layout')
      const cid = createDiskBlobStore({ dir }).put(bytes)
      const file = join(dir, cid.slice(2, 4), cid.slice(2))
      assert.deepEqual(new Uint8Array(readFileSync(file)), bytes)
      assert.deepEqual(readdirSync(join(dir, 'tmp')), [])
    }))

  it('treats a file whose bytes do not match its name as missing, removes it, and takes the blob again', () =>
    withDir((dir) => {
      const corrupt: Hex[] = []
      const store = createDiskBlobStore({ dir, onCorrupt: (cid) => corrupt.push(cid) })
      const bytes = stringToBytes('the real program')
      const cid = store.put(bytes)
      const file = join(dir, cid.slice(2, 4), cid.slice(2))
      for (const damaged of [stringToBytes('the real progra'), stringToBytes('the real Program'), new Uint8Array(0)]) {
        writeFileSync(file, damaged)
        assert.equal(store.get(cid), undefined)
        assert.equal(existsSync(file), false)
        assert.equal(store.has(cid), false)
        assert.equal(store.put(bytes), cid)
        assert.deepEqual(store.get(cid), bytes)
      }
      assert.deepEqual(corrupt, [cid, cid, cid])
    }))

  it('refuses a blob above its size limit (STORE_TOO_LARGE)', () =>
    withDir((dir) => {
      const store = createDiskBlobStore({ dir, maxBytes: 8 })
      assert.equal(store.get(store.put(new Uint8Array(8)))?.length, 8)
      assert.throws(() => store.put(new Uint8Array(9)), isStoreError('STORE_TOO_LARGE'))
      assert.deepEqual(readdirSync(join(dir, 'tmp')), [])
    }))

  it('removes temp files a crashed writer left behind when it opens', () =>
    withDir((dir) => {
      mkdirSync(join(dir, 'tmp'), { recursive: true })
      writeFileSync(join(dir, 'tmp', 'abcd.123.0'), 'half a blob')
      createDiskBlobStore({ dir })
      assert.deepEqual(readdirSync(join(dir, 'tmp')), [])
    }))

  it('reports a directory it cannot create or write as STORE_UNAVAILABLE', () =>
    withDir((dir) => {
      const notADir = join(dir, 'file')
      writeFileSync(notADir, 'not a directory')
      assert.throws(() => createDiskBlobStore({ dir: join(notADir, 'blobs') }), (error: unknown) => {
        assert.ok(isStoreError('STORE_UNAVAILABLE')(error))
        assert.match((error as StoreError).describe(), /hint: Check that the data dir exists/)
        return true
      })
    }))
})
