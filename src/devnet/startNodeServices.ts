import type { PublicClient } from 'viem'
import { createApiServer } from '../api/createApiServer.ts'
import type { ApiServer } from '../api/createApiServer.ts'
import type { DeployedContracts } from '../chain/deploy.ts'
import { createChainFollower } from '../chain/viem/createChainFollower.ts'
import type { ChainFollower } from '../chain/viem/createChainFollower.ts'
import type { Wallet } from '../chain/viem/createSettlementClient.ts'
import { createSettlementPort } from '../chain/viem/createSettlementPort.ts'
import type { ProtocolParams } from '../core/params.ts'
import type { Signer } from '../core/signing.ts'
import type { ProtocolDomain } from '../core/types.ts'
import { verifyNative } from '../crypto/secp256k1.ts'
import { systemClock } from '../node/clock.ts'
import { createEpochSettler } from '../node/createEpochSettler.ts'
import type { EpochSettler } from '../node/createEpochSettler.ts'
import { createNode } from '../node/createNode.ts'
import type { VeritaskNode } from '../node/createNode.ts'
import type { Logger } from '../node/logger.ts'
import type { Network } from '../ports/network.ts'
import type { BlobStore, NodeStore } from '../ports/node.ts'
import type { Runtime } from '../ports/runtime.ts'

export interface StartNodeServicesParameters {
  account: Signer
  /** The same account as a wallet: it opens epochs and submits the batches it aggregates. */
  wallet: Wallet
  network: Network
  publicClient: PublicClient
  contracts: DeployedContracts
  runtimes: Readonly<Record<string, Runtime>>
  blobs: BlobStore
  store: NodeStore
  params: ProtocolParams
  logger: Logger
  /** Serve the HTTP API here; no API when omitted. */
  api?: { host?: string; port?: number; adminToken?: string }
  /** A follower to share (in-process networks); each node follows the chain itself by default. */
  follower?: ChainFollower
  /** Also open epochs when their first block has come (any node may). Default true. */
  openEpochs?: boolean
}

export interface NodeServices {
  node: VeritaskNode
  settler: EpochSettler
  follower: ChainFollower
  api: ApiServer | undefined
  domain: ProtocolDomain
  /** Stops the API, the settler, the node (and its network) and the follower, in that order. */
  stop(): Promise<void>
}

/**
 * Wires one node on a real chain: a chain follower for epochs and stake, the node itself, its
 * epoch settler and its HTTP API. Used by `veritask node` and by the devnet's live network.
 */
export async function startNodeServices(parameters: StartNodeServicesParameters): Promise<NodeServices> {
  const { account, wallet, network, publicClient, contracts, runtimes, blobs, store, params, logger } = parameters
  const chainId = await publicClient.getChainId()
  const domain: ProtocolDomain = { chainId, verifyingContract: contracts.settlement }
  let settler: EpochSettler | undefined
  const ownFollower = parameters.follower === undefined
  const follower =
    parameters.follower ??
    createChainFollower({
      publicClient,
      contracts,
      ...(parameters.openEpochs === false ? {} : { opener: wallet }),
      charged: (requester) => settler?.charged(requester) ?? 0n,
      baseParams: params,
      logger,
    })
  if (ownFollower) await follower.start()
  // Nodes see an epoch boundary at different moments: specs may cross it for one commit window.
  const graceMs = params.commitWindowMs
  const node = createNode({ account, network, chain: follower, runtimes, blobs, store, params, domain, logger, verify: verifyNative, epochGraceMs: graceMs })
  // Tasks stored without a verdict mean a restart in the middle of things (see the settler).
  const restarted = store.openTasks().length > 0
  settler = createEpochSettler({
    node,
    account,
    network,
    chain: follower,
    settlement: createSettlementPort({ publicClient, contracts, wallet }),
    blobs,
    store,
    domain,
    verify: verifyNative,
    clock: systemClock,
    logger,
    graceMs,
    restarted,
  })
  node.start()
  settler.start()
  const resumed = await node.resume()
  if (resumed > 0) logger.info('resumed stored tasks', { resumed })
  const own = settler
  const api =
    parameters.api === undefined
      ? undefined
      : await createApiServer({
          node,
          network,
          params,
          logger,
          receipts: (taskId) => own.receipt(taskId),
          settlementGas: () => own.stats().lastGasUsed ?? undefined,
          ...parameters.api,
        })
  return {
    node,
    settler: own,
    follower,
    api,
    domain,
    async stop() {
      await api?.close()
      await own.stop()
      await node.stop()
      if (ownFollower) follower.stop()
    },
  }
}
