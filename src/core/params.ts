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
  /** Largest gossip message accepted, in bytes. */
  maxMessageBytes: number
}

export const defaultParams: ProtocolParams = {
  defaultPolicy: { kind: 'replicate', k: 3, quorum: 2 },
  backups: 3,
  commitWindowMs: 5_000,
  revealWindowMs: 2_000,
  maxFuel: 50_000_000_000n,
  maxMemoryPages: 1_024,
  maxOutputBytes: 4 * 1024 * 1024,
  maxProgramBytes: 4 * 1024 * 1024,
  maxInputBytes: 16 * 1024 * 1024,
  maxK: 16,
  maxMessageBytes: 16 * 1024,
}
