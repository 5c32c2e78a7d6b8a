import type { ReplicatePolicy } from './types.ts'

/**
 * Protocol parameters, in one place. On a chain they come from the governed parameter snapshot
 * of the current epoch; the defaults are the devnet's.
 */
export interface ProtocolParams {
  /** Policy used when a requester does not pick one. */
  defaultPolicy: ReplicatePolicy
  /** Ordered backups ranked after the executors of each task. */
  backups: number
  /**
   * Arbiters seated for a dispute (the seats' reveals disagree), ranked after the backups. Enough
   * that a coalition below a third of the stake wins an arbitration with probability ≤ 10⁻⁶
   * (docs/economics.md); a network with fewer nodes seats every node that did not commit.
   */
  arbiters: number
  /** Time an executor has, from the spec's arrival, to commit. */
  commitWindowMs: number
  /** Time executors have to reveal once the commit phase closed. */
  revealWindowMs: number
  /** Upper bounds a spec's limits must stay within. */
  maxFuel: bigint
  maxMemoryPages: number
  maxOutputBytes: number
  maxProgramBytes: number
  maxInputBytes: number
  /** Largest replication factor a spec may ask for. */
  maxK: number
  /**
   * Lowest audit rate (ppm) a replicated spec may ask for (`ReplicatePolicy.auditPpm`): the floor
   * every node holds requesters to, governed (`NetworkParameters.MinAuditPpm`). The requester
   * chooses above it (its security level).
   */
  minAuditPpm: number
  /**
   * Smallest fee a spec may offer, in token base units, governed (`NetworkParameters.MinFee`, at
   * least 1): a spec offering less is refused (`SPEC_FEE_TOO_LOW`), so no key has the network
   * compute for free. Governance sets it to what k executions and an audit are worth.
   */
  minFee: bigint
  /** Largest gossip message accepted, in bytes. */
  maxMessageBytes: number
}

export const defaultParams: ProtocolParams = {
  defaultPolicy: { kind: 'replicate', k: 3, quorum: 2, auditPpm: 100_000 },
  backups: 3,
  arbiters: 193,
  commitWindowMs: 5_000,
  revealWindowMs: 2_000,
  maxFuel: 50_000_000_000n,
  maxMemoryPages: 1_024,
  maxOutputBytes: 4 * 1024 * 1024,
  maxProgramBytes: 4 * 1024 * 1024,
  maxInputBytes: 16 * 1024 * 1024,
  maxK: 16,
  minAuditPpm: 0,
  minFee: 1n,
  maxMessageBytes: 16 * 1024,
}

/**
 * How far ahead a node tells requesters to draw (a node's `nextDrawBlock`, `GET /v1/status`): the
 * first block at least `DRAW_LEAD_MS` past the newest block it has seen, and at least
 * `DRAW_LEAD_BLOCKS` blocks (and at most `MAX_DRAW_LEAD_BLOCKS`). Enough for the requester to sign
 * and submit before the block is mined (its node refuses the spec otherwise); each task waits
 * about as long for its seats.
 */
export const DRAW_LEAD_MS = 500
export const DRAW_LEAD_BLOCKS = 2n

/**
 * How far past a node's newest block a spec's draw block may lie (`checkDrawBlock`): a task waits
 * at most this many blocks for its seats, and a requester a few blocks ahead of a node is still served.
 */
export const MAX_DRAW_LEAD_BLOCKS = 16n

/** The most arbiters a certificate may carry (the `arbiters` parameter's upper bound). */
export const MAX_ARBITRATION_SEATS = 256
