import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes, toHex, zeroHash } from 'viem'
import { computeCommitment } from '../../src/core/commit.ts'
import { contentId } from '../../src/core/contentId.ts'
import { devnetDomain, hashTaskSpec } from '../../src/core/eip712.ts'
import { signTaskSpec } from '../../src/core/taskSpec.ts'
import type { Hex, ResultStatus, SignedSpec, TaskSpec, Verdict } from '../../src/core/types.ts'
import type { BlobStore, NodeStore, OwnCommit } from '../../src/ports/node.ts'
import { StoreError } from '../../src/store/errors.ts'
import { makeSpec, requester, testAccount } from './fixtures.ts'

/**
 * One store under test. `reopen`, where given, closes the store and opens a new instance on the
 * same data: durable adapters pass it, and the suite then checks that everything survives.
 */
export interface StoreFixture<S> {
  store: S
  reopen?: () => S
  /** Closes the store and removes its data. */
  cleanup(): void
}

export type StoreFactory<S> = () => StoreFixture<S>

const executor = testAccount('store-executor')
const otherExecutor = testAccount('store-other-executor')

export interface SignedTask {
  taskId: Hex
  signed: SignedSpec
}

/** A requester-signed spec; `nonce` tells tasks apart. */
export async function makeSignedTask(nonce: bigint, overrides: Partial<TaskSpec> = {}): Promise<SignedTask> {
  const spec = makeSpec({ nonce, fee: 2n ** 200n + nonce, ...overrides })
  return { taskId: hashTaskSpec(spec, devnetDomain), signed: await signTaskSpec(requester, spec, devnetDomain) }
}

/** An own commit as a node stores it before sending: result, salt and the commitment. */
export async function makeOwnCommit(taskId: Hex, label: string, status: ResultStatus = 'ok'): Promise<OwnCommit> {
  const resultHash = contentId(stringToBytes(`result:${label}`))
  const salt = keccak256(stringToBytes(`salt:${label}`))
  const commitment = computeCommitment({ taskId, status, resultHash, salt, executor: executor.address })
  return { taskId, status, resultHash, salt, commitment }
}

function makeVerdict(taskId: Hex): Verdict {
  return {
    taskId,
    outcome: 'verified',
    resultHash: contentId(stringToBytes('result:a')),
    executors: [executor.address, otherExecutor.address],
    dissenters: [testAccount('store-dissenter').address],
  }
}

const isStoreError = (code: string) => (error: unknown) => error instanceof StoreError && error.code === code

async function withFixture<S>(factory: StoreFactory<S>, run: (fixture: StoreFixture<S>) => Promise<void> | void): Promise<void> {
  const fixture = factory()
  try {
    await run(fixture)
  } finally {
    fixture.cleanup()
  }
}

/**
 * The behaviour every `NodeStore` adapter must show (memory, SQLite), like js-libp2p's interface
 * compliance suites.
 */
