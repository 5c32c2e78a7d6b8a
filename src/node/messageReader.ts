import { MessageRejectedError } from '../core/errors.ts'
import { hashBatchOfItems } from '../core/eip712.ts'
import { decodeMessage, signedDigestOf } from '../core/messages.ts'
import { itemHashesOf } from '../core/seal.ts'
import type { ProtocolMessage } from '../core/messages.ts'
import type { Hex, ProtocolDomain } from '../core/types.ts'

/**
 * A gossip message, decoded and schema-checked, with the digest its signature must cover. The
 * digest is computed when first read: a message refused before its signature is checked costs no
 * hashing.
 */
export interface ReadMessage {
  message: ProtocolMessage
  readonly digest: Hex
  /** A commit or reveal batch's item hashes (its seal's, core/seal.ts), from which the digest is computed; empty for other messages. */
  readonly itemHashes: readonly Hex[]
}

/** Reads gossip bytes; throws a `MessageRejectedError` for anything malformed. Checks no signature. */
export type MessageReader = (bytes: Uint8Array) => ReadMessage

export interface CreateMessageReaderParameters {
  domain: ProtocolDomain
  maxBytes: number
  /**
   * Remember what was read per byte array. For several nodes in one process (the in-process
   * devnet), whose memory transport hands every node the same bytes: each message is then decoded
   * and hashed once per process rather than once per node, as on separate machines each node
   * spends only its own CPU. What was read is frozen, so no node can change another's copy.
   */
  shared?: boolean
}

export function createMessageReader({ domain, maxBytes, shared = false }: CreateMessageReaderParameters): MessageReader {
  const read = (bytes: Uint8Array): ReadMessage => {
    const message = decodeMessage(bytes, maxBytes)
    let digest: Hex | undefined
    let itemHashes: Hex[] | undefined
    const hashesOf = (): Hex[] =>
      (itemHashes ??=
        message.type === 'commits'
          ? itemHashesOf('commits', message.message.commits)
          : message.type === 'reveals'
            ? itemHashesOf('reveals', message.message.reveals)
            : [])
    return {
      message,
      get digest() {
        return (digest ??=
          message.type === 'commits' || message.type === 'reveals' ? hashBatchOfItems(message.type, hashesOf(), domain) : signedDigestOf(message, domain))
      },
      get itemHashes() {
        return hashesOf()
      },
    }
  }
  if (!shared) return read
  // Weak keys: an entry lives as long as some node still holds the bytes.
  const seen = new WeakMap<Uint8Array, ReadMessage | MessageRejectedError>()
  return (bytes) => {
    let result = seen.get(bytes)
    if (result === undefined) {
      try {
        result = deepFreeze(read(bytes))
      } catch (error) {
        if (!(error instanceof MessageRejectedError)) throw error
        result = error
      }
      seen.set(bytes, result)
    }
    if (result instanceof MessageRejectedError) throw result
    return result
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}
