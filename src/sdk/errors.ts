import { VeritaskError } from '../core/errors.ts'
import type { VeritaskErrorOptions } from '../core/errors.ts'
import type { JobReport } from './actions/submitJob.ts'

/**
 * Errors the SDK raises itself. Each condition has its own class and a stable `code`, so code
 * can branch on `error.code` (or `instanceof`) and a person reads `error.describe()`.
 * A rejection by a node keeps the node's own code (`SPEC_INSUFFICIENT_ESCROW`, …) in a `NodeApiError`.
 */
export type SdkErrorCode =
  | 'SDK_NODE_UNREACHABLE'
  | 'SDK_INVALID_PROGRAM'
  | 'SDK_INPUT_NOT_FOUND'
  | 'SDK_INPUT_EMPTY'
  | 'SDK_INSUFFICIENT_ESCROW'
  | 'SDK_TIMEOUT'
  | 'SDK_RESULT_MISMATCH'
  | 'SDK_BAD_RESPONSE'
  | 'SDK_CHAIN_UNREACHABLE'
  | 'SDK_JOB_INTERRUPTED'
  | 'SDK_INSUFFICIENT_TOKENS'
  | 'SDK_ANCHOR_FAILED'
  | 'SDK_NO_PENDING_WITHDRAWAL'
  | 'SDK_WITHDRAWAL_NOT_READY'

export class SdkError<Code extends string = SdkErrorCode> extends VeritaskError<Code> {
  override name = 'SdkError'
}

/** Every node API URL failed (connection refused, timeouts, 5xx) after all retries. */
export class NodeUnreachableError extends SdkError<'SDK_NODE_UNREACHABLE'> {
  override name = 'NodeUnreachableError'
  constructor(urls: readonly string[], attempts: number, options: VeritaskErrorOptions = {}) {
    super('SDK_NODE_UNREACHABLE', `No node API answered at ${urls.join(', ')} after ${attempts} attempts.`, {
      hint: 'Is the node running (veritask devnet --serve prints its API URLs)? Pass a second URL as a fallback.',
      ...options,
      details: { urls, attempts, ...options.details },
    })
  }
}

/** A node answered with an error: `code` is the node's code (docs/api.md), `status` the HTTP status. */
export class NodeApiError extends VeritaskError<string> {
  override name = 'NodeApiError'
  readonly status: number
  constructor(status: number, code: string, message: string, options: VeritaskErrorOptions = {}) {
    super(code, message, options)
    this.status = status
  }
}

/** The program bytes are not a WebAssembly module. */
export class InvalidProgramError extends SdkError<'SDK_INVALID_PROGRAM'> {
  override name = 'InvalidProgramError'
}

/** An input file or directory does not exist or cannot be read. */
export class InputNotFoundError extends SdkError<'SDK_INPUT_NOT_FOUND'> {
  override name = 'InputNotFoundError'
}

/** The input has no bytes to compute on (an empty file, a directory without non-empty files). */
export class EmptyInputError extends SdkError<'SDK_INPUT_EMPTY'> {
  override name = 'EmptyInputError'
}

/** The requester's spendable escrow does not cover the fees of what was asked; nothing was submitted. */
export class InsufficientEscrowError extends SdkError<'SDK_INSUFFICIENT_ESCROW'> {
  override name = 'InsufficientEscrowError'
  constructor(parameters: { required: bigint; available: bigint; requester: string }) {
    const { required, available, requester } = parameters
    super('SDK_INSUFFICIENT_ESCROW', `The escrow of ${requester} has ${available} spendable, the work needs ${required}; nothing was submitted.`, {
      details: { requester, required, available, missing: required - available },
      hint: `Deposit at least ${required - available} more (veritask deposit <amount>), or lower the fee.`,
    })
  }
}

/** Something the SDK waited for did not happen in time (a verdict, a receipt). */
export class TimeoutError extends SdkError<'SDK_TIMEOUT'> {
  override name = 'TimeoutError'
}

/** Bytes a node served do not hash to the content id that was asked for. */
export class ResultMismatchError extends SdkError<'SDK_RESULT_MISMATCH'> {
  override name = 'ResultMismatchError'
}

/** A node answered 2xx with a body the SDK cannot read. */
export class BadResponseError extends SdkError<'SDK_BAD_RESPONSE'> {
  override name = 'BadResponseError'
}

/** The EVM JSON-RPC endpoint did not answer or a call reverted. */
export class ChainUnreachableError extends SdkError<'SDK_CHAIN_UNREACHABLE'> {
  override name = 'ChainUnreachableError'
}

/**
 * The requester's wallet holds fewer fee tokens than it asked to deposit, or than anchoring its
 * task ids costs (the minimum fee per task, paid from the wallet, not the escrow).
 */
export class InsufficientTokensError extends SdkError<'SDK_INSUFFICIENT_TOKENS'> {
  override name = 'InsufficientTokensError'
}

/**
 * The task ids could not be anchored on-chain before their draw block (`TaskAnchors.anchor`
 * refused them, or each anchor landed too late): nothing was submitted. `cause` is the chain's
 * `AnchorFailedError` (code `CHAIN_ANCHOR_FAILED`) where the contract refused; `details.error`
 * names its custom error.
 */
export class TaskAnchorFailedError extends SdkError<'SDK_ANCHOR_FAILED'> {
  override name = 'TaskAnchorFailedError'
}

/** `withdraw` was called with no withdrawal requested (`requestWithdrawal` first). */
export class NoPendingWithdrawalError extends SdkError<'SDK_NO_PENDING_WITHDRAWAL'> {
  override name = 'NoPendingWithdrawalError'
}

/**
 * A requested withdrawal cannot be paid yet: its delay has not passed, or no epoch whose snapshot
 * follows the request has settled (until then its funds may still be charged for tasks).
 */
export class WithdrawalNotReadyError extends SdkError<'SDK_WITHDRAWAL_NOT_READY'> {
  override name = 'WithdrawalNotReadyError'
}

/**
 * A job stopped part-way — aborted, or a node or the chain stopped answering. `report` lists every
 * chunk as it stood, with the tasks already submitted (`pending` ones have no verdict yet); pass it
 * back as `resume` to finish the job without paying twice. `cause` is what stopped it.
 */
export class JobInterruptedError extends SdkError<'SDK_JOB_INTERRUPTED'> {
  override name = 'JobInterruptedError'
  readonly report: JobReport
  constructor(report: JobReport, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super('SDK_JOB_INTERRUPTED', `The job stopped after ${report.counts.verified + report.counts.failed} of ${report.chunks.length} chunks: ${reason}`, {
      cause,
      hint: 'Resume it with the report (veritask job … --resume <report>, or submitJob({ resume: error.report })).',
      details: { counts: report.counts },
    })
    this.report = report
  }
}
