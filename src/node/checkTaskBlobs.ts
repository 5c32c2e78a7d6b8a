import { contentId } from '../core/contentId.ts'
import { SpecRejectedError } from '../core/errors.ts'
import type { ProtocolParams } from '../core/params.ts'
import type { Hex, TaskSpec } from '../core/types.ts'
import type { BlobStore } from '../ports/node.ts'

export interface CheckTaskBlobsParameters {
  spec: TaskSpec
  /** The bytes the requester uploaded with the spec. */
  uploaded: readonly Uint8Array[]
  blobs: BlobStore
  params: Pick<ProtocolParams, 'maxProgramBytes' | 'maxInputBytes'>
}

/**
 * Checks that a submitted spec's program and input are at hand (uploaded, or stored already) and
 * within the limits, storing nothing: it returns what stores the uploaded ones, for the caller to
 * run only once the spec itself has passed its checks (signature, terms, escrow) and just before
 * the task opens, so that a forged spec leaves no bytes behind and an executor on this node reads
 * them at once. Throws a `SpecRejectedError` (`SPEC_MISSING_BLOB`, `SPEC_LIMITS_EXCEEDED`).
 */
export function checkTaskBlobs({ spec, uploaded, blobs, params }: CheckTaskBlobsParameters): () => void {
  const byId = new Map(uploaded.map((bytes) => [contentId(bytes), bytes]))
  const needed = [
    { cid: spec.program, maxBytes: params.maxProgramBytes },
    { cid: spec.input, maxBytes: params.maxInputBytes },
  ]
  for (const { cid, maxBytes } of needed) {
    const bytes = byId.get(cid.toLowerCase() as Hex) ?? blobs.get(cid)
    if (bytes === undefined) {
      throw new SpecRejectedError('SPEC_MISSING_BLOB', `The spec names blob ${cid}, which was not uploaded.`, {
        details: { cid },
        hint: 'Pass the program and input bytes along with the spec.',
      })
    }
    if (bytes.byteLength > maxBytes) {
      throw new SpecRejectedError('SPEC_LIMITS_EXCEEDED', `Blob ${cid} is larger than the ${maxBytes}-byte limit.`, {
        details: { cid, size: bytes.byteLength, maxBytes },
      })
    }
  }
  return () => {
    for (const { cid } of needed) {
      const bytes = byId.get(cid.toLowerCase() as Hex)
      if (bytes !== undefined) blobs.put(bytes)
    }
  }
}
