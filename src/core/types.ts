import type { Address, Hex } from 'viem'

export type { Address, Hex }

/**
 * How a task is verified. `k` executors, a result wins with `quorum` matching reveals. With
 * `auditPpm`, the seats' results are also re-executed by a verifier drawn after their commits with
 * probability `auditPpm` / 1,000,000, so a coalition holding every seat is caught at that rate.
 */
export interface ReplicatePolicy {
  kind: 'replicate'
  k: number
  quorum: number
  /** Audit rate in parts per million; 0 (no audit) when absent. */
  auditPpm?: number
}

/** One executor, re-executed by a verifier with probability `ratePpm` / 1,000,000. */
export interface SamplePolicy {
  kind: 'sample'
  ratePpm: number
}

export type Policy = ReplicatePolicy | SamplePolicy

/**
 * How reveals are compared to decide which agree (src/core/comparison.ts). `exact`: equal bytes.
 * `maxError`: tensors whose elements differ by at most `absMicro`·10⁻⁶ + `relPpm`·10⁻⁶·max(|a|, |b|).
 * `topK`: tensors whose rows keep the same `k` highest classes. Integers only: nodes must agree on
 * the rule bit for bit.
 */
export type Comparison =
  | { kind: 'exact' }
  | { kind: 'maxError'; absMicro: number; relPpm: number }
  | { kind: 'topK'; k: number }

/** Resource limits a task runs under; the runtime enforces them deterministically. */
export interface TaskLimits {
  /** Fuel units: metered WebAssembly instructions; for `onnx`, input tensor elements. */
  fuel: bigint
  /** Linear memory cap in 64 KiB pages. */
  memoryPages: number
  /** Largest output, in bytes. */
  outputBytes: number
}

/**
 * What a requester asks the network to compute. Its EIP-712 hash is the task id; the requester
 * signs that hash. `program` and `input` are content ids (keccak256 of the bytes).
 */
export interface TaskSpec {
  requester: Address
  /** Makes two otherwise equal specs distinct tasks. */
  nonce: bigint
  runtime: string
  program: Hex
  input: Hex
  limits: TaskLimits
  policy: Policy
  /**
   * How the reveals are compared; `exact` when absent (deterministic runtimes). Inference tasks
   * (`onnx`) declare a tolerance here. Absent and `{ kind: 'exact' }` give the same task id.
   */
  comparison?: Comparison
  /** Fee paid from the requester's escrow, in token base units. */
  fee: bigint
  /**
   * The epoch the task belongs to: its seed ranks the executors and its batch settles the task.
   * Requesters use the current epoch (`GET /v1/status`); nodes accept only an epoch they know.
   */
  epoch: bigint
  /**
   * The block whose hash, with the epoch's seed, draws the task's seats (`taskSeed`). The requester
   * names a block a few ahead of the head (`GET /v1/status`) and anchors the task's id on-chain
   * before it (core/taskAnchor.ts), so it cannot grind its nonce for the seats it wants.
   */
  drawBlock: bigint
  /** Unix time in ms after which the task can no longer be verified. */
  deadline: bigint
}

/** Whether an execution produced an output (`ok`) or failed deterministically (`failed`). */
export type ResultStatus = 'ok' | 'failed'

/** An executor's sealed answer: `commitment = keccak256(abi.encode(taskId, status, resultHash, salt, executor))`. */
export interface Commit {
  taskId: Hex
  commitment: Hex
}

/** Opens a commit once the commit phase has closed. */
export interface Reveal {
  taskId: Hex
  status: ResultStatus
  /** Content id of the output bytes, or of the failure reason for `failed`. */
  resultHash: Hex
  salt: Hex
}

/**
 * In the `sample` policy, the verifier's signed statement about an executor's commit. Whether the
 * task is audited follows from the verifier's audit draw on it (`AuditDraw`), never from the
 * signature's bytes.
 */
export interface Challenge {
  taskId: Hex
  /** The executor's commitment being challenged. */
  commitment: Hex
}

/**
 * A verifier's VRF proof (ECVRF on secp256k1, `src/core/vrf.ts`) over a challenge: its output is
 * unique for the verifier's key and the challenge, so nobody, the verifier included, can choose
 * or re-encode it into another audit decision (`src/core/challenge.ts`). `publicKey` is the
 * verifier's compressed secp256k1 key, bound to its address.
 */