export function describeNodeStoreCompliance(name: string, factory: StoreFactory<NodeStore>, { durable = false } = {}): void {
  describe(`NodeStore compliance: ${name}`, () => {
    it('starts empty', () =>
      withFixture(factory, ({ store }) => {
        assert.equal(store.getSpec(zeroHash), undefined)
        assert.equal(store.getOwnCommit(zeroHash), undefined)
        assert.equal(store.getVerdict(zeroHash), undefined)
        assert.equal(store.getBatchSignature(0n, 0), undefined)
        assert.deepEqual(store.openTasks(), [])
      }))

    it('returns a stored spec, commit and verdict as they were stored, bigints included', () =>
      withFixture(factory, async ({ store }) => {
        const { taskId, signed } = await makeSignedTask(1n)
        const commit = await makeOwnCommit(taskId, 'a', 'failed')
        store.putSpec(taskId, signed)
        store.putOwnCommits([commit])
        store.putVerdict(makeVerdict(taskId))
        assert.deepEqual(store.getSpec(taskId), signed)
        assert.equal(typeof store.getSpec(taskId)?.message.fee, 'bigint')
        assert.deepEqual(store.getOwnCommit(taskId), commit)
        assert.deepEqual(store.getVerdict(taskId), makeVerdict(taskId))
        assert.equal(store.getSpec(zeroHash), undefined)
      }))

    it('keeps the first own commit: the same one again is a no-op, a different one is STORE_CONFLICT', () =>
      withFixture(factory, async ({ store }) => {
        const { taskId } = await makeSignedTask(2n)
        const first = await makeOwnCommit(taskId, 'a')
        store.putOwnCommits([first])
        store.putOwnCommits([structuredClone(first)])
        assert.throws(() => store.putOwnCommits([{ ...first, salt: keccak256(stringToBytes('other salt')) }]), isStoreError('STORE_CONFLICT'))
        const other = await makeOwnCommit(taskId, 'b')
        assert.throws(() => store.putOwnCommits([other]), isStoreError('STORE_CONFLICT'))
        assert.deepEqual(store.getOwnCommit(taskId), first)
        // Another task is independent.
        const second = await makeOwnCommit((await makeSignedTask(3n)).taskId, 'b')
        store.putOwnCommits([second])
        assert.deepEqual(store.getOwnCommit(second.taskId), second)
      }))

    it('stores a batch of own commits all or none', () =>
      withFixture(factory, async ({ store }) => {
        const [a, b, c] = await Promise.all([4n, 5n, 6n].map(async (n) => makeOwnCommit((await makeSignedTask(n)).taskId, `batch-${n}`)))
        store.putOwnCommits([a!])
        // b is new, but a's conflicting twin fails the whole batch: b is not stored either.
        assert.throws(() => store.putOwnCommits([b!, { ...a!, salt: zeroHash }]), isStoreError('STORE_CONFLICT'))
        assert.equal(store.getOwnCommit(b!.taskId), undefined)
        store.putOwnCommits([a!, b!, c!])
        assert.deepEqual([a, b, c].map((x) => store.getOwnCommit(x!.taskId)), [a, b, c])
      }))

    it('lists open tasks in the order their specs were first stored, until each has a verdict', () =>
      withFixture(factory, async ({ store }) => {
        const tasks = await Promise.all([5n, 4n, 6n].map((nonce) => makeSignedTask(nonce)))
        for (const { taskId, signed } of tasks) store.putSpec(taskId, signed)
        const [a, b, c] = tasks as [SignedTask, SignedTask, SignedTask]
        store.putSpec(a.taskId, a.signed)
        assert.deepEqual(store.openTasks(), [a, b, c])
        store.putVerdict(makeVerdict(b.taskId))
        assert.deepEqual(store.openTasks(), [a, c])
        // A verdict without a stored spec opens nothing.
        store.putVerdict(makeVerdict(zeroHash))
        assert.deepEqual(store.openTasks(), [a, c])
      }))

    it('keeps one batch signature per round of an epoch: the same digest again is a no-op, another is STORE_CONFLICT', () =>
      withFixture(factory, ({ store }) => {
        const digest = keccak256(stringToBytes('batch 7'))
        const signature = toHex(new Uint8Array(65).fill(7))
        store.putBatchSignature(7n, 0, digest, signature)
        store.putBatchSignature(7n, 0, digest, toHex(new Uint8Array(65).fill(8)))
        assert.deepEqual(store.getBatchSignature(7n, 0), { digest, signature })
        assert.throws(() => store.putBatchSignature(7n, 0, keccak256(stringToBytes('batch 7b')), signature), isStoreError('STORE_CONFLICT'))
        assert.deepEqual(store.getBatchSignature(7n, 0), { digest, signature })
        assert.equal(store.getBatchSignature(8n, 0), undefined)
        store.putBatchSignature(8n, 0, zeroHash, signature)
        assert.deepEqual(store.getBatchSignature(8n, 0), { digest: zeroHash, signature })
        // A later round of the same epoch may sign another batch; each round keeps its own.
        const later = keccak256(stringToBytes('batch 7, round 1'))
        store.putBatchSignature(7n, 1, later, signature)
        assert.deepEqual(store.getBatchSignature(7n, 1), { digest: later, signature })
        assert.deepEqual(store.getBatchSignature(7n, 0), { digest, signature })
        assert.throws(() => store.putBatchSignature(7n, 1, digest, signature), isStoreError('STORE_CONFLICT'))
      }))

    // Registered only for durable adapters: a test that cannot apply is not run, rather than skipped.
    if (durable) it('keeps everything across a reopen', () =>
      withFixture(factory, async (fixture) => {
        const a = await makeSignedTask(10n)
        const b = await makeSignedTask(11n)
        const commit = await makeOwnCommit(a.taskId, 'a')
        const digest = keccak256(stringToBytes('batch 1'))
        const signature = toHex(new Uint8Array(65).fill(1))
        fixture.store.putSpec(a.taskId, a.signed)
        fixture.store.putSpec(b.taskId, b.signed)
        fixture.store.putOwnCommits([commit])
        fixture.store.putVerdict(makeVerdict(b.taskId))
        fixture.store.putBatchSignature(1n, 0, digest, signature)
        const store = (fixture.reopen as () => NodeStore)()
        assert.deepEqual(store.getSpec(a.taskId), a.signed)
        assert.deepEqual(store.getOwnCommit(a.taskId), commit)
        assert.deepEqual(store.getVerdict(b.taskId), makeVerdict(b.taskId))
        assert.deepEqual(store.getBatchSignature(1n, 0), { digest, signature })
        assert.deepEqual(store.openTasks(), [a])
        assert.throws(() => store.putOwnCommits([{ ...commit, salt: zeroHash }]), isStoreError('STORE_CONFLICT'))
      }))
  })
}

