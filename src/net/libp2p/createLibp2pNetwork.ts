// The polyfill must be evaluated before any libp2p module: keep this import first.
import './polyfill.ts'
import { createHash } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { gossipsub, StrictNoSign, TopicValidatorResult } from '@libp2p/gossipsub'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Message } from '@libp2p/gossipsub'
import { createTopicScoreParams } from '@libp2p/gossipsub/score'
import { identify } from '@libp2p/identify'
import type { Identify } from '@libp2p/identify'
import { KEEP_ALIVE } from '@libp2p/interface'
import type { Libp2p, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { isContentOf } from '../../core/contentId.ts'
import { devnetDomain } from '../../core/eip712.ts'
import { MessageRejectedError } from '../../core/errors.ts'
import { defaultParams } from '../../core/params.ts'
import { isSignedBy } from '../../core/signing.ts'
import type { SignatureVerifier, Signer } from '../../core/signing.ts'
import type { Address, Hex, ProtocolDomain } from '../../core/types.ts'
import { emptyNetworkStats, topics } from '../../ports/network.ts'
import type { BlobProvider, FetchBlobOptions, GossipHandler, Network, Topic, ValidationResult } from '../../ports/network.ts'
import { blobProtocol, requestBlob, serveBlobRequest } from './blobProtocol.ts'
import type { BlobAnswer } from './blobProtocol.ts'
import { coalescingTcp } from './coalescingTcp.ts'
import { PeerRejectedError } from './errors.ts'
import type { PeerRejectionCode } from './errors.ts'
import { decodePeerBinding, encodePeerBinding, isValidPeerBinding, peerBindingBytes, signPeerBinding } from './peerBinding.ts'
import { abortStreamOn, createStreamReader, writeAll } from './streamIo.ts'

/** The stream protocol on which two peers exchange their peer bindings when they connect. */
export const identityProtocol = '/veritask/identity/1.0.0'

export interface CreateLibp2pNetworkOptions {
  /** The node's staked Ethereum account; it signs the binding of this node's peer id. */
  signer: Signer
  /** Whether an account has stake; peers whose binding names an account without it are not trusted. */
  isStaked(account: Address): boolean | Promise<boolean>
  /** Multiaddrs to listen on. Default: `/ip4/127.0.0.1/tcp/0` (loopback, any free port). */
  listen?: readonly string[]
  /** Multiaddrs (ideally with `/p2p/<peerId>`) dialled at start and re-dialled while disconnected. */
  bootstrap?: readonly string[]
  /** The libp2p key, for a stable peer id: a key object or its protobuf bytes (`generatePeerKey`). Default: a fresh Ed25519 key. */
  privateKey?: PrivateKey | Uint8Array
  /** The protocol domain the peer binding is signed under. Default: the devnet domain. */
  domain?: ProtocolDomain
  /** Largest gossip message, in bytes, sent or accepted. Default: `defaultParams.maxMessageBytes`. */
  maxMessageBytes?: number
  /** Largest blob, in bytes, served or fetched. Default: the largest program, input or output size. */
  maxBlobBytes?: number
  /** Signature check for peer bindings. Default: viem's recovery (`isSignedBy`). */
  verifySignature?: SignatureVerifier
  /** Gossipsub tuning. */
  gossip?: {
    /** Heartbeat period in ms (mesh maintenance, gossip emission). Default 500. */
    heartbeatMs?: number
    /**
     * Target mesh degree and its bounds. Defaults 6, 4, 12 (gossipsub's own). With `D` alone the
     * bounds follow it: `Dlo` = ⌈D/2⌉, `Dhi` = ⌈1.5 D⌉ (at least D + 1). Every relay forwards each message to
     * its mesh: in a network where every node is connected to every other, flood publishing already
     * reached them all and each mesh link only carries a duplicate, so such a network wants a small D.
     */
    D?: number
    Dlo?: number
    Dhi?: number
  }
  /** How long the identity exchange may take before the peer counts as having no binding, in ms. Default 5000. */
  identityTimeoutMs?: number
  /** How long one blob request to one peer may take, in ms. Default 30000. */
  blobTimeoutMs?: number
  /**
   * Blob requests to different peers in flight at once, and how long one goes unanswered before
   * the next peer is asked too (ms): a peer that stalls costs `blobHedgeMs`, not `blobTimeoutMs`.
   * Defaults 3 and 250.
   */
  blobFanout?: number
  blobHedgeMs?: number
  /** How long a rejected peer is refused reconnection, in ms. Default 60000. */
  banMs?: number
  /** Period of re-dialling bootstrap peers that are not connected, in ms; 0 turns it off. Default 5000. */
  bootstrapRetryMs?: number
  /** Told about every identity decision, for logs and metrics. */
  onPeer?(event: PeerTrustEvent): void
}

export type PeerTrustEvent =
  | { peerId: string; trusted: true; account: Address }
  | { peerId: string; trusted: false; code: PeerRejectionCode; account?: Address }

export interface Libp2pServices extends Record<string, unknown> {
  identify: Identify
  pubsub: GossipSub
}

/** A `Network` over libp2p: TCP, Noise, Yamux, identify, gossipsub, plus the veritask stream protocols. */
export interface Libp2pNetwork extends Network {
  /** The libp2p node underneath, for metrics and diagnostics. Do not publish or subscribe through it. */
  readonly libp2p: Libp2p<Libp2pServices>
  /** The addresses this node listens on, each ending in `/p2p/<peerId>`. */
  multiaddrs(): string[]
  /**
   * Dials `address` and resolves with the remote peer id once its binding verified; rejects with a
   * `PeerRejectedError` when the peer is not trusted (and is disconnected).
   */
  connect(address: string, options?: { signal?: AbortSignal }): Promise<string>
  /** The staked account bound to a connected, trusted peer; undefined for any other peer. */
  accountOf(peerId: string): Address | undefined
  /** Connected peers whose binding verified. */
  peers(): string[]
  /** Trusted peers subscribed to `topic`, or only those in this node's mesh for it. */
  topicPeers(topic: Topic, options?: { mesh?: boolean }): string[]
  /** Resolves once every topic has at least `count` trusted peers (in the mesh, with `mesh`). */
  waitForPeers(count: number, options?: { mesh?: boolean; signal?: AbortSignal }): Promise<void>
  /** Asks `isStaked` again for every trusted peer and disconnects those that lost their stake. */
  refreshTrust(): Promise<void>
}

/** A fresh Ed25519 libp2p key as protobuf bytes, to store and pass back as `privateKey`. */
export async function generatePeerKey(): Promise<Uint8Array> {
  return privateKeyToProtobuf(await generateKeyPair('Ed25519'))
}

type Judgement = { trusted: true; account: Address } | { trusted: false; code: PeerRejectionCode; account?: Address }

interface PeerTrust {
  judgement: Judgement | undefined
  settled: Promise<Judgement>
  /** Records the judgement once; `checked` false (the peer left before it was checked) skips the ban. */
  settle(judgement: Judgement, checked?: boolean): void
}

/** The gossipsub router class has these, its exported interface does not. */
type GossipRouter = GossipSub & { getMeshPeers(topic: string): string[] }

const defaultMaxBlobBytes = Math.max(defaultParams.maxProgramBytes, defaultParams.maxInputBytes, defaultParams.maxOutputBytes)

const toGossipsub: Record<ValidationResult, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject,
}

