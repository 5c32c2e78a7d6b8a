import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import Database from 'better-sqlite3'
import { decodeMessage, encodeMessage } from '../../core/messages.ts'
import type { Hex, Outcome, ResultStatus, SignedSpec, Verdict } from '../../core/types.ts'
import type { NodeStore, OwnCommit } from '../../ports/node.ts'
import { assertSameBatchDigest, assertSameOwnCommit } from '../conflicts.ts'
import { StoreError } from '../errors.ts'
import { migrations, storeApplicationId } from './migrations.ts'

export interface CreateSqliteNodeStoreParameters {
  /** The database file. Its directory is created if missing. */
  path: string
  /**
   * How long to wait, in ms, for another holder of the database to let go before failing with
   * `STORE_LOCKED` (default 2000): a restarted daemon may start while the old one is still exiting.
   */
  lockTimeoutMs?: number
}

export type SqliteNodeStore = NodeStore & {
  /** Closes the database; later calls throw `STORE_UNAVAILABLE`. Closing twice does nothing. */
  close(): void
}

/**
 * Node state in one SQLite file, for daemons: specs, the node's own commits with their salts,
 * verdicts, and its batch signatures.
 *
 * - WAL journal, `locking_mode = EXCLUSIVE`: one process holds the file for as long as the store is
 *   open. A second node started on the same data dir fails with `STORE_LOCKED` instead of signing
 *   beside the first.
 * - Durability: every write is atomic and survives `kill -9` of the process as soon as the call
 *   returns. What the node signs (own commits, batch signatures) is written with
 *   `synchronous = FULL`, which fsyncs the WAL before returning, so it also survives a power loss
 *   or kernel crash: the node persists a commit and only then sends it, and must never sign a
 *   different one after any kind of crash. Specs and verdicts use `synchronous = NORMAL` (no fsync;
 *   ~100× faster here): a power loss may drop the last of them, which costs at most re-work, never
 *   a contradiction. Because the WAL is one append-only file, a FULL commit also makes everything
 *   written before it durable.
 * - Specs are stored in their wire form (JSON, bigints as decimal strings) and schema-checked when
 *   read, so they come back canonical: checksummed addresses, lowercase hex.
 * - The schema is versioned with `PRAGMA user_version` and migrated forward on open; the file is
 *   tagged with `PRAGMA application_id`, so another SQLite file is refused (`STORE_INCOMPATIBLE`)
 *   rather than written into.
 */
export function createSqliteNodeStore({ path, lockTimeoutMs = 2000 }: CreateSqliteNodeStoreParameters): SqliteNodeStore {
  const file = resolve(path)
  try {
    mkdirSync(dirname(file), { recursive: true })
  } catch (cause) {
    throw unavailable(file, cause)
  }
  let db: Database.Database
  try {
    db = new Database(file, { timeout: lockTimeoutMs })
  } catch (cause) {
    throw toStoreError(cause, file)
  }
  let statements: ReturnType<typeof prepareStatements>
  try {
    // Order matters: exclusive locking must be set before WAL is entered, so that no shared-memory
    // index (-shm file) is used and the lock is held until close.
    db.pragma('locking_mode = EXCLUSIVE')
    const mode = db.pragma('journal_mode = WAL', { simple: true })
    if (mode !== 'wal') {
      throw new StoreError('STORE_UNAVAILABLE', `The node store at ${file} cannot use a write-ahead log (journal mode ${String(mode)}).`, {
        details: { path: file, journalMode: mode },
        hint: 'Put the data dir on a local file system.',
      })
    }
    db.pragma('synchronous = NORMAL')
    // SQLite's own default page cache (2 MiB) rather than better-sqlite3's 16 MiB: a node reads
    // back mostly what it wrote moments ago, and with five nodes in one process the larger cache
    // was most of the devnet's memory growth over a long run (bench/results/memory.md).
    db.pragma('cache_size = -2000')
    durably(db, () => db.transaction(() => migrate(db, file)).exclusive())
    statements = prepareStatements(db)
  } catch (cause) {
    db.close()
    throw toStoreError(cause, file)
  }

  const getOwnCommit = (taskId: Hex): OwnCommit | undefined => {
    const row = statements.getOwnCommit.get(taskId)
    return row === undefined ? undefined : decodeOwnCommit(row, file)
  }
  const getBatchSignature = (epoch: bigint, round: number) => statements.getBatchSignature.get(epoch, round) as { digest: Hex; signature: Hex } | undefined

  const putOwnCommits = db.transaction((commits: readonly OwnCommit[]) => {
    for (const commit of commits) {
      const stored = getOwnCommit(commit.taskId)
      if (stored !== undefined) assertSameOwnCommit(stored, commit)
      else statements.putOwnCommit.run(commit.taskId, commit.status, commit.resultHash, commit.salt, commit.commitment)
    }
  })
  const putBatchSignature = db.transaction((epoch: bigint, round: number, digest: Hex, signature: Hex) => {
    const stored = getBatchSignature(epoch, round)
    if (stored !== undefined) return assertSameBatchDigest(epoch, round, stored, digest)
    statements.putBatchSignature.run(epoch, round, digest, signature)
  })

  let closed = false
  /** Runs `fn` on the open database, turning SQLite's errors into `StoreError`s. */
  function use<T>(fn: () => T): T {
    if (closed) {
      throw new StoreError('STORE_UNAVAILABLE', `The node store at ${file} is closed.`, { details: { path: file } })
    }
    try {
      return fn()
    } catch (cause) {
      throw toStoreError(cause, file)
    }
  }

  return {
    putSpec: (taskId, signed) => use(() => void statements.putSpec.run(taskId, encodeSpec(signed))),
    getSpec: (taskId) =>
      use(() => {
        const row = statements.getSpec.get(taskId)
        return row === undefined ? undefined : decodeSpec(row.spec, taskId, file)
      }),
    putOwnCommits: (commits) => use(() => durably(db, () => putOwnCommits.immediate(commits))),
    getOwnCommit: (taskId) => use(() => getOwnCommit(taskId)),
    putVerdict: (verdict) => use(() => void statements.putVerdict.run(verdict.taskId, JSON.stringify(verdict))),
    getVerdict: (taskId) =>
      use(() => {
        const row = statements.getVerdict.get(taskId)
        return row === undefined ? undefined : decodeVerdict(row.verdict, taskId, file)
      }),
    openTasks: () =>
      use(() =>
        statements.openTasks.all().map((row) => ({
          taskId: row.task_id as Hex,
          signed: decodeSpec(row.spec, row.task_id, file),
        })),
      ),
    putBatchSignature: (epoch, round, digest, signature) =>
      use(() => durably(db, () => putBatchSignature.immediate(epoch, round, digest, signature))),
    getBatchSignature: (epoch, round) => use(() => getBatchSignature(epoch, round)),
    close() {
      if (closed) return
      closed = true
      db.close()
    },
  }
}

