import { contentId } from '../../core/contentId.ts'
import type { Hex, SignedSpec, Verdict } from '../../core/types.ts'
import type { BlobStore, NodeStore, OwnBatchSignature, OwnCommit } from '../../ports/node.ts'
import { assertSameBatchDigest, assertSameOwnCommit } from '../conflicts.ts'

export function createMemoryBlobStore(): BlobStore {
  const blobs = new Map<Hex, Uint8Array>()
  /**
   * The content id of each array this store holds, by identity: putting the very same array again
   * (a gateway storing the same program for every task) costs no hashing. The store keeps the
   * caller's array itself, not a copy, so this adds no trust it did not already give the caller.
   */
  const stored = new WeakMap<Uint8Array, Hex>()
  return {
    put(bytes) {
      const known = stored.get(bytes)
      if (known !== undefined && blobs.get(known) === bytes) return known
      const cid = contentId(bytes)
      blobs.set(cid, bytes)
      stored.set(bytes, cid)
      return cid
    },
    get: (cid) => blobs.get(cid.toLowerCase() as Hex),
    has: (cid) => blobs.has(cid.toLowerCase() as Hex),
  }
}

export function createMemoryNodeStore(): NodeStore {
  const specs = new Map<Hex, SignedSpec>()
  const commits = new Map<Hex, OwnCommit>()
  const verdicts = new Map<Hex, Verdict>()
  /** By `${epoch}/${round}`. */
  const batchSignatures = new Map<string, OwnBatchSignature>()
  return {
    putSpec: (taskId, signed) => void specs.set(taskId, signed),
    getSpec: (taskId) => specs.get(taskId),
    putOwnCommits(list) {
      // Checked in full before anything is written: all or none, as in the SQLite store.
      const staged = new Map<Hex, OwnCommit>()
      for (const commit of list) {
        const stored = staged.get(commit.taskId) ?? commits.get(commit.taskId)
        if (stored !== undefined) assertSameOwnCommit(stored, commit)
        else staged.set(commit.taskId, commit)
      }
      for (const [taskId, commit] of staged) commits.set(taskId, commit)
    },
    getOwnCommit: (taskId) => commits.get(taskId),
    putVerdict: (verdict) => void verdicts.set(verdict.taskId, verdict),
    getVerdict: (taskId) => verdicts.get(taskId),
    openTasks: () =>
      [...specs].filter(([taskId]) => !verdicts.has(taskId)).map(([taskId, signed]) => ({ taskId, signed })),
    putBatchSignature(epoch, round, digest, signature) {
      const stored = batchSignatures.get(`${epoch}/${round}`)
      if (stored !== undefined) return assertSameBatchDigest(epoch, round, stored, digest)
      batchSignatures.set(`${epoch}/${round}`, { digest, signature })
    },
    getBatchSignature: (epoch, round) => batchSignatures.get(`${epoch}/${round}`),
  }
}