/**
 * Per-topic peer scoring. Only invalid (rejected) deliveries count against a peer, quadratically:
 * 1 → −10, 2 → −40, 3 → −90 (below the graylist threshold of −80: everything it sends is dropped),
 * decaying by 10 % a second. Low delivery rates are not penalised, since protocol topics are quiet
 * between tasks.
 */
const topicScoreParams = createTopicScoreParams({
  topicWeight: 1,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1_000,
  timeInMeshCap: 300,
  firstMessageDeliveriesWeight: 0.5,
  firstMessageDeliveriesDecay: 0.9,
  firstMessageDeliveriesCap: 20,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.9,
})

/**
 * A gossip message's id: SHA-256 over its topic (length-prefixed) and data. Messages carry no
 * libp2p signature, author or sequence number (`StrictNoSign`): every payload is already signed by
 * a staked account, so the same bytes on the same topic are the same message, whoever relays or
 * re-publishes them, and are delivered once.
 */
export function gossipMessageId(topic: string, data: Uint8Array): Uint8Array {
  return createHash('sha256').update(topicPrefix(topic)).update(data).digest()
}

/** The length-prefixed topic name each message id starts with; the protocol's few topics are kept. */
const topicPrefixes = new Map<string, Buffer>()
function topicPrefix(topic: string): Buffer {
  const kept = topicPrefixes.get(topic)
  if (kept !== undefined) return kept
  const name = Buffer.from(topic, 'utf8')
  const prefix = Buffer.alloc(4 + name.byteLength)
  prefix.writeUInt32BE(name.byteLength)
  name.copy(prefix, 4)
  if (topicPrefixes.size < 64) topicPrefixes.set(topic, prefix)
  return prefix
}