interface OwnCommitRow {
  task_id: string
  status: string
  result_hash: string
  salt: string
  commitment: string
}

function prepareStatements(db: Database.Database) {
  return {
    putSpec: db.prepare<[string, string]>(
      'INSERT INTO specs (task_id, spec) VALUES (?, ?) ON CONFLICT (task_id) DO UPDATE SET spec = excluded.spec',
    ),
    getSpec: db.prepare<[string], { spec: string }>('SELECT spec FROM specs WHERE task_id = ?'),
    putOwnCommit: db.prepare<[string, string, string, string, string]>(
      'INSERT INTO own_commits (task_id, status, result_hash, salt, commitment) VALUES (?, ?, ?, ?, ?)',
    ),
    getOwnCommit: db.prepare<[string], OwnCommitRow>(
      'SELECT task_id, status, result_hash, salt, commitment FROM own_commits WHERE task_id = ?',
    ),
    putVerdict: db.prepare<[string, string]>(
      'INSERT INTO verdicts (task_id, verdict) VALUES (?, ?) ON CONFLICT (task_id) DO UPDATE SET verdict = excluded.verdict',
    ),
    getVerdict: db.prepare<[string], { verdict: string }>('SELECT verdict FROM verdicts WHERE task_id = ?'),
    openTasks: db.prepare<[], { task_id: string; spec: string }>(
      'SELECT s.task_id, s.spec FROM specs s WHERE NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.task_id = s.task_id) ORDER BY s.rowid',
    ),
    putBatchSignature: db.prepare<[bigint, number, string, string]>(
      'INSERT INTO batch_signatures (epoch, round, digest, signature) VALUES (?, ?, ?, ?)',
    ),
    getBatchSignature: db.prepare<[bigint, number], { digest: string; signature: string }>(
      'SELECT digest, signature FROM batch_signatures WHERE epoch = ? AND round = ?',
    ),
  }
}

/** Runs `write` with `synchronous = FULL`: its commit fsyncs the WAL before it returns. */
function durably<T>(db: Database.Database, write: () => T): T {
  db.pragma('synchronous = FULL')
  try {
    return write()
  } finally {
    db.pragma('synchronous = NORMAL')
  }
}

