import type { DecidedTask } from '../core/batchCheck.ts'
import type { TaskState } from '../core/task.ts'
import type { Address, Hex, SignedSpec, TaskSpec, Verdict } from '../core/types.ts'

export interface NodeStats {
  specsAccepted: number
  /** Accepted tasks not decided yet. */
  openTasks: number
  executions: number
  commitsSent: number
  revealsSent: number
  abstentions: number
  /** Tasks whose differing results this node compared under a tolerance (the compare phase). */
  comparisons: number
  /** Results a comparison needed that no peer served. */
  comparisonFetchFailures: number
  verdicts: Record<Verdict['outcome'], number>
  /** Reveals that came after this node decided their task, kept as evidence (`withLateReveal`). */
  lateReveals: number
  /** Rejected messages by error code. */
  rejected: Record<string, number>
  /** Fees reserved from requesters' escrow by tasks this node accepted. */
  feesReserved: bigint
  /** Gossip held for tasks whose spec has not arrived yet (bounded by `heldLimits`). */
  heldMessages: number
  /** Peers whose task gossip is dropped unread for now: they flooded messages their signers may not hold. */
  mutedPeers: number
}

export interface TaskStatus {
  taskId: Hex
  /** `draw`: admitted, waiting for its draw block before its seats are known. */
  phase: TaskState['phase'] | 'draw'
  spec: TaskSpec
  seats: readonly Address[]
  /** Executors whose commit this node has accepted. */
  committed: readonly Address[]
  verdict: Verdict | null
}

export type VerdictListener = (verdict: Verdict, state: TaskState) => void

export interface VeritaskNode {
  readonly address: Address
  readonly peerId: string
  /** The chain's current epoch as this node sees it: new task specs name it. */
  currentEpoch(): bigint
  /** The draw block a spec submitted here now should name: `drawLeadMs` of blocks past the newest block this node has seen. */
  nextDrawBlock(): bigint
  start(): void
  /**
   * Re-opens the tasks the store holds without a verdict, after a restart. A task this node had
   * committed to gets the very same signed commit again, never a new one. Expired tasks are left
   * alone. Resolves with the number of tasks resumed.
   */
  resume(): Promise<number>
  stop(): Promise<void>
  /**
   * Accepts a requester's signed spec and its blobs (program, input), stores the blobs, gossips the
   * spec and opens the task. Resolves with the task id; rejects with a `SpecRejectedError`.
   */
  submitTask(signed: SignedSpec, blobs: readonly Uint8Array[]): Promise<Hex>
  getTask(taskId: Hex): TaskStatus | undefined
  getBlob(cid: Hex): Uint8Array | undefined
  onVerdict(listener: VerdictListener): () => void
  /** Tasks accepted in `epoch` and decided so far: what this node expects that epoch's batch to settle. */
  decidedTasks(epoch: bigint): readonly DecidedTask[]
  /** Refuses new specs for `epoch` from now on: its batch is being built. */
  closeEpoch(epoch: bigint): void
  /** Tasks of `epoch` this node accepted and has not decided yet. */
  pendingTasks(epoch: bigint): number

  /** Drops what the node kept for `epoch` once its batch is settled on-chain (the chain now holds the charges). */
  forgetEpoch(epoch: bigint): void
  stats(): NodeStats
}
