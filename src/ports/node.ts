import type { Candidate } from '../core/sortition.ts'
import type { Address, Commit, Hex, ResultStatus, Signed, TaskSpec, Verdict } from '../core/types.ts'

/**
 * What a node reads from the chain: the epoch's public seed, the staked nodes eligible for a
 * runtime, and requesters' escrow balances. The in-memory adapter serves fixed values; the chain
 * adapter reads the epoch snapshot.
 */
export interface ChainView {
  /** The current epoch: tasks accepted now are settled in its batch. */
  epoch(): bigint
  epochSeed(): Hex
  eligibleNodes(runtime: string): readonly Candidate[]
  escrowBalance(requester: Address): bigint
}

/** Content-addressed blobs: programs, inputs and results. */
export interface BlobStore {
  put(bytes: Uint8Array): Hex
  get(cid: Hex): Uint8Array | undefined
  has(cid: Hex): boolean
}

/** What a node must remember of its own signatures so that it never signs differently twice. */
export interface OwnCommit {
  taskId: Hex
  status: ResultStatus
  resultHash: Hex
  salt: Hex
  signed: Signed<Commit>
}

/** Durable node state. The in-memory adapter serves single-process runs; SQLite serves daemons. */
export interface NodeStore {
  putSpec(taskId: Hex, signed: Signed<TaskSpec>): void
  getSpec(taskId: Hex): Signed<TaskSpec> | undefined
  putOwnCommit(commit: OwnCommit): void
  getOwnCommit(taskId: Hex): OwnCommit | undefined
  putVerdict(verdict: Verdict): void
  getVerdict(taskId: Hex): Verdict | undefined
}