function migrate(db: Database.Database, file: string): void {
  const applicationId = db.pragma('application_id', { simple: true }) as number
  const version = db.pragma('user_version', { simple: true }) as number
  if (applicationId === 0 && version === 0) {
    const tables = db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }
    if (tables.n > 0) throw incompatible(file, 'it is an SQLite database of another application')
    db.pragma(`application_id = ${storeApplicationId}`)
  } else if (applicationId !== storeApplicationId) {
    throw incompatible(file, 'it is an SQLite database of another application')
  }
  if (version > migrations.length) {
    throw incompatible(file, `its schema version ${version} is newer than this veritask's (${migrations.length})`)
  }
  for (let next = version; next < migrations.length; next++) {
    db.exec(migrations[next] as string)
    db.pragma(`user_version = ${next + 1}`)
  }
}

function encodeSpec(signed: SignedSpec): string {
  return new TextDecoder().decode(encodeMessage({ type: 'spec', ...signed }))
}

function decodeSpec(text: string, taskId: string, file: string): SignedSpec {
  try {
    const message = decodeMessage(new TextEncoder().encode(text), Number.MAX_SAFE_INTEGER)
    if (message.type !== 'spec') throw new TypeError(`a ${message.type} message where a spec was stored`)
    const { type: _type, ...signed } = message
    return signed
  } catch (cause) {
    throw corruptRow(file, 'specs', taskId, cause)
  }
}

const resultStatuses: readonly string[] = ['ok', 'failed'] satisfies ResultStatus[]
const outcomes: readonly string[] = ['verified', 'failed', 'unresolved'] satisfies Outcome[]
const isString = (value: unknown): value is string => typeof value === 'string'

function decodeOwnCommit(row: OwnCommitRow, file: string): OwnCommit {
  try {
    const valid = resultStatuses.includes(row.status) && /^0x[0-9a-f]{64}$/.test(row.commitment)
    if (!valid) throw new TypeError('an own commit of the wrong shape')
    return {
      taskId: row.task_id as Hex,
      status: row.status as ResultStatus,
      resultHash: row.result_hash as Hex,
      salt: row.salt as Hex,
      commitment: row.commitment as Hex,
    }
  } catch (cause) {
    throw corruptRow(file, 'own_commits', row.task_id, cause)
  }
}

function decodeVerdict(text: string, taskId: string, file: string): Verdict {
  try {
    const verdict = JSON.parse(text) as Verdict
    const valid =
      isString(verdict?.taskId) &&
      outcomes.includes(verdict.outcome) &&
      isString(verdict.resultHash) &&
      Array.isArray(verdict.executors) &&
      verdict.executors.every(isString) &&
      Array.isArray(verdict.dissenters) &&
      verdict.dissenters.every(isString)
    if (!valid) throw new TypeError('a verdict of the wrong shape')
    return verdict
  } catch (cause) {
    throw corruptRow(file, 'verdicts', taskId, cause)
  }
}

// ── errors ─────────────────────────────────────────────────────────────────────────────────────

function unavailable(file: string, cause: unknown): StoreError {
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new StoreError('STORE_UNAVAILABLE', `The node store at ${file} cannot be opened or written: ${reason}`, {
    details: { path: file, reason },
    hint: 'Check that the data dir exists, is writable by this user, and that the disk is not full.',
    cause,
  })
}

function incompatible(file: string, why: string): StoreError {
  return new StoreError('STORE_INCOMPATIBLE', `The file ${file} is not a node store this veritask can use: ${why}.`, {
    details: { path: file },
    hint: 'Point the node at its own data dir, or upgrade veritask if a newer version wrote it.',
  })
}

function corruptRow(file: string, table: string, key: string, cause: unknown): StoreError {
  return new StoreError('STORE_CORRUPT', `The node store at ${file} holds an unreadable row in ${table}.`, {
    details: { path: file, table, key },
    hint: 'The file was changed outside veritask. Restore it from a backup, or move it away to start with empty state.',
    cause,
  })
}

/** SQLite's result codes, grouped by what the caller can do about them. */
function toStoreError(error: unknown, file: string): unknown {
  if (error instanceof StoreError) return error
  if (!(error instanceof Database.SqliteError)) return error
  const code = error.code
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED' || code.startsWith('SQLITE_LOCKED_')) {
    return new StoreError('STORE_LOCKED', `The node store at ${file} is in use by another process.`, {
      details: { path: file, sqliteCode: code },
      hint: 'Another veritask node may be running on this data dir; stop it, or give this node its own data dir.',
      cause: error,
    })
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_')) {
    return new StoreError('STORE_CORRUPT', `The node store at ${file} is damaged: ${error.message}.`, {
      details: { path: file, sqliteCode: code },
      hint: 'Restore the file from a backup, or move it (and its -wal file) away to start with empty state.',
      cause: error,
    })
  }
  const unavailableCodes = ['SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_PERM', 'SQLITE_AUTH']
  if (unavailableCodes.some((prefix) => code === prefix || code.startsWith(`${prefix}_`))) {
    return unavailable(file, error)
  }
  return error
}
