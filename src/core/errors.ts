/**
 * The error hierarchy. Every error carries a stable `code` that code can branch on and that logs
 * record as data, a short message a person can read, and optional `details` and `hint`.
 */
export interface VeritaskErrorOptions {
  details?: Record<string, unknown>
  /** What the reader can do about it. */
  hint?: string
  cause?: unknown
}

export class VeritaskError<Code extends string = string> extends Error {
  override name = 'VeritaskError'
  readonly code: Code
  readonly details: Record<string, unknown>
  readonly hint: string | undefined

  constructor(code: Code, message: string, options: VeritaskErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = options.details ?? {}
    this.hint = options.hint
  }

  /** The message with its hint, as a person should read it. */
  describe(): string {
    return this.hint === undefined ? this.message : `${this.message}\n  hint: ${this.hint}`
  }
}

/** A `TaskSpec` that a node refuses to accept. */
export type SpecRejectionCode =
  | 'SPEC_BAD_SIGNATURE'
  | 'SPEC_EXPIRED'
  | 'SPEC_LIMITS_EXCEEDED'
  | 'SPEC_INVALID_POLICY'
  | 'SPEC_UNSUPPORTED_RUNTIME'
  | 'SPEC_INSUFFICIENT_ESCROW'
  | 'SPEC_DUPLICATE'
  | 'SPEC_NOT_ENOUGH_NODES'
  | 'SPEC_MISSING_BLOB'
  | 'SPEC_WRONG_EPOCH'
  | 'SPEC_FEE_TOO_LOW'
  | 'SPEC_DRAW_TOO_FAR'
  | 'SPEC_NOT_ANCHORED'

export class SpecRejectedError extends VeritaskError<SpecRejectionCode> {
  override name = 'SpecRejectedError'
}

/** A `Commit` that does not fit the task's state. */
export type CommitRejectionCode =
  | 'COMMIT_BAD_SIGNATURE'
  | 'COMMIT_UNKNOWN_TASK'
  | 'COMMIT_NOT_ASSIGNED'
  | 'COMMIT_DUPLICATE'
  | 'COMMIT_PHASE_CLOSED'

export class CommitRejectedError extends VeritaskError<CommitRejectionCode> {
  override name = 'CommitRejectedError'
}

/** A `Reveal` that does not fit the task's state or its commit. */
export type RevealRejectionCode =
  | 'REVEAL_BAD_SIGNATURE'
  | 'REVEAL_UNKNOWN_TASK'
  | 'REVEAL_BEFORE_COMMIT_CLOSE'
  | 'REVEAL_PHASE_CLOSED'
  | 'REVEAL_WITHOUT_COMMIT'
  | 'REVEAL_MISMATCH'
  | 'REVEAL_DUPLICATE'

export class RevealRejectedError extends VeritaskError<RevealRejectionCode> {
  override name = 'RevealRejectedError'
}

/** A sample-policy `Challenge` that does not fit the task. */
export type ChallengeRejectionCode = 'CHALLENGE_BAD_SIGNATURE' | 'CHALLENGE_UNEXPECTED' | 'CHALLENGE_NOT_VERIFIER' | 'CHALLENGE_MISMATCH' | 'CHALLENGE_BAD_DRAW'

export class ChallengeRejectedError extends VeritaskError<ChallengeRejectionCode> {
  override name = 'ChallengeRejectedError'
}

/** A gossip message or blob that failed validation before anything in it was trusted. */
export type MessageRejectionCode =
  | 'MESSAGE_TOO_LARGE'
  | 'MESSAGE_MALFORMED'
  | 'MESSAGE_UNKNOWN_TYPE'
  | 'MESSAGE_WRONG_TOPIC'
  | 'BLOB_MISMATCH'
  | 'BLOB_TOO_LARGE'
  | 'BLOB_NOT_FOUND'

export class MessageRejectedError extends VeritaskError<MessageRejectionCode> {
  override name = 'MessageRejectedError'
}

/** Why a node did not sign or could not settle an epoch's batch. */
export type SettlementErrorCode =
  | 'BATCH_NOT_AGGREGATOR'
  | 'BATCH_BAD_SIGNATURE'
  | 'BATCH_PREVIOUS_MISMATCH'
  | 'BATCH_DIGEST_MISMATCH'
  | 'BATCH_OBJECTION'
  | 'BATCH_NOT_COMMITTEE'
  | 'BATCH_UNKNOWN_EPOCH'

export class SettlementError extends VeritaskError<SettlementErrorCode> {
  override name = 'SettlementError'
}

/** A run that ended for a local, non-deterministic reason; the node abstains from committing. */
export type ExecutionAbortCode = 'EXEC_TIMEOUT' | 'EXEC_WORKER_CRASHED' | 'EXEC_CLOSED' | 'EXEC_ABORTED'

export class ExecutionAbortedError extends VeritaskError<ExecutionAbortCode> {
  override name = 'ExecutionAbortedError'
}

/** Wrong input from a person: CLI flags, config values. */
export type UsageErrorCode = 'USAGE_INVALID_OPTION' | 'USAGE_INVALID_PARAMS' | 'USAGE_INSECURE_KEY_FILE' | 'USAGE_BAD_KEY_FILE'

export class UsageError extends VeritaskError<UsageErrorCode> {
  override name = 'UsageError'
}
