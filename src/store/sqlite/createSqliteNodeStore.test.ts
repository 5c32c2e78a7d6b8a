import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, openSync, closeSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir as makeTempDir, withTempDir } from '../../../test/helpers/tempDir.ts'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { keccak256, stringToBytes, toHex, zeroAddress, zeroHash } from 'viem'
import { describeNodeStoreCompliance, makeOwnCommit, makeSignedTask } from '../../../test/helpers/storeCompliance.ts'
import type { OwnCommit } from '../../ports/node.ts'
import { StoreError } from '../errors.ts'
import type { StoreErrorCode } from '../errors.ts'
import { createSqliteNodeStore } from './createSqliteNodeStore.ts'
import type { SqliteNodeStore } from './createSqliteNodeStore.ts'
import { migrations, storeApplicationId } from './migrations.ts'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const storeModule = new URL('./createSqliteNodeStore.ts', import.meta.url).href

const tempDir = () => makeTempDir('veritask-sqlite-')

const isStoreError = (code: StoreErrorCode) => (error: unknown) => error instanceof StoreError && error.code === code

describeNodeStoreCompliance('sqlite', () => {
  const dir = tempDir()
  const path = join(dir, 'node.sqlite')
  let store = createSqliteNodeStore({ path })
  return {
    store,
    reopen() {
      store.close()
      store = createSqliteNodeStore({ path })
      return store
    },
    cleanup() {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}, { durable: true })

const withDir = (fn: (dir: string) => Promise<void> | void) => withTempDir(fn, 'veritask-sqlite-')

/**
 * Starts a process that opens the store, stores `commit` and a batch signature, prints `ready` and
 * waits; kills it with SIGKILL as soon as `ready` arrives, so the store is never closed.
 */
async function storeThenKill(path: string, commit: OwnCommit, batch: { digest: string; signature: string }): Promise<void> {
  const code = `
    const { createSqliteNodeStore } = await import(${JSON.stringify(storeModule)})
    const store = createSqliteNodeStore({ path: process.env.STORE_PATH })
    const batch = JSON.parse(process.env.STORE_BATCH)
    store.putOwnCommits([JSON.parse(process.env.STORE_COMMIT)])
    store.putBatchSignature(3n, 0, batch.digest, batch.signature)
    process.stdout.write('ready\\n')
    setInterval(() => {}, 60_000)
  `
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    env: { ...process.env, STORE_PATH: path, STORE_COMMIT: JSON.stringify(commit), STORE_BATCH: JSON.stringify(batch) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  const ready = new Promise<void>((resolve, reject) => {
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      if (stdout.includes('ready\n')) resolve()
    })
    void exited.then(([status]) => reject(new Error(`the writer exited (${status}) before it was ready:\n${stderr}`)))
  })
  await ready
  child.kill('SIGKILL')
  const [status, signal] = await exited
  assert.equal(signal, 'SIGKILL', `the writer was not killed (exit ${status})`)
}

describe('createSqliteNodeStore', () => {
  it('keeps a commit written just before kill -9, identical, and still refuses a different one', () =>
    withDir(async (dir) => {
      const path = join(dir, 'node.sqlite')
      const { taskId } = await makeSignedTask(1n)
      const commit = await makeOwnCommit(taskId, 'a')
      const batch = { digest: keccak256(stringToBytes('batch 3')), signature: toHex(new Uint8Array(65).fill(3)) }
      await storeThenKill(path, commit, batch)
      // The killed process never closed the database: what it wrote is only in the write-ahead log.
      assert.equal(existsSync(`${path}-wal`), true)
      const store = createSqliteNodeStore({ path })
      try {
        assert.deepEqual(store.getOwnCommit(taskId), commit)
        assert.deepEqual(store.getBatchSignature(3n, 0), batch)
        store.putOwnCommits([commit])
        assert.throws(() => store.putOwnCommits([{ ...commit, salt: keccak256(stringToBytes('new salt')) }]), isStoreError('STORE_CONFLICT'))
      } finally {
        store.close()
      }
    }))

  it('reopens idempotently: same data, same schema version, every time', () =>
    withDir(async (dir) => {
      const path = join(dir, 'state', 'node.sqlite')
      const task = await makeSignedTask(2n)
      const commit = await makeOwnCommit(task.taskId, 'b')
      let store = createSqliteNodeStore({ path })
      store.putSpec(task.taskId, task.signed)
      store.putOwnCommits([commit])
      store.close()
      store.close()
      for (let i = 0; i < 3; i++) {
        store = createSqliteNodeStore({ path })
        assert.deepEqual(store.getSpec(task.taskId), task.signed)
        assert.deepEqual(store.getOwnCommit(task.taskId), commit)
        assert.deepEqual(store.openTasks(), [task])
        store.close()
      }
      const raw = new Database(path, { readonly: true })
      try {
        assert.equal(raw.pragma('user_version', { simple: true }), migrations.length)
        assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal')
      } finally {
        raw.close()
      }
    }))

  it('lets one store hold the file at a time (STORE_LOCKED), and the next one in once it is closed', () =>
    withDir((dir) => {
      const path = join(dir, 'node.sqlite')
      const first = createSqliteNodeStore({ path })
      assert.throws(() => createSqliteNodeStore({ path, lockTimeoutMs: 0 }), isStoreError('STORE_LOCKED'))
      first.close()
      createSqliteNodeStore({ path, lockTimeoutMs: 0 }).close()
    }))

  it('refuses a file that is not a database (STORE_CORRUPT)', () =>
    withDir((dir) => {
      const path = join(dir, 'node.sqlite')
      writeFileSync(path, Uint8Array.from({ length: 16_384 }, (_, i) => (i * 7919) & 0xff))
      assert.throws(() => createSqliteNodeStore({ path }), (error: unknown) => {
        assert.ok(isStoreError('STORE_CORRUPT')(error))
        assert.match((error as StoreError).describe(), /hint: Restore the file/)
        return true
      })
    }))

  it('refuses a store whose schema page is damaged (STORE_CORRUPT)', () =>
    withDir((dir) => {
      const path = join(dir, 'node.sqlite')
      createSqliteNodeStore({ path }).close()
      const fd = openSync(path, 'r+')
      writeSync(fd, new Uint8Array(3_900).fill(0xa5), 0, 3_900, 150)
      closeSync(fd)
      assert.throws(() => createSqliteNodeStore({ path }), isStoreError('STORE_CORRUPT'))
    }))

  it('reports a row changed outside veritask as STORE_CORRUPT when it is read', () =>
    withDir(async (dir) => {
      const path = join(dir, 'node.sqlite')
      const task = await makeSignedTask(3n)
      let store: SqliteNodeStore = createSqliteNodeStore({ path })
      store.putSpec(task.taskId, task.signed)
      store.close()
      const raw = new Database(path)
      raw.prepare("UPDATE specs SET spec = '{\"type\":\"spec\"' WHERE task_id = ?").run(task.taskId)
      raw.close()
      store = createSqliteNodeStore({ path })
      try {
        assert.throws(() => store.getSpec(task.taskId), isStoreError('STORE_CORRUPT'))
        assert.throws(() => store.openTasks(), isStoreError('STORE_CORRUPT'))
      } finally {
        store.close()
      }
    }))

  it('migrates a version-1 store, whose own commits held signed commits, keeping each commitment', () =>
    withDir(async (dir) => {
      const path = join(dir, 'node.sqlite')
      const task = await makeSignedTask(5n)
      const commit = await makeOwnCommit(task.taskId, 'v1')
      const raw = new Database(path)
      raw.pragma(`application_id = ${storeApplicationId}`)
      raw.exec(migrations[0]!)
      raw.pragma('user_version = 1')
      const signed = { message: { taskId: commit.taskId, commitment: commit.commitment }, signer: zeroAddress, signature: `0x${'11'.repeat(65)}` }
      raw
        .prepare('INSERT INTO own_commits (task_id, status, result_hash, salt, signed) VALUES (?, ?, ?, ?, ?)')
        .run(commit.taskId, commit.status, commit.resultHash, commit.salt, JSON.stringify(signed))
      raw.close()
      const store = createSqliteNodeStore({ path })
      try {
        assert.deepEqual(store.getOwnCommit(task.taskId), commit)
        assert.throws(() => store.putOwnCommits([{ ...commit, commitment: zeroHash }]), isStoreError('STORE_CONFLICT'))
      } finally {
        store.close()
      }
    }))

  it('migrates a version-2 store, whose batch signatures had no round, to round 0 of each epoch', () =>
    withDir(async (dir) => {
      const path = join(dir, 'node.sqlite')
      const raw = new Database(path)
      raw.pragma(`application_id = ${storeApplicationId}`)
      raw.exec(migrations[0]!)
      raw.exec(migrations[1]!)
      raw.pragma('user_version = 2')
      const digest = keccak256(stringToBytes('epoch 4'))
      const signature = `0x${'22'.repeat(65)}` as const
      raw.prepare('INSERT INTO batch_signatures (epoch, digest, signature) VALUES (?, ?, ?)').run(4n, digest, signature)
      raw.close()
      const store = createSqliteNodeStore({ path })
      try {
        assert.deepEqual(store.getBatchSignature(4n, 0), { digest, signature })
        assert.equal(store.getBatchSignature(4n, 1), undefined)
        assert.throws(() => store.putBatchSignature(4n, 0, zeroHash, signature), isStoreError('STORE_CONFLICT'))
      } finally {
        store.close()
      }
    }))

  it("refuses another application's database and a newer schema (STORE_INCOMPATIBLE)", () =>
    withDir((dir) => {
      const foreign = join(dir, 'foreign.sqlite')
      const raw = new Database(foreign)
      raw.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY)')
      raw.close()
      assert.throws(() => createSqliteNodeStore({ path: foreign }), isStoreError('STORE_INCOMPATIBLE'))

      const newer = join(dir, 'newer.sqlite')
      createSqliteNodeStore({ path: newer }).close()
      const db = new Database(newer)
      db.pragma(`user_version = ${migrations.length + 1}`)
      db.close()
      assert.throws(() => createSqliteNodeStore({ path: newer }), isStoreError('STORE_INCOMPATIBLE'))
    }))

  it('reports a data dir that cannot be created, and use after close, as STORE_UNAVAILABLE', () =>
    withDir((dir) => {
      const notADir = join(dir, 'file')
      writeFileSync(notADir, 'not a directory')
      assert.throws(() => createSqliteNodeStore({ path: join(notADir, 'node.sqlite') }), isStoreError('STORE_UNAVAILABLE'))
      assert.throws(() => createSqliteNodeStore({ path: dir }), isStoreError('STORE_UNAVAILABLE'))
      const store = createSqliteNodeStore({ path: join(dir, 'node.sqlite') })
      store.close()
      assert.throws(() => store.getVerdict(keccak256('0x')), isStoreError('STORE_UNAVAILABLE'))
    }))
})
