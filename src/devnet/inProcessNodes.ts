import { createChainReads } from '../api/explorer/chainReads.ts'
import { createChainFollower } from '../chain/viem/createChainFollower.ts'
import type { ChainFollower } from '../chain/viem/createChainFollower.ts'
import { createSettlementPort } from '../chain/viem/createSettlementPort.ts'
import type { ProtocolParams } from '../core/params.ts'
import { createNativeSigner } from '../crypto/secp256k1.ts'
import { createCachedVrfVerifier, createNativeVrfKey } from '../crypto/vrf.ts'
import { startNodeHost } from '../host/startNodeHost.ts'
import type { NodeHost, StartNodeHostParameters } from '../host/startNodeHost.ts'
import type { MemoryHub } from '../net/memory/createMemoryHub.ts'
import type { Logger } from '../node/logger.ts'
import type { MessageReader } from '../node/messageReader.ts'
import type { Network } from '../ports/network.ts'
import type { Runtime } from '../ports/runtime.ts'
import { createMemoryBlobStore, createMemoryNodeStore } from '../store/memory/createMemoryStores.ts'
import type { DevChain } from './startDevChain.ts'

/** A node of an in-process network on a chain: it settles, so its settler is always there. */
export type SettlingNode = NodeHost & { settler: NonNullable<NodeHost['settler']> }

export interface StartInProcessNodesOptions {
  dev: DevChain
  hub: MemoryHub
  params: ProtocolParams
  /** The runtimes of node `i` (shared pools, wrapped per node as the caller likes). */
  runtimes: (i: number) => Readonly<Record<string, Runtime>>
  /** Node `i`'s transport, given its memory connection and account (a withholder wraps it); the connection itself by default. */
  transport?: (i: number, network: Network, context: { signer: ReturnType<typeof createNativeSigner>; domain: DevChain['domain'] }) => Network
  logger: Logger
  /** Serve each node's HTTP API on a free loopback port. */
  api?: boolean
  /** The follower opens epochs once their first block has come (live networks); off where the caller opens them. */
  openEpochs?: boolean
  followerPollMs?: number
  epochGraceMs?: number
  drawLeadMs?: number
  settlerTimers?: StartNodeHostParameters['settlerTimers']
  read?: MessageReader
  verify?: StartNodeHostParameters['verify']
}

export interface InProcessNodes {
  /** The one follower every node of the process reads the chain through. */
  follower: ChainFollower
  nodes: SettlingNode[]
  /** Stops every node, then the follower. */
  stop(): Promise<void>
}

/**
 * N nodes of the dev chain's staked accounts in this process, each started at the composition
 * root with its own settler, over the memory transport and one shared chain follower (they read
 * the same chain; each counts escrow charges as its own settler does). The in-process devnet and the
 * live local network differ only in the options.
 */
export async function startInProcessNodes(options: StartInProcessNodesOptions): Promise<InProcessNodes> {
  const { dev, hub, params, logger } = options
  const nodes: SettlingNode[] = []
  // The nodes share this process: each challenge's audit draw is checked once for all of them.
  const verifyVrf = createCachedVrfVerifier()
  const follower = createChainFollower({
    publicClient: dev.publicClient,
    contracts: dev.contracts,
    ...(options.openEpochs === true ? { opener: dev.deployer } : {}),
    charged: (requester) => nodes[0]?.settler.charged(requester) ?? 0n,
    baseParams: params,
    logger,
    ...(options.followerPollMs === undefined ? {} : { pollMs: options.followerPollMs }),
  })
  const stop = async () => {
    for (const node of nodes.splice(0).reverse()) await node.stop()
    follower.stop()
  }
  try {
    await follower.start()
    for (const [i, key] of dev.nodeKeys.entries()) {
      // Each node counts escrow charges as its own settler does: a charge and the release of the
      // fee it reserved for it then happen in one step (a node reading another's charges counted
      // an epoch's fees twice until its own settler caught up, refusing specs a requester could pay).
      let own: NodeHost | undefined
      const account = createNativeSigner(key)
      const connection = hub.connect(`node-${i}`)
      const host = await startNodeHost({
        account,
        vrf: createNativeVrfKey(key),
        network: options.transport?.(i, connection, { signer: account, domain: dev.domain }) ?? connection,
        chain: follower.withCharged((requester) => own?.settler?.charged(requester) ?? 0n),
        settlement: createSettlementPort({ publicClient: dev.publicClient, contracts: dev.contracts, wallet: dev.nodeWallets[i]!, head: () => follower.head() }),
        domain: dev.domain,
        runtimes: options.runtimes(i),
        blobs: createMemoryBlobStore(),
        store: createMemoryNodeStore(),
        params,
        logger: logger.child({ node: i }),
        ...(options.api === true ? { api: { chainReads: createChainReads({ publicClient: dev.publicClient, contracts: dev.contracts }), anchors: dev.contracts.anchors } } : {}),
        ...(options.epochGraceMs === undefined ? {} : { epochGraceMs: options.epochGraceMs }),
        ...(options.drawLeadMs === undefined ? {} : { drawLeadMs: options.drawLeadMs }),
        ...(options.settlerTimers === undefined ? {} : { settlerTimers: options.settlerTimers }),
        ...(options.read === undefined ? {} : { read: options.read }),
        ...(options.verify === undefined ? {} : { verify: options.verify }),
        verifyVrf,
      })
      own = host
      nodes.push(host as SettlingNode)
    }
    return { follower, nodes, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
