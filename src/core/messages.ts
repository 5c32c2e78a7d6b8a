import { getAddress } from 'viem'
import { z } from 'zod'
import { hashBatchEvidence, hashBatchProposal, hashBatchVouch, hashChallenge, hashCommitBatch, hashRevealBatch, hashTaskSpec } from './eip712.ts'
import { MessageRejectedError } from './errors.ts'
import { MAX_ANCHOR_DEPTH, MAX_ANCHOR_LEAVES } from './taskAnchor.ts'
import type { BatchEvidence, BatchProposal, BatchVouch, BatchSignature, CommitBatch, Hex, ProtocolDomain, RevealBatch, Signed, SignedChallenge, SignedSpec } from './types.ts'

/**
 * Gossip messages on the wire: JSON with bigints as decimal strings. Signatures are over EIP-712
 * hashes of the decoded values, so the wire form need not be canonical; it only has to be
 * validated strictly before anything in it is used.
 */
export type ProtocolMessage =
  | ({ type: 'spec' } & SignedSpec)
  | ({ type: 'commits' } & Signed<CommitBatch>)
  | ({ type: 'reveals' } & Signed<RevealBatch>)
  | ({ type: 'challenge' } & SignedChallenge)
  | ({ type: 'proposal' } & Signed<BatchProposal>)
  /** A member's certificates of the tasks it objected to in a round's proposal, by content id. */
  | ({ type: 'evidence' } & Signed<BatchEvidence>)
  /** A member's word for the backup-seated tasks of a proposal whose specs it accepted. */
  | ({ type: 'vouch' } & Signed<BatchVouch>)
  /** A BLS signature (compressed, 96 bytes) of the batch digest itself (an EIP-712 hash already), as the contract checks it. */
  | ({ type: 'batch-signature' } & Signed<BatchSignature>)

export type ProtocolMessageType = ProtocolMessage['type']

/**
 * The most commits or reveals one batch carries: 48 reveals in JSON stay under the default
 * 16 KiB message limit. An executor with more to send signs several batches.
 */
export const MAX_BATCH_ITEMS = 48

/** The highest settlement round a message may name: far beyond any epoch's need (a round lasts seconds). */
export const MAX_ROUND = 100_000

export const hex32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/, 'expected 32 bytes of hex')
  .transform((s) => s.toLowerCase() as `0x${string}`)
export const signature = z
  .string()
  .regex(/^0x[0-9a-fA-F]{130}$/, 'expected a 65-byte signature')
  .transform((s) => s.toLowerCase() as `0x${string}`)
/** A BLS signature (a compressed G2 point, 96 bytes): what committee members sign batch digests with. */
export const blsSignature = z
  .string()
  .regex(/^0x[0-9a-fA-F]{192}$/, 'expected a 96-byte BLS signature')
  .transform((s) => s.toLowerCase() as `0x${string}`)
export const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'expected an address')
  .transform((s) => getAddress(s))
export const uint = (bits: number) =>
  z
    .string()
    .regex(/^(0|[1-9][0-9]{0,77})$/, 'expected a decimal integer')
    .transform(BigInt)
    .refine((v) => v < 1n << BigInt(bits), `expected a uint${bits}`)
export const smallUint = (max: number) => z.number().int().min(0).max(max)

const policy = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('replicate'), k: smallUint(0xffff), quorum: smallUint(0xffff), auditPpm: smallUint(1_000_000).optional() }),
  z.strictObject({ kind: z.literal('sample'), ratePpm: smallUint(1_000_000) }),
])

const comparison = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('exact') }),
  z.strictObject({ kind: z.literal('maxError'), absMicro: smallUint(1_000_000_000), relPpm: smallUint(1_000_000) }),
  z.strictObject({ kind: z.literal('topK'), k: z.number().int().min(1).max(0xffff) }),
])

export const taskSpecSchema = z.strictObject({
  requester: address,
  nonce: uint(64),
  runtime: z.string().min(1).max(32),
  program: hex32,
  input: hex32,
  limits: z.strictObject({ fuel: uint(64), memoryPages: smallUint(0xffffffff), outputBytes: smallUint(0xffffffff) }),
  policy,
  comparison: comparison.optional(),
  fee: uint(256),
  epoch: uint(64),
  drawBlock: uint(64),
  deadline: uint(64),
})

export const commitSchema = z.strictObject({ taskId: hex32, commitment: hex32 })
export const revealSchema = z.strictObject({ taskId: hex32, status: z.enum(['ok', 'failed']), resultHash: hex32, salt: hex32 })
export const challengeSchema = z.strictObject({ taskId: hex32, commitment: hex32 })
const lowerHex = (bytes: number) => z.string().regex(new RegExp(`^0x[0-9a-f]{${bytes * 2}}$`)).transform((v) => v as Hex)
/** A challenge's audit draw (`AuditDraw`): the verifier's compressed key and its VRF proof, in canonical lowercase hex. */
export const auditDrawSchema = z.strictObject({ publicKey: lowerHex(33), gamma: lowerHex(33), c: lowerHex(16), s: lowerHex(32) })

