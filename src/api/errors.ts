import { MessageRejectedError, SpecRejectedError, VeritaskError } from '../core/errors.ts'
import type { SpecRejectionCode } from '../core/errors.ts'
import type { VeritaskErrorOptions } from '../core/errors.ts'

/** Conditions of the HTTP layer itself; protocol rejections keep their own codes. */
export type ApiErrorCode =
  | 'API_NOT_FOUND'
  | 'API_METHOD_NOT_ALLOWED'
  | 'API_UNSUPPORTED_MEDIA_TYPE'
  | 'API_BODY_TOO_LARGE'
  | 'API_RATE_LIMITED'
  | 'API_BAD_TASK_ID'
  | 'API_BAD_CID'
  | 'API_TASK_NOT_FOUND'
  | 'API_BLOB_NOT_FOUND'
  | 'RECEIPT_NOT_READY'
  | 'RECEIPT_OMITTED'
  | 'API_BAD_ACCOUNT'
  | 'BALANCE_NOT_FOUND'
  | 'API_UNAUTHORIZED'
  | 'API_ADMIN_DISABLED'
  | 'API_TOO_MANY_STREAMS'
  | 'API_BAD_EVENT_FILTER'
  | 'API_BAD_EPOCH'
  | 'API_EXPLORER_NOT_BUILT'
  | 'API_CHAIN_UNAVAILABLE'
  | 'API_INTERNAL'

export class ApiError extends VeritaskError<ApiErrorCode> {
  override name = 'ApiError'
  readonly status: number

  constructor(status: number, code: ApiErrorCode, message: string, options: VeritaskErrorOptions = {}) {
    super(code, message, options)
    this.status = status
  }
}

/**
 * HTTP status per spec rejection. 400: the request contradicts itself (signature, blobs);
 * 402: the requester's escrow cannot pay; 409: already known, or another epoch than the node's; 422: well formed but outside what
 * the network accepts; 503: the network cannot take it now.
 */
export const specRejectionStatus: Readonly<Record<SpecRejectionCode, number>> = {
  SPEC_BAD_SIGNATURE: 400,
  SPEC_MISSING_BLOB: 400,
  SPEC_INSUFFICIENT_ESCROW: 402,
  SPEC_DUPLICATE: 409,
  SPEC_EXPIRED: 422,
  SPEC_LIMITS_EXCEEDED: 422,
  SPEC_INVALID_POLICY: 422,
  SPEC_UNSUPPORTED_RUNTIME: 422,
  SPEC_NOT_ENOUGH_NODES: 503,
  SPEC_WRONG_EPOCH: 409,
  SPEC_FEE_TOO_LOW: 422,
  SPEC_DRAW_TOO_FAR: 409,
  SPEC_NOT_ANCHORED: 422,
}

export interface ErrorReply {
  status: number
  body: { error: { code: string; message: string; hint?: string; details?: Record<string, unknown> } }
}

const internal: ErrorReply = { status: 500, body: { error: { code: 'API_INTERNAL', message: 'Internal error.' } } }

/** The reply for an error a handler threw; anything unexpected becomes a generic 500. */
export function replyForError(error: unknown): ErrorReply {
  let status: number
  if (error instanceof ApiError) status = error.status
  else if (error instanceof SpecRejectedError) status = specRejectionStatus[error.code] ?? 422
  else if (error instanceof MessageRejectedError) status = error.code === 'MESSAGE_TOO_LARGE' ? 413 : 400
  else return internal
  const { code, message, hint, details } = error as VeritaskError
  const body: ErrorReply['body'] = { error: { code, message } }
  if (hint !== undefined) body.error.hint = hint
  if (Object.keys(details).length > 0) body.error.details = details
  return { status, body }
}