export interface AuditDraw {
  publicKey: Hex
  gamma: Hex
  c: Hex
  s: Hex
}

/** A signed challenge with the audit draw that decides it. */
export type SignedChallenge = Signed<Challenge> & { draw: AuditDraw }

/**
 * Commits and reveals travel in batches, one signature for all of them: an executor seals every
 * task it finished in a short window at once. A batch of one is an ordinary batch.
 */
export interface CommitBatch {
  commits: Commit[]
}

export interface RevealBatch {
  reveals: Reveal[]
}

/** A message and the account that vouched for it; the signature was checked where it arrived (one item of a signed batch). */
export interface Attested<T> {
  message: T
  signer: Address
}

/** A message together with the account that signed it. */
export interface Signed<T> extends Attested<T> {
  signature: Hex
}

/**
 * Where a task's id was anchored on-chain (core/taskAnchor.ts): the requester's root, the leaf's
 * index and the siblings from the leaf up. Not signed: it is checked against the root the chain holds.
 */
export interface TaskAnchor {
  root: Hex
  index: number
  proof: Hex[]
}

/** A signed task spec as it travels and is stored: with the proof that its id was anchored before its draw block. */
export interface SignedSpec extends Signed<TaskSpec> {
  anchor?: TaskAnchor
}

export type Outcome = 'verified' | 'failed' | 'unresolved'

/** The agreed outcome of a task, computed identically by every node from the reveals. */
export interface Verdict {
  taskId: Hex
  outcome: Outcome
  /** The winning result hash; zero for `unresolved`. */
  resultHash: Hex
  /** Executors whose reveal matched the winning result, in rank order. */
  executors: Address[]
  /** Executors that revealed a different result, in rank order. */
  dissenters: Address[]
}

/**
 * An aggregator's proposal for an epoch's batch: the batch digest it signs, and the content id of
 * the `EpochProposal` blob (settled tasks and balances before the epoch) members check it from.
 */
export interface BatchProposal {
  epoch: bigint
  /** The settlement round it is proposed in: its signer must be the round's aggregator (`roundAggregator`). */
  round: number
  digest: Hex
  tasks: Hex
}

/**
 * A committee member's evidence for a round's proposal it refused: the content id of an
 * `EpochProposal` blob holding its own certificates of the tasks it objected to (a task left out, a
 * reveal or commit left out). The next rounds' aggregators merge them (`mergeCertificates`), so
 * that views that differ for good (churn, a partition) still converge on one batch.
 */
export interface BatchEvidence {
  epoch: bigint
  /** The round whose proposal the member refused: one evidence per member and round is taken. */
  round: number
  tasks: Hex
}

/**
 * A committee member's word that it accepted the specs of some of a proposal's backup-seated tasks
 * (a task whose certificate seats a backup: only members that saw its spec could have held a
 * better-ranked commit an aggregator left out) and holds nothing the proposal leaves out of them.
 * A member that never saw such a task's spec signs the proposal only once members holding more
 * than a third of the committee weight vouch for it: at least one of them is honest.
 */
export interface BatchVouch {
  epoch: bigint
  round: number
  digest: Hex
  /**
   * The hash of the proposal's backup-seated task ids as the voucher found them (`seatedRoot`): a
   * member whose list differs (a draw it could not read) counts none of this vouch's bits.
   */
  seated: Hex
  /** A bitmap over the proposal's backup-seated tasks, in proposal order (`backupSeated`): bit i set vouches for the i-th. */
  tasks: Hex
}

/** A committee member's BLS signature (96 bytes, compressed) of a batch digest; the aggregator sums them for `Settlement.submitBatch`. */
export interface BatchSignature {
  epoch: bigint
  /** The round of the batch signed (also inside the digest): a member signs one batch per round. */
  round: number
  digest: Hex
  /**
   * The content id of the proposal the digest was built from. Not signed (the signature covers the
   * digest, as the contract checks it): it lets anyone who sees two signatures of one member for
   * one epoch rebuild both batches and prove the equivocation on-chain.
   */
  tasks: Hex
}

/** The EIP-712 domain every veritask message is signed under. */
export interface ProtocolDomain {
  chainId: number
  /** The settlement contract; the zero address on a network without one. */
  verifyingContract: Address
}
