import { isContentOf } from '../../core/contentId.ts'
import { MessageRejectedError } from '../../core/errors.ts'
import type { Hex } from '../../core/types.ts'
import { emptyNetworkStats } from '../../ports/network.ts'
import type { BlobProvider, FetchBlobOptions, GossipHandler, Network, NetworkStats, Topic } from '../../ports/network.ts'
import { createSeededRandom } from '../../core/seededRandom.ts'

export interface MemoryHubOptions {
  /**
   * One-way delay of every message and blob response, in ms: fixed, uniform in [min, max], or
   * per pair of peers (the simulator's latency classes).
   */
  latencyMs?: number | { min: number; max: number } | ((from: string, to: string, bytes: number) => number)
  /**
   * Whether a message or blob from one peer reaches another now (the simulator's churn and
   * partitions); a delivery to an unreachable peer is lost. Everyone reaches everyone by default.
   */
  reachable?: (from: string, to: string) => boolean
  /**
   * Runs `fn` after `delayMs`: a simulated clock's timer (src/sim), so that deliveries happen in
   * simulated time. Real time by default (`setImmediate`, `setTimeout`).
   */
  schedule?: (delayMs: number, fn: () => void) => void
  /** Probability that one gossip delivery to one peer is lost (0 ≤ rate < 1). */
  dropRate?: number
  /** Seed of the hub's own PRNG for latency and drops, so a run can be repeated. */
  seed?: number
}

export interface MemoryHub {
  /** Joins a peer to the hub. */
  connect(peerId: string): Network
  /** Rejections per sending peer: the hub's stand-in for gossipsub's peer score. */
  rejectionsBy(peerId: string): number
  /** Traffic of one peer, also after it closed. */
  statsOf(peerId: string): NetworkStats
  peers(): string[]
}

interface Peer {
  id: string
  handlers: Map<Topic, GossipHandler[]>
  provider: BlobProvider | undefined
  stats: NetworkStats
  closed: boolean
}


/**
 * An in-memory transport for single-process networks (the devnet, tests, the simulator): every
 * peer reaches every other directly, with injectable latency and loss.
 */
export function createMemoryHub(options: MemoryHubOptions = {}): MemoryHub {
  const peers = new Map<string, Peer>()
  const rejections = new Map<string, number>()
  const allStats = new Map<string, NetworkStats>()
  const random = createSeededRandom(options.seed ?? 1)
  const dropRate = options.dropRate ?? 0
  if (!(dropRate >= 0 && dropRate < 1)) throw new RangeError('dropRate must be in [0, 1)')

  const latency = (from: string, to: string, bytes: number): number => {
    const l = options.latencyMs ?? 0
    if (typeof l === 'function') return l(from, to, bytes)
    return typeof l === 'number' ? l : l.min + random() * (l.max - l.min)
  }
  // Deliveries run on a later turn of the event loop, as over a real network.
  const later = (from: string, to: string, bytes: number, fn: () => void): void => {
    const delay = latency(from, to, bytes)
    if (options.schedule !== undefined) options.schedule(delay, fn)
    else if (delay <= 0) setImmediate(fn)
    else setTimeout(fn, delay)
  }

  function deliver(to: Peer, topic: Topic, from: string, data: Uint8Array): void {
    for (const handler of to.handlers.get(topic) ?? []) {
      to.stats.messagesReceived++
      to.stats.bytesReceived += data.byteLength
      Promise.resolve()
        .then(() => handler({ topic, from, data }))
        .then(
          (result) => {
            if (result === 'reject') {
              to.stats.messagesRejected++
              rejections.set(from, (rejections.get(from) ?? 0) + 1)
            }
          },
          () => {
            // A throwing handler is the subscriber's bug, not the sender's; count it as ignored.
          },
        )
    }
  }

  function connect(peerId: string): Network {
    if (peers.has(peerId)) throw new Error(`peer ${peerId} is already connected`)
    const self: Peer = { id: peerId, handlers: new Map(), provider: undefined, stats: emptyNetworkStats(), closed: false }
    peers.set(peerId, self)
    allStats.set(peerId, self.stats)

    /** The peer's bytes for `cid`, `undefined` if it has none, or 'too-large'. Wrong bytes count as none. */
    async function askPeer(peer: Peer, cid: Hex, maxBytes: number): Promise<Uint8Array | 'too-large' | undefined> {
      if (peer.closed || peer.provider === undefined) return undefined
      const bytes = await new Promise<Uint8Array | undefined>((resolve, reject) => {
        if (options.reachable?.(peerId, peer.id) === false) return resolve(undefined)
        later(peerId, peer.id, 0, () =>
          Promise.resolve(peer.provider?.(cid)).then((answer) => {
            if (options.reachable?.(peer.id, peerId) === false) return resolve(undefined)
            // Per-pair latency (the simulator's classes) also charges the answer's trip back, by its size.
            if (typeof options.latencyMs === 'function') later(peer.id, peerId, answer?.byteLength ?? 0, () => resolve(answer))
            else resolve(answer)
          }, reject),
        )
      }).catch(() => undefined)
      if (bytes === undefined) return undefined
      if (bytes.byteLength > maxBytes) return 'too-large'
      if (!isContentOf(cid, bytes)) return undefined
      peer.stats.blobsServed++
      peer.stats.blobBytesServed += bytes.byteLength
      // A copy, as if the bytes had crossed a wire: the receiver must not share the sender's buffer.
      return bytes.slice()
    }

    return {
      peerId,
      async publish(topic, data) {
        if (self.closed) return
        self.stats.messagesPublished++
        self.stats.bytesPublished += data.byteLength
        for (const peer of peers.values()) {
          if (peer === self || peer.closed || !peer.handlers.has(topic)) continue
          if (dropRate > 0 && random() < dropRate) continue
          if (options.reachable?.(peerId, peer.id) === false) continue
          later(peerId, peer.id, data.byteLength, () => {
            if (!peer.closed && options.reachable?.(peerId, peer.id) !== false) deliver(peer, topic, peerId, data)
          })
        }
      },
      subscribe(topic, handler) {
        const list = self.handlers.get(topic) ?? []
        list.push(handler)
        self.handlers.set(topic, list)
      },
      provideBlobs(provider) {
        self.provider = provider
      },
      async fetchBlob(cid, { peers: preferred = [], maxBytes, signal }: FetchBlobOptions) {
        const order = [...preferred, ...[...peers.keys()].filter((id) => !preferred.includes(id))]
        let tooLarge = false
        for (const id of order) {
          signal?.throwIfAborted()
          const peer = peers.get(id)
          if (peer === undefined || peer === self) continue
          const bytes = await askPeer(peer, cid, maxBytes)
          if (bytes === 'too-large') tooLarge = true
          else if (bytes !== undefined) return bytes
        }
        if (tooLarge) {
          throw new MessageRejectedError('BLOB_TOO_LARGE', `Blob ${cid} is larger than the ${maxBytes}-byte limit.`, {
            details: { cid, maxBytes },
          })
        }
        throw new MessageRejectedError('BLOB_NOT_FOUND', `No peer could provide blob ${cid}.`, {
          details: { cid },
          hint: 'Make sure the requester uploaded the program and input to a node of the network.',
        })
      },
      stats: () => ({ ...self.stats }),
      async close() {
        self.closed = true
        peers.delete(peerId)
      },
    }
  }

  return {
    connect,
    rejectionsBy: (peerId) => rejections.get(peerId) ?? 0,
    statsOf: (peerId) => ({ ...(allStats.get(peerId) ?? emptyNetworkStats()) }),
    peers: () => [...peers.keys()],
  }
}