/** Gossipsub's mesh parameters from `gossip.D` (and optional bounds); gossipsub's defaults without. */
function meshDegree({ D, Dlo, Dhi }: { D?: number; Dlo?: number; Dhi?: number }): { D: number; Dlo: number; Dhi: number; Dout: number } {
  const degree = D ?? 6
  const low = Dlo ?? (D === undefined ? 4 : Math.ceil(degree / 2))
  const high = Dhi ?? (D === undefined ? 12 : Math.max(degree + 1, Math.ceil(1.5 * degree)))
  // Outbound mesh links kept against eclipse attempts: below Dlo and at most D/2 (gossipsub's rule).
  const out = Math.max(0, Math.min(2, low - 1, Math.floor(degree / 2)))
  return { D: degree, Dlo: low, Dhi: high, Dout: out }
}

/** Score of a peer whose binding failed: far below every threshold. */
const untrustedScore = -1_000

/**
 * Starts a libp2p node and returns it as a veritask `Network`.
 *
 * Trust: when two peers connect, each opens `/veritask/identity/1.0.0`, sends its peer binding
 * (its staked account's EIP-712 signature over its peer id) and reads the other's. A peer whose
 * binding is missing, invalid or names an unstaked account is disconnected and refused for
 * `banMs`; gossip is accepted only from trusted peers. Gossip is unsigned at the libp2p layer
 * (the protocol's payloads carry staked accounts' signatures): a message names no author, each hop
 * checks the peer it came from, so a message travels only along links between trusted peers.
 */
