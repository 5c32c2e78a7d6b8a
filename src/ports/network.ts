import type { Address, Hex } from '../core/types.ts'

/** Gossip topics; a topic's version changes with its messages' wire form (commits and reveals are batches since /2). */
export const topics = {
  specs: 'veritask/spec/1',
  commits: 'veritask/commit/2',
  reveals: 'veritask/reveal/2',
  challenges: 'veritask/challenge/1',
  /** Epoch settlement: batch proposals and committee signatures. */
  batches: 'veritask/batch/1',
} as const

export type Topic = (typeof topics)[keyof typeof topics]

export interface GossipMessage {
  topic: Topic
  /**
   * The peer that handed this node the message: its publisher or a peer relaying it. Not its
   * author: who wrote a message is proven by the protocol's own signature inside it.
   */
  from: string
  data: Uint8Array
}

/**
 * What a subscriber decided about a message, as in gossipsub's validators: `accept` relays it,
 * `ignore` drops it quietly (e.g. a duplicate), `reject` drops it and counts against the sender.
 */
export type ValidationResult = 'accept' | 'ignore' | 'reject'

export type GossipHandler = (message: GossipMessage) => ValidationResult | Promise<ValidationResult>

/** Answers blob requests from peers with the bytes of `cid`, or undefined if this node lacks it. */
export type BlobProvider = (cid: Hex) => Uint8Array | undefined | Promise<Uint8Array | undefined>

export interface FetchBlobOptions {
  /** Peers to ask first (e.g. the one that relayed the spec); others are asked after them. */
  peers?: readonly string[]
  /**
   * Accounts whose nodes should hold the blob (a result's executors serve it since their reveal):
   * a transport that knows which peer is bound to which account asks those next. Only an order:
   * the bytes are checked against the id whoever serves them.
   */
  sources?: readonly Address[]
  /** Largest blob accepted, in bytes. */
  maxBytes: number
  signal?: AbortSignal
}

export interface NetworkStats {
  messagesPublished: number
  bytesPublished: number
  messagesReceived: number
  bytesReceived: number
  messagesRejected: number
  blobsServed: number
  blobBytesServed: number
}

/**
 * The peer-to-peer port: publish/subscribe gossip plus content-addressed blob fetch.
 * A publisher does not receive its own messages. `fetchBlob` resolves only with bytes whose
 * keccak256 is `cid`, and rejects with a `MessageRejectedError` (`BLOB_NOT_FOUND`,
 * `BLOB_TOO_LARGE`) when no peer can provide it.
 */
export interface Network {
  readonly peerId: string
  publish(topic: Topic, data: Uint8Array): Promise<void>
  subscribe(topic: Topic, handler: GossipHandler): void
  provideBlobs(provider: BlobProvider): void
  fetchBlob(cid: Hex, options: FetchBlobOptions): Promise<Uint8Array>
  stats(): NetworkStats
  close(): Promise<void>
}

export function emptyNetworkStats(): NetworkStats {
  return {
    messagesPublished: 0,
    bytesPublished: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    messagesRejected: 0,
    blobsServed: 0,
    blobBytesServed: 0,
  }
}
