import { z } from 'zod'
import { MessageRejectedError } from '../core/errors.ts'
import { decodeMessage } from '../core/messages.ts'
import type { ProtocolParams } from '../core/params.ts'
import type { SignedSpec } from '../core/types.ts'

export interface Submission {
  signed: SignedSpec
  /** Program and input bytes, in that order. */
  blobs: Uint8Array[]
}

const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'expected base64')

/** The body of `POST /v1/tasks`. The spec itself is checked by the wire schema of gossip. */
const submissionBody = z.strictObject({
  spec: z.record(z.string(), z.unknown()),
  signature: z.string(),
  /** Where the spec's id was anchored on-chain (`TaskAnchor`): checked by the wire schema too. */
  anchor: z.unknown().optional(),
  program: base64,
  input: base64,
})

const utf8 = new TextDecoder('utf-8', { fatal: true })
const encoder = new TextEncoder()

function malformed(message: string, issues: readonly { path: string; message: string }[]): MessageRejectedError {
  const first = issues[0]
  return new MessageRejectedError('MESSAGE_MALFORMED', `${message}: ${first?.path || '(root)'}: ${first?.message ?? 'invalid'}.`, {
    details: { issues: issues.slice(0, 3) },
    hint: 'Send { spec, signature, anchor, program, input }: the spec as on the wire (bigints as decimal strings), its anchor proof { root, index, proof }, program and input as base64.',
  })
}

/**
 * Parses a submission body. The spec goes through `decodeMessage` as a gossip `spec` message
 * signed by its requester, so the API accepts exactly what the network accepts; the signature
 * is checked by the node. Throws a `MessageRejectedError`.
 */
export function parseSubmission(body: Uint8Array, params: ProtocolParams): Submission {
  let json: unknown
  try {
    json = JSON.parse(utf8.decode(body))
  } catch (cause) {
    throw new MessageRejectedError('MESSAGE_MALFORMED', 'The request body is not valid UTF-8 JSON.', { cause })
  }
  const parsed = submissionBody.safeParse(json)
  if (!parsed.success) {
    throw malformed('The request body does not match its schema', parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })))
  }
  const { spec, signature, anchor, program, input } = parsed.data
  const wire = encoder.encode(JSON.stringify({ type: 'spec', message: spec, signer: spec.requester, signature, ...(anchor === undefined ? {} : { anchor }) }))
  let decoded
  try {
    decoded = decodeMessage(wire, params.maxMessageBytes)
  } catch (error) {
    if (!(error instanceof MessageRejectedError) || error.code !== 'MESSAGE_MALFORMED') throw error
    // Name the fields as the request does: the wire envelope's `message` is the body's `spec`.
    const issues = ((error.details.issues ?? []) as { path: string; message: string }[]).map((i) => ({
      path: i.path.replace(/^message(?=\.|$)/, 'spec'),
      message: i.message,
    }))
    throw malformed('The task spec does not match its schema', issues)
  }
  const { type: _type, ...signed } = decoded
  return {
    signed: signed as SignedSpec,
    blobs: [Buffer.from(program, 'base64'), Buffer.from(input, 'base64')].map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)),
  }
}
