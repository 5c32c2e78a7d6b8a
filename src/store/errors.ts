import { VeritaskError } from '../core/errors.ts'

/**
 * Why a store could not do what was asked.
 *
 * - `STORE_UNAVAILABLE`: the file or directory cannot be opened, created or written (permissions,
 *   a missing parent, a full disk).
 * - `STORE_LOCKED`: another process (or another open store in this one) holds the database.
 * - `STORE_CORRUPT`: the data on disk is not what the store wrote (not a database, damaged pages,
 *   rows that do not decode).
 * - `STORE_INCOMPATIBLE`: the file is a database, but not a veritask node store, or one written by
 *   a newer version of veritask.
 * - `STORE_CONFLICT`: a write would replace something the node has signed and maybe sent (its own
 *   commit for a task, its batch signature for an epoch) with something different. The store
 *   refuses, so that a node cannot equivocate even through a bug.
 * - `STORE_TOO_LARGE`: a blob above the store's size limit.
 */
export type StoreErrorCode =
  | 'STORE_UNAVAILABLE'
  | 'STORE_LOCKED'
  | 'STORE_CORRUPT'
  | 'STORE_INCOMPATIBLE'
  | 'STORE_CONFLICT'
  | 'STORE_TOO_LARGE'

export class StoreError extends VeritaskError<StoreErrorCode> {
  override name = 'StoreError'
}