/** A bitmap in lowercase hex, at most 1,536 bytes (12,288 tasks): a vouch's tasks. */
const bitmap = z
  .string()
  .regex(/^0x([0-9a-fA-F]{2}){1,1536}$/, 'expected a bitmap of 1 to 1,536 bytes')
  .transform((s) => s.toLowerCase() as `0x${string}`)

const envelope = <T extends z.ZodType>(type: string, message: T) =>
  z.strictObject({ type: z.literal(type), message, signer: address, signature })

/** A spec's anchor proof (`TaskAnchor`): at most `MAX_ANCHOR_DEPTH` siblings, an index below `MAX_ANCHOR_LEAVES`. */
export const taskAnchorSchema = z.strictObject({
  root: hex32,
  index: smallUint(MAX_ANCHOR_LEAVES - 1),
  proof: z.array(hex32).max(MAX_ANCHOR_DEPTH),
})

/** A signed spec with its anchor proof, as gossip, the store and certificates carry it. */
export const signedSpecSchema = z.strictObject({ message: taskSpecSchema, signer: address, signature, anchor: taskAnchorSchema.optional() })

const protocolMessage = z.discriminatedUnion('type', [
  signedSpecSchema.extend({ type: z.literal('spec') }),
  envelope('commits', z.strictObject({ commits: z.array(commitSchema).min(1).max(MAX_BATCH_ITEMS) })),
  z.strictObject({ type: z.literal('challenge'), message: challengeSchema, signer: address, signature, draw: auditDrawSchema }),
  envelope('proposal', z.strictObject({ epoch: uint(64), round: smallUint(MAX_ROUND), digest: hex32, tasks: hex32 })),
  envelope('evidence', z.strictObject({ epoch: uint(64), round: smallUint(MAX_ROUND), tasks: hex32 })),
  envelope('vouch', z.strictObject({ epoch: uint(64), round: smallUint(MAX_ROUND), digest: hex32, seated: hex32, tasks: bitmap })),
  z.strictObject({
    type: z.literal('batch-signature'),
    message: z.strictObject({ epoch: uint(64), round: smallUint(MAX_ROUND), digest: hex32, tasks: hex32 }),
    signer: address,
    signature: blsSignature,
  }),
  envelope(
    'reveals',
    z.strictObject({
      reveals: z
        .array(revealSchema)
        .min(1)
        .max(MAX_BATCH_ITEMS),
    }),
  ),
])

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeMessage(message: ProtocolMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)))
}

/** Decodes and schema-checks a message from a peer. Signatures are checked by the caller. */
export function decodeMessage(bytes: Uint8Array, maxBytes: number): ProtocolMessage {
  if (bytes.byteLength > maxBytes) {
    throw new MessageRejectedError('MESSAGE_TOO_LARGE', `A message of ${bytes.byteLength} bytes exceeds the ${maxBytes}-byte limit.`, {
      details: { size: bytes.byteLength, maxBytes },
    })
  }
  let json: unknown
  try {
    json = JSON.parse(decoder.decode(bytes))
  } catch (cause) {
    throw new MessageRejectedError('MESSAGE_MALFORMED', 'The message is not valid UTF-8 JSON.', { cause })
  }
  const parsed = protocolMessage.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const isUnknownType = issue?.path.length === 1 && issue.path[0] === 'type'
    throw new MessageRejectedError(
      isUnknownType ? 'MESSAGE_UNKNOWN_TYPE' : 'MESSAGE_MALFORMED',
      `The message does not match its schema: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}.`,
      { details: { issues: parsed.error.issues.slice(0, 3).map((i) => ({ path: i.path.join('.'), message: i.message })) } },
    )
  }
  return parsed.data as ProtocolMessage
}

/**
 * The 32-byte digest a message's signature covers: the task id for a spec, the EIP-712 hash of
 * the batch or challenge, and the batch digest itself for a committee signature.
 */
export function signedDigestOf(message: ProtocolMessage, domain: ProtocolDomain): Hex {
  switch (message.type) {
    case 'spec':
      return hashTaskSpec(message.message, domain)
    case 'commits':
      return hashCommitBatch(message.message, domain)
    case 'reveals':
      return hashRevealBatch(message.message, domain)
    case 'challenge':
      return hashChallenge(message.message, domain)
    case 'proposal':
      return hashBatchProposal(message.message, domain)
    case 'evidence':
      return hashBatchEvidence(message.message, domain)
    case 'vouch':
      return hashBatchVouch(message.message, domain)
    case 'batch-signature':
      return message.message.digest
  }
}
