import type { Hex } from '../core/types.ts'
import type { OwnBatchSignature, OwnCommit } from '../ports/node.ts'
import { StoreError } from './errors.ts'

function isSameOwnCommit(a: OwnCommit, b: OwnCommit): boolean {
  return (
    a.taskId === b.taskId &&
    a.status === b.status &&
    a.resultHash === b.resultHash &&
    a.salt === b.salt &&
    a.commitment === b.commitment
  )
}

/** Throws `STORE_CONFLICT` unless `next` is the own commit already stored for its task. */
export function assertSameOwnCommit(stored: OwnCommit, next: OwnCommit): void {
  if (isSameOwnCommit(stored, next)) return
  throw new StoreError('STORE_CONFLICT', `A different own commit is already stored for task ${next.taskId}.`, {
    details: { taskId: next.taskId, stored: stored.commitment, attempted: next.commitment },
    hint: 'A node must re-send the commit it stored (getOwnCommit) instead of signing a new one.',
  })
}

/**
 * Throws `STORE_CONFLICT` unless `digest` is the digest already signed for `epoch` in `round`. The
 * same digest with another signature is not a conflict (both sign the same batch); the stored one is kept.
 */
export function assertSameBatchDigest(epoch: bigint, round: number, stored: OwnBatchSignature, digest: Hex): void {
  if (stored.digest === digest) return
  throw new StoreError('STORE_CONFLICT', `A batch signature for a different digest is already stored for epoch ${epoch}, round ${round}.`, {
    details: { epoch: epoch.toString(), round, stored: stored.digest, attempted: digest },
    hint: 'Signing two batches in one round of an epoch is equivocation and is slashed; re-send the stored signature.',
  })
}