/** The behaviour every `BlobStore` adapter must show (memory, disk). */
export function describeBlobStoreCompliance(name: string, factory: StoreFactory<BlobStore>, { durable = false } = {}): void {
  describe(`BlobStore compliance: ${name}`, () => {
    it('names a blob by its content id and returns the same bytes', () =>
      withFixture(factory, ({ store }) => {
        const bytes = stringToBytes('program bytes')
        const cid = store.put(bytes)
        assert.equal(cid, contentId(bytes))
        assert.equal(store.has(cid), true)
        assert.deepEqual(store.get(cid), bytes)
        assert.equal(store.put(bytes), cid)
        assert.deepEqual(store.get(cid), bytes)
      }))

    it('stores the empty blob and binary bytes', () =>
      withFixture(factory, ({ store }) => {
        const empty = new Uint8Array(0)
        const binary = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff)
        for (const bytes of [empty, binary]) {
          const cid = store.put(bytes)
          assert.deepEqual(store.get(cid), bytes)
        }
      }))

    it('matches content ids case-insensitively', () =>
      withFixture(factory, ({ store }) => {
        const bytes = stringToBytes('mixed case')
        const cid = store.put(bytes)
        const upper = `0x${cid.slice(2).toUpperCase()}` as Hex
        assert.equal(store.has(upper), true)
        assert.deepEqual(store.get(upper), bytes)
      }))

    it('finds nothing for unknown ids and for strings that are not content ids', () =>
      withFixture(factory, ({ store }) => {
        store.put(stringToBytes('something'))
        for (const id of [contentId(stringToBytes('absent')), '0x1234', '../../etc/passwd', '0x', ''] as Hex[]) {
          assert.equal(store.has(id), false, id)
          assert.equal(store.get(id), undefined, id)
        }
      }))

    if (durable) it('keeps blobs across a reopen', () =>
      withFixture(factory, (fixture) => {
        const bytes = stringToBytes('durable bytes')
        const cid = fixture.store.put(bytes)
        const store = (fixture.reopen as () => BlobStore)()
        assert.equal(store.has(cid), true)
        assert.deepEqual(store.get(cid), bytes)
      }))
  })
}
