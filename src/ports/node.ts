import type { ProtocolParams } from '../core/params.ts'
import type { Candidate } from '../core/sortition.ts'
import type { AnchorRecord } from '../core/taskAnchor.ts'
import type { Address, Hex, ResultStatus, SignedSpec, Verdict } from '../core/types.ts'

/** What a node knows of one epoch, read once at its boundary and the same for every node. */
export interface EpochView {
  epoch: bigint
  /** The epoch's public seed, fixed by the chain when the epoch opened. */
  seed: Hex
  /** Staked, unjailed nodes that run `runtime`, weighted for sortition. */
  eligibleNodes(runtime: string): readonly Candidate[]
  /** Whether `node` is staked and unjailed in this snapshot, whatever it runs: only such a node can hold a seat. */
  isEligible(node: Address): boolean
  /** The epoch's governed parameters; the node's configured parameters apply when absent. */
  params?: ProtocolParams
}

/**
 * Blocks as a node sees them: a task's seats are drawn from the hash of the block its spec names
 * (`TaskSpec.drawBlock`), so a node needs the newest block it has seen and the hashes of blocks.
 */
export interface BlockView {
  /** The newest block this view has seen. */
  head(): bigint
  /** The hash of `block` if this view has seen it and still keeps it. */
  blockHash(block: bigint): Hex | undefined
  /**
   * Resolves with the hash of `block` once this view has seen it (reading an older block from the
   * chain if it is no longer kept), or with undefined after `timeoutMs` without it.
   */
  awaitBlock(block: bigint, timeoutMs: number): Promise<Hex | undefined>
  /** How often blocks come (ms), as observed; undefined where blocks do not come on a clock. */
  blockMs?(): number | undefined
}

/**
 * Requesters' task anchors (core/taskAnchor.ts): the root of a batch of task ids a requester recorded
 * on-chain, the block it did so in and how many leaves it paid for. A task counts only if its id
 * was anchored before its draw block.
 */
export interface AnchorView {
  /**
   * What the chain holds of `requester`'s anchor of `root`: undefined if it has not anchored it (as
   * of the newest block this view reads). Anchors are write-once, so a record never changes.
   */
  anchorOf(requester: Address, root: Hex): Promise<AnchorRecord | undefined>
}

/**
 * What a node reads from the chain: the current epoch, each known epoch's snapshot (seed,
 * eligible nodes, parameters), requesters' escrow balances and task anchors, and blocks. The in-memory adapter
 * serves snapshots it is handed; the chain adapter reads them at each epoch boundary.
 */
export interface ChainView extends BlockView, AnchorView {
  /** The newest opened epoch: new task specs name it. */
  epoch(): bigint
  /** The snapshot of `epoch`, or undefined if it is not open yet or no longer kept. */
  snapshot(epoch: bigint): EpochView | undefined
  /** Reads an older epoch's snapshot that is no longer kept (settlement can lag behind). */
  loadSnapshot?(epoch: bigint): Promise<EpochView | undefined>
  /**
   * What `requester` can still be charged in `epoch`: its escrow at that epoch's snapshot block,
   * less pending withdrawals and what settled batches charged it (core/escrow.ts). The batch for
   * `epoch` charges by the same snapshot, so a spec accepted against this balance is paid for.
   * 0 for an epoch this view does not hold.
   */
  escrowBalance(requester: Address, epoch: bigint): bigint
  /**
   * Resolves once `epoch` is open in this view (true), or after `timeoutMs` (false). A spec for
   * the next epoch can arrive just before this node has seen that epoch open: peers read the chain
   * at slightly different moments. Absent where epochs never change.
   */
  awaitEpoch?(epoch: bigint, timeoutMs: number): Promise<boolean>
}

/** Content-addressed blobs: programs, inputs and results. */
export interface BlobStore {
  put(bytes: Uint8Array): Hex
  get(cid: Hex): Uint8Array | undefined
  has(cid: Hex): boolean
}

/**
 * What a node must remember of its own commits so that it never commits differently twice: after
 * a restart it re-sends this commitment (in a new batch), never a new one.
 */
export interface OwnCommit {
  taskId: Hex
  status: ResultStatus
  resultHash: Hex
  salt: Hex
  commitment: Hex
}

/** A task whose spec the node stored and that has no verdict yet: what a restarted node resumes. */
export interface OpenTask {
  taskId: Hex
  signed: SignedSpec
}

/** The node's own signature over an epoch batch digest (as an epoch committee member). */
export interface OwnBatchSignature {
  digest: Hex
  signature: Hex
}

/**
 * Durable node state. The in-memory adapter serves single-process runs; SQLite serves daemons.
 *
 * What the node signed is write-once: `putOwnCommits` and `putBatchSignature` accept the same value
 * again (a no-op) but throw a `StoreError` with code `STORE_CONFLICT` (src/store/errors.ts) for a
 * different one, so that not even a bug makes the node sign two answers for one task or two
 * batches for one round of an epoch. When a put returns, the value survives a crash of the process (and, in
 * the SQLite adapter, of the machine): persist first, then send.
 */
export interface NodeStore {
  /** Stores an accepted spec. Storing one again keeps the task's place in `openTasks()`. */
  putSpec(taskId: Hex, signed: SignedSpec): void
  getSpec(taskId: Hex): SignedSpec | undefined
  /**
   * Stores own commits all or none, durably once for all of them (one fsync for a batch). A commit
   * already stored with the same value is accepted again; a different one fails the whole call.
   */
  putOwnCommits(commits: readonly OwnCommit[]): void
  getOwnCommit(taskId: Hex): OwnCommit | undefined
  putVerdict(verdict: Verdict): void
  getVerdict(taskId: Hex): Verdict | undefined
  /** Stored specs without a verdict, in the order they were first stored. */
  openTasks(): OpenTask[]
  /** This node's signature of the batch of `round` of `epoch`: write-once per round (one round may not have two digests). */
  putBatchSignature(epoch: bigint, round: number, digest: Hex, signature: Hex): void
  getBatchSignature(epoch: bigint, round: number): OwnBatchSignature | undefined
}