export async function createLibp2pNetwork(options: CreateLibp2pNetworkOptions): Promise<Libp2pNetwork> {
  const domain = options.domain ?? devnetDomain
  const maxMessageBytes = options.maxMessageBytes ?? defaultParams.maxMessageBytes
  const maxBlobBytes = options.maxBlobBytes ?? defaultMaxBlobBytes
  const verify = options.verifySignature ?? isSignedBy
  const identityTimeoutMs = options.identityTimeoutMs ?? 5_000
  const blobTimeoutMs = options.blobTimeoutMs ?? 30_000
  const blobFanout = Math.max(1, options.blobFanout ?? 3)
  const blobHedgeMs = options.blobHedgeMs ?? 250
  /** Peers that served a blob, most recent last: asked first next time (bounded). */
  const servedBlobs = new Set<string>()
  const banMs = options.banMs ?? 60_000
  const bootstrapRetryMs = options.bootstrapRetryMs ?? 5_000

  const stats = emptyNetworkStats()
  const handlers = new Map<Topic, GossipHandler[]>()
  const trust = new Map<string, PeerTrust>()
  const banned = new Map<string, { until: number; code: PeerRejectionCode }>()
  const closing = new AbortController()
  const changes = new EventTarget()
  let provider: BlobProvider | undefined
  let closed = false

  const banOf = (peerId: string): { until: number; code: PeerRejectionCode } | undefined => {
    const ban = banned.get(peerId)
    if (ban !== undefined && ban.until <= Date.now()) banned.delete(peerId)
    return banned.get(peerId)
  }
  const isBanned = (peerId: PeerId): boolean => banOf(peerId.toString()) !== undefined

  const bootstrap: Multiaddr[] = (options.bootstrap ?? []).map((a) => multiaddr(a))
  const peerIdIn = (address: Multiaddr): string | undefined => address.getComponents().find((c) => c.name === 'p2p')?.value
  const privateKey = options.privateKey instanceof Uint8Array ? privateKeyFromProtobuf(options.privateKey) : options.privateKey
  const libp2p = await createLibp2p<Libp2pServices>({
    start: false,
    ...(privateKey === undefined ? {} : { privateKey }),
    nodeInfo: { name: 'veritask', version: '1' },
    addresses: { listen: [...(options.listen ?? ['/ip4/127.0.0.1/tcp/0'])] },
    transports: [coalescingTcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: {
      denyDialPeer: isBanned,
      denyInboundEncryptedConnection: isBanned,
      denyOutboundEncryptedConnection: isBanned,
    },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        // No second signature per message: the payloads are signed by staked accounts, and an
        // Ed25519 signature per message (plus its check at every hop) only costs time and bytes.
        globalSignaturePolicy: StrictNoSign,
        msgIdFn: (message) => gossipMessageId(message.topic, message.data),
        // Publishing bytes this node already saw (a re-sent commit or signature, a spec submitted
        // to two nodes) is a no-op, not an error: peers dedupe by content anyway.
        ignoreDuplicatePublishError: true,
        allowedTopics: Object.values(topics),
        emitSelf: false,
        // Own messages go to every subscribed peer, not only the mesh: in the small networks this
        // runs on, that is everyone anyway, and a message published right after a peer joined
        // does not depend on the mesh having formed.
        floodPublish: true,
        allowPublishToZeroTopicPeers: true,
        doPX: false,
        heartbeatInterval: options.gossip?.heartbeatMs ?? 500,
        ...meshDegree(options.gossip ?? {}),
        // An RPC frame may batch several messages; each message is checked against the limit.
        maxInboundDataLength: Math.max(4 * 1024 * 1024, 4 * maxMessageBytes),
        scoreParams: {
          topics: Object.fromEntries(Object.values(topics).map((topic) => [topic, topicScoreParams])),
          appSpecificScore: (peerId) => (trust.get(peerId)?.judgement?.trusted === false || banned.has(peerId) ? untrustedScore : 0),
          appSpecificWeight: 1,
          // Sybil resistance comes from stake, not IP addresses; devnets run many nodes on one host.
          IPColocationFactorWeight: 0,
        },
      }),
    },
  })
  const pubsub = libp2p.services.pubsub as GossipRouter
  const selfId = libp2p.peerId.toString()
  const ownBinding = encodePeerBinding(await signPeerBinding(options.signer, domain, selfId))

  // ---- identity ----------------------------------------------------------------------------

  async function judge(peerId: string, bytes: Uint8Array): Promise<Judgement> {
    const binding = decodePeerBinding(bytes)
    if (binding === undefined || !(await isValidPeerBinding(binding, domain, peerId, verify))) {
      return { trusted: false, code: 'PEER_BINDING_INVALID' }
    }
    let staked = false
    try {
      staked = await options.isStaked(binding.account)
    } catch {
      staked = false
    }
    return staked ? { trusted: true, account: binding.account } : { trusted: false, code: 'PEER_NOT_STAKED', account: binding.account }
  }

  /** Opens the identity protocol to `peer`: sends this node's binding, reads and judges the peer's. */
  async function exchangeBindings(peer: PeerId): Promise<Judgement | undefined> {
    const connection = libp2p.getConnections(peer)[0]
    if (connection === undefined) return undefined
    const signal = AbortSignal.any([closing.signal, AbortSignal.timeout(identityTimeoutMs)])
    let stream: Stream | undefined
    try {
      stream = await connection.newStream(identityProtocol, { signal })
      const stop = abortStreamOn(stream, signal)
      try {
        await writeAll(stream, ownBinding, signal)
        await stream.close({ signal })
        return await judge(peer.toString(), await createStreamReader(stream).read(peerBindingBytes))
      } finally {
        stop()
      }
    } catch {
      stream?.abort(new Error('identity exchange failed'))
      // A connection that closed meanwhile says nothing about the peer.
      return libp2p.getConnections(peer).length === 0 ? undefined : { trusted: false, code: 'PEER_BINDING_MISSING' }
    }
  }

  /**
   * The trust record of a connected peer, starting the identity exchange if there is none. A peer
   * that is not connected gets a record that is settled untrusted, not stored and not banned.
   */
  function trustOf(peer: PeerId): PeerTrust {
    const id = peer.toString()
    const existing = trust.get(id)
    if (existing !== undefined) return existing
    let resolve!: (judgement: Judgement) => void
    const entry: PeerTrust = {
      judgement: undefined,
      settled: new Promise((r) => (resolve = r)),
      settle(judgement, checked = true) {
        if (entry.judgement !== undefined) return
        entry.judgement = judgement
        resolve(judgement)
        if (checked) onJudged(peer, judgement)
      },
    }
    if (libp2p.getConnections(peer).length === 0) {
      entry.settle({ trusted: false, code: 'PEER_BINDING_MISSING' }, false)
      return entry
    }
    trust.set(id, entry)
    void exchangeBindings(peer).then((judgement) => {
      if (judgement === undefined) entry.settle({ trusted: false, code: 'PEER_BINDING_MISSING' }, false)
      else entry.settle(judgement)
    })
    return entry
  }

  function onJudged(peer: PeerId, judgement: Judgement): void {
    const peerId = peer.toString()
    if (!judgement.trusted && !closed) {
      banned.set(peerId, { until: Date.now() + banMs, code: judgement.code })
      void libp2p.hangUp(peer).catch(() => {})
    }
    options.onPeer?.({ peerId, ...judgement })
    changes.dispatchEvent(new Event('change'))
  }

  function rejection(peerId: string, judgement: Judgement & { trusted: false }): PeerRejectedError {
    const why: Record<PeerRejectionCode, string> = {
      PEER_BINDING_MISSING: 'sent no peer binding',
      PEER_BINDING_INVALID: 'sent a peer binding that does not verify for its peer id',
      PEER_NOT_STAKED: `is bound to ${judgement.account ?? 'an account'}, which has no stake`,
    }
    return new PeerRejectedError(judgement.code, `Peer ${peerId} ${why[judgement.code]}.`, {
      details: { peerId, account: judgement.account },
      hint: 'Only peers whose staked account signed their peer id are trusted; check the peer runs veritask on this network.',
    })
  }

  await libp2p.handle(identityProtocol, async (stream, connection) => {
    const signal = AbortSignal.any([closing.signal, AbortSignal.timeout(identityTimeoutMs)])
    const stop = abortStreamOn(stream, signal)
    try {
      const theirs = await createStreamReader(stream).read(peerBindingBytes)
      await writeAll(stream, ownBinding, signal)
      await stream.close({ signal })
      const judgement = await judge(connection.remotePeer.toString(), theirs)
      trustOf(connection.remotePeer).settle(judgement)
    } catch {
      stream.abort(new Error('identity exchange failed'))
    } finally {
      stop()
    }
  })

  libp2p.addEventListener('peer:connect', (event) => void trustOf(event.detail))
  libp2p.addEventListener('peer:disconnect', (event) => {
    const id = event.detail.toString()
    const entry = trust.get(id)
    trust.delete(id)
    entry?.settle({ trusted: false, code: 'PEER_BINDING_MISSING' }, false)
    changes.dispatchEvent(new Event('change'))
  })

  // ---- gossip ------------------------------------------------------------------------------

  async function judgeGossip(topic: Topic, source: PeerId, message: Message): Promise<ValidationResult> {
    if (closed) return 'ignore'
    const relay = trustOf(source)
    if (!(relay.judgement ?? (await relay.settled)).trusted) return 'reject'
    // Unsigned gossip names no author: the trusted relay vouches for the message (it accepted it
    // itself before forwarding), and the protocol's own signatures authenticate the content.
    const origin = source.toString()
    if (message.data.byteLength > maxMessageBytes) return 'reject'
    const list = handlers.get(topic)
    if (list === undefined || list.length === 0) return 'ignore'
    stats.messagesReceived++
    stats.bytesReceived += message.data.byteLength
    // A plain Uint8Array of its own (libp2p hands out Node Buffers that may share a larger one).
    const data = new Uint8Array(message.data)
    const results = await Promise.all(
      list.map((handler) =>
        Promise.resolve()
          .then(() => handler({ topic, from: origin, data }))
          // A throwing handler is the subscriber's bug, not the sender's; count it as ignored.
          .catch((): ValidationResult => 'ignore'),
      ),
    )
    return results.includes('reject') ? 'reject' : results.includes('ignore') ? 'ignore' : 'accept'
  }

  for (const topic of Object.values(topics)) {
    pubsub.topicValidators.set(topic, async (source, message) => {
      const result = await judgeGossip(topic, source, message)
      if (result === 'reject') stats.messagesRejected++
      return toGossipsub[result]
    })
  }

  // ---- blobs -------------------------------------------------------------------------------

  await libp2p.handle(blobProtocol, async (stream) => {
    const signal = AbortSignal.any([closing.signal, AbortSignal.timeout(blobTimeoutMs)])
    const stop = abortStreamOn(stream, signal)
    try {
      const served = await serveBlobRequest(stream, provider, maxBlobBytes, signal)
      if (served !== undefined) {
        stats.blobsServed++
        stats.blobBytesServed += served
      }
    } catch {
      stream.abort(new Error('blob request failed'))
    } finally {
      stop()
    }
  })

  async function askPeer(peerId: string, cid: Hex, maxBytes: number, outer?: AbortSignal): Promise<BlobAnswer | undefined> {
    let peer: PeerId
    try {
      peer = peerIdFromString(peerId)
    } catch {
      return undefined
    }
    const signal = AbortSignal.any([closing.signal, AbortSignal.timeout(blobTimeoutMs), ...(outer === undefined ? [] : [outer])])
    let stream: Stream | undefined
    try {
      stream = await libp2p.dialProtocol(peer, blobProtocol, { signal })
      const stop = abortStreamOn(stream, signal)
      try {
        return await requestBlob(stream, cid, maxBytes, signal)
      } finally {
        stop()
      }
    } catch {
      stream?.abort(new Error('blob request failed'))
      return undefined
    }
  }

  /**
   * Asks `order`'s peers for `cid`, at most `blobFanout` at once: the next peer is asked as soon
   * as one answers without the blob, or after `blobHedgeMs` without an answer. The first bytes that
   * are the blob win and the other requests are cancelled.
   */
  function askPeers(order: readonly string[], cid: Hex, limit: number, outer?: AbortSignal): Promise<{ bytes?: Uint8Array; tooLarge: boolean }> {
    return new Promise((resolve) => {
      const cancel = new AbortController()
      const signal = outer === undefined ? cancel.signal : AbortSignal.any([outer, cancel.signal])
      let next = 0
      let pending = 0
      let tooLarge = false
      let done = false
      let hedge: NodeJS.Timeout | undefined
      const finish = (bytes?: Uint8Array): void => {
        if (done) return
        done = true
        clearTimeout(hedge)
        cancel.abort()
        resolve(bytes === undefined ? { tooLarge } : { bytes, tooLarge })
      }
      const launch = (): void => {
        clearTimeout(hedge)
        if (done) return
        if (next >= order.length || signal.aborted) {
          if (pending === 0) finish()
          return
        }
        const id = order[next++]!
        pending++
        void askPeer(id, cid, limit, signal).then((answer) => {
          pending--
          if (answer?.kind === 'too-large') tooLarge = true
          // Bytes that are not the blob count as none: the peer is wrong or lying.
          else if (answer?.kind === 'found' && isContentOf(cid, answer.bytes)) {
            servedBlobs.delete(id)
            servedBlobs.add(id)
            if (servedBlobs.size > 256) servedBlobs.delete(servedBlobs.values().next().value!)
            return finish(answer.bytes)
          }
          launch()
        })
        if (pending < blobFanout) hedge = setTimeout(launch, blobHedgeMs)
      }
      launch()
    })
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  await libp2p.start()
  for (const topic of Object.values(topics)) pubsub.subscribe(topic)

  async function connect(address: string, connectOptions: { signal?: AbortSignal } = {}): Promise<string> {
    const target = multiaddr(address)
    const expected = peerIdIn(target)
    if (expected !== undefined) {
      const ban = banOf(expected)
      if (ban !== undefined) throw rejection(expected, { trusted: false, code: ban.code })
    }
    const connection = await libp2p.dial(target, connectOptions.signal === undefined ? {} : { signal: connectOptions.signal })
    const peerId = connection.remotePeer.toString()
    const judgement = await trustOf(connection.remotePeer).settled
    if (!judgement.trusted) throw rejection(peerId, judgement)
    return peerId
  }

  const isConnectedTo = (address: Multiaddr): boolean => {
    const peerId = peerIdIn(address)
    if (peerId !== undefined) return libp2p.getConnections(peerIdFromString(peerId)).length > 0
    return libp2p.getConnections().some((c) => c.remoteAddr.equals(address))
  }
  const dialBootstrap = async (): Promise<void> => {
    await Promise.allSettled(bootstrap.filter((a) => !closed && !isConnectedTo(a)).map((a) => connect(a.toString())))
  }
  let bootstrapTimer: NodeJS.Timeout | undefined
  try {
    for (const address of bootstrap) {
      const peerId = peerIdIn(address)
      // Tagged keep-alive, libp2p's connection manager redials the peer when the connection drops.
      if (peerId !== undefined) {
        await libp2p.peerStore.merge(peerIdFromString(peerId), { multiaddrs: [address], tags: { [KEEP_ALIVE]: { value: 1 } } })
      }
    }
    await dialBootstrap()
    if (bootstrap.length > 0 && bootstrapRetryMs > 0) bootstrapTimer = setInterval(() => void dialBootstrap(), bootstrapRetryMs).unref()
  } catch (error) {
    closed = true
    closing.abort(error)
    await libp2p.stop()
    throw error
  }

  const trustedPeers = (): string[] => [...trust].filter(([, t]) => t.judgement?.trusted === true).map(([id]) => id)
  const isTrusted = (peerId: string): boolean => trust.get(peerId)?.judgement?.trusted === true

  function topicPeers(topic: Topic, { mesh = false }: { mesh?: boolean } = {}): string[] {
    const ids = mesh ? pubsub.getMeshPeers(topic) : pubsub.getSubscribers(topic).map(String)
    return ids.filter(isTrusted)
  }

  /** The staked account a trusted peer is bound to. */
  function accountOf(peerId: string): Address | undefined {
    const judgement = trust.get(peerId)?.judgement
    return judgement?.trusted === true ? judgement.account : undefined
  }

  return {
    peerId: selfId,
    libp2p,

    async publish(topic, data) {
      if (closed) return
      if (data.byteLength > maxMessageBytes) {
        throw new MessageRejectedError('MESSAGE_TOO_LARGE', `A message of ${data.byteLength} bytes exceeds the ${maxMessageBytes}-byte limit.`, {
          details: { topic, bytes: data.byteLength, maxMessageBytes },
        })
      }
      stats.messagesPublished++
      stats.bytesPublished += data.byteLength
      await pubsub.publish(topic, data)
    },

    subscribe(topic, handler) {
      const list = handlers.get(topic) ?? []
      list.push(handler)
      handlers.set(topic, list)
    },

    provideBlobs(next) {
      provider = next
    },

    async fetchBlob(cid, { peers: preferred = [], sources = [], maxBytes, signal }: FetchBlobOptions) {
      const limit = Math.min(maxBytes, maxBlobBytes)
      // Preferred peers first, whether trusted or not (the bytes are checked against the id), then
      // the peers bound to the source accounts (by their signed peer bindings), then the trusted
      // peers this node is connected to, those that served blobs lately first.
      const trusted = trustedPeers()
      const wanted = new Set(sources.map((account) => account.toLowerCase()))
      const bound = wanted.size === 0 ? [] : trusted.filter((id) => wanted.has(accountOf(id)?.toLowerCase() ?? ''))
      const recent = [...servedBlobs].reverse().filter((id) => trusted.includes(id))
      const order = [...new Set([...preferred, ...bound, ...recent, ...trusted])].filter((id) => id !== selfId)
      signal?.throwIfAborted()
      const { bytes, tooLarge } = await askPeers(order, cid, limit, signal)
      if (bytes !== undefined) return bytes
      signal?.throwIfAborted()
      if (tooLarge) {
        throw new MessageRejectedError('BLOB_TOO_LARGE', `Blob ${cid} is larger than the ${limit}-byte limit.`, {
          details: { cid, maxBytes: limit },
        })
      }
      throw new MessageRejectedError('BLOB_NOT_FOUND', `No peer could provide blob ${cid}.`, {
        details: { cid, asked: order.length },
        hint: 'Make sure the requester uploaded the program and input to a node of the network.',
      })
    },

    stats: () => ({ ...stats }),

    multiaddrs: () => libp2p.getMultiaddrs().map(String),

    connect,

    accountOf,

    peers: trustedPeers,

    topicPeers,

    waitForPeers(count, { mesh = false, signal } = {}) {
      const ready = (): boolean => Object.values(topics).every((topic) => topicPeers(topic, { mesh }).length >= count)
      if (ready()) return Promise.resolve()
      return new Promise<void>((resolve, reject) => {
        const events = ['subscription-change', 'gossipsub:graft', 'gossipsub:prune', 'gossipsub:heartbeat'] as const
        const check = (): void => {
          if (!ready()) return
          cleanup()
          resolve()
        }
        const abort = (): void => {
          cleanup()
          reject(signal?.reason ?? closing.signal.reason)
        }
        const cleanup = (): void => {
          for (const name of events) pubsub.removeEventListener(name, check)
          changes.removeEventListener('change', check)
          signal?.removeEventListener('abort', abort)
          closing.signal.removeEventListener('abort', abort)
        }
        for (const name of events) pubsub.addEventListener(name, check)
        changes.addEventListener('change', check)
        signal?.addEventListener('abort', abort, { once: true })
        closing.signal.addEventListener('abort', abort, { once: true })
      })
    },

    async refreshTrust() {
      await Promise.all(
        [...trust].map(async ([peerId, entry]) => {
          const judgement = entry.judgement
          if (judgement?.trusted !== true) return
          let staked = false
          try {
            staked = await options.isStaked(judgement.account)
          } catch {
            staked = false
          }
          if (staked) return
          // Replace the record: a fresh one settled as untrusted runs the usual rejection path.
          entry.judgement = { trusted: false, code: 'PEER_NOT_STAKED', account: judgement.account }
          onJudged(peerIdFromString(peerId), entry.judgement)
        }),
      )
    },

    async close() {
      if (closed) return
      closed = true
      if (bootstrapTimer !== undefined) clearInterval(bootstrapTimer)
      closing.abort(new Error('network closed'))
      await libp2p.stop()
    },
  }
}
