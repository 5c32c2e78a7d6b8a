import { contentId } from '../../core/contentId.ts'
import type { Hex, Signed, TaskSpec, Verdict } from '../../core/types.ts'
import type { BlobStore, NodeStore, OwnCommit } from '../../ports/node.ts'

export function createMemoryBlobStore(): BlobStore {
  const blobs = new Map<Hex, Uint8Array>()
  return {
    put(bytes) {
      const cid = contentId(bytes)
      blobs.set(cid, bytes)
      return cid
    },
    get: (cid) => blobs.get(cid.toLowerCase() as Hex),
    has: (cid) => blobs.has(cid.toLowerCase() as Hex),
  }
}

export function createMemoryNodeStore(): NodeStore {
  const specs = new Map<Hex, Signed<TaskSpec>>()
  const commits = new Map<Hex, OwnCommit>()
  const verdicts = new Map<Hex, Verdict>()
  return {
    putSpec: (taskId, signed) => void specs.set(taskId, signed),
    getSpec: (taskId) => specs.get(taskId),
    putOwnCommit: (commit) => void commits.set(commit.taskId, commit),
    getOwnCommit: (taskId) => commits.get(taskId),
    putVerdict: (verdict) => void verdicts.set(verdict.taskId, verdict),
    getVerdict: (taskId) => verdicts.get(taskId),
  }
}
