import { createApiServer } from '../api/createApiServer.ts'
import { createEventHub, fanOut } from '../api/events/createEventHub.ts'
import type { ExplorerChainReads } from '../api/explorer/chainReads.ts'
import type { SubmissionLimits } from '../api/submissionLimiter.ts'
import type { ApiServer } from '../api/createApiServer.ts'
import type { VrfKey, VrfVerifier } from '../core/challenge.ts'
import { defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import type { SignatureVerifier, Signer } from '../core/signing.ts'
import type { Address, ProtocolDomain } from '../core/types.ts'
import { deriveBlsKey } from '../crypto/bls.ts'
import { verifyNative } from '../crypto/secp256k1.ts'
import { verifyVrfNative } from '../crypto/vrf.ts'
import { systemClock } from '../node/clock.ts'
import type { Clock } from '../node/clock.ts'
import { createEpochSettler } from '../node/createEpochSettler.ts'
import type { EpochSettler } from '../node/createEpochSettler.ts'
import { createEligibilityKeeper } from '../node/eligibilityKeeper.ts'
import type { EligibilityKeeper } from '../node/eligibilityKeeper.ts'
import { createNode } from '../node/createNode.ts'
import type { VeritaskNode } from '../node/createNode.ts'
import type { NodeEventSink } from '../node/events.ts'
import type { HeldLimits } from '../node/gossipIntake.ts'
import { silentLogger } from '../node/logger.ts'
import type { Logger } from '../node/logger.ts'
import type { MessageReader } from '../node/messageReader.ts'
import type { Network } from '../ports/network.ts'
import type { BlobStore, ChainView, NodeStore } from '../ports/node.ts'
import type { Runtime } from '../ports/runtime.ts'
import type { SettlementPort } from '../ports/settlement.ts'
import { createMemoryBlobStore, createMemoryNodeStore } from '../store/memory/createMemoryStores.ts'

export interface StartNodeHostParameters {
  /** The node's staked account: it signs commits, reveals and batches. Never logged. */
  account: Signer
  /** The VRF key of the account's key, for audit draws as a sampled task's verifier (`createNode`). */
  vrf?: VrfKey
  network: Network
  /** The chain as this node reads it: epochs, their snapshots, escrow. */
  chain: ChainView
  /**
   * The settlement contract as this node's account uses it. Without it the node settles nothing
   * (a network without a chain: benchmarks, tests of the task protocol alone).
   */
  settlement?: SettlementPort
  /** The EIP-712 domain every message of this network is signed under. */
  domain: ProtocolDomain
  /** Runtimes by name; the node executes only tasks for these. */
  runtimes: Readonly<Record<string, Runtime>>
  blobs?: BlobStore
  store?: NodeStore
  /** The node's own settings for what the chain does not govern. */
  params?: ProtocolParams
  logger?: Logger
  clock?: Clock
  verify?: SignatureVerifier
  /** Audit draw (VRF) check; libsecp256k1's by default, like `verify`. */
  verifyVrf?: VrfVerifier
  /** Decodes gossip; nodes in one process may share one (see `createMessageReader`). */
  read?: MessageReader
  batchWindowMs?: number
  /** Source of commit salts; cryptographic randomness by default (the simulator seeds it, for repeatable runs). */
  randomBytes?: (length: number) => Uint8Array
  /** Bounds on gossip held for tasks whose spec has not arrived; `defaultHeldLimits` when omitted. */
  heldLimits?: HeldLimits
  /** How long specs of an ended epoch are still taken, and how long its settlement waits for them. Default: the commit window. */
  epochGraceMs?: number
  /** How far past its head the node tells requesters to draw from (`CreateNodeParameters.drawLeadMs`). */
  drawLeadMs?: number
  /** The settler's timers (tests and the in-process devnet shorten them). */
  settlerTimers?: { takeoverMs?: number; pollMs?: number; retryMs?: number }
  /** How often the node checks whether its jail ran out, to count again (see `createEligibilityKeeper`). */
  eligibilityPollMs?: number
  /**
   * Serve the HTTP API here; no API when omitted. `anchors`, the TaskAnchors contract of the
   * node's chain, is reported by `/v1/status` for requesters to anchor their task ids at.
   */
  api?: { host?: string; port?: number; adminToken?: string; submissionLimits?: SubmissionLimits; chainReads?: ExplorerChainReads; anchors?: Address }
  /** Where the node and its settler report what they do (the API's event stream). */
  events?: NodeEventSink
}

export interface NodeHost {
  node: VeritaskNode
  /** The node's settlement roles; undefined without a settlement port. */
  settler: EpochSettler | undefined
  /** Refreshes the node's eligibility once its jail is over; undefined without a settlement port. */
  eligibility: EligibilityKeeper | undefined
  api: ApiServer | undefined
  domain: ProtocolDomain
  /** Tasks the node resumed from its store as it started (open before a restart). */
  resumed: number
  /** Stops the API, the eligibility keeper, the settler and the node (and its network), in that order. */
  stop(): Promise<void>
}

/**
 * The one composition root of a node: the node itself, its epoch settler and its HTTP API, wired
 * from the adapters the caller chose (transport, chain view and settlement, stores, clock,
 * runtimes). `veritask node`, the in-process devnet, the live and multi-process local networks,
 * the benchmarks and the tests all start their nodes here, so they all run the same protocol.
 * The chain follower is the caller's: nodes of one process may share one.
 */
export async function startNodeHost(parameters: StartNodeHostParameters): Promise<NodeHost> {
  const { account, network, chain, settlement, domain, runtimes } = parameters
  const params = parameters.params ?? defaultParams
  const logger = parameters.logger ?? silentLogger
  const blobs = parameters.blobs ?? createMemoryBlobStore()
  const store = parameters.store ?? createMemoryNodeStore()
  const clock = parameters.clock ?? systemClock
  const verify = parameters.verify ?? verifyNative
  const verifyVrf = parameters.verifyVrf ?? verifyVrfNative
  // Nodes see an epoch boundary at different moments: specs may cross it for one commit window.
  const epochGraceMs = parameters.epochGraceMs ?? params.commitWindowMs
  // The API streams what the node and its settler report (GET /v1/events, the explorer).
  const hub = parameters.api === undefined ? undefined : createEventHub()
  const events = fanOut(parameters.events, hub)
  const node = createNode({
    account,
    ...(parameters.vrf === undefined ? {} : { vrf: parameters.vrf }),
    network,
    chain,
    runtimes,
    blobs,
    store,
    params,
    domain,
    logger,
    clock,
    verify,
    verifyVrf,
    epochGraceMs,
    events,
    ...(parameters.read === undefined ? {} : { read: parameters.read }),
    ...(parameters.batchWindowMs === undefined ? {} : { batchWindowMs: parameters.batchWindowMs }),
    ...(parameters.randomBytes === undefined ? {} : { randomBytes: parameters.randomBytes }),
    ...(parameters.heldLimits === undefined ? {} : { heldLimits: parameters.heldLimits }),
    ...(parameters.drawLeadMs === undefined ? {} : { drawLeadMs: parameters.drawLeadMs }),
  })
  // The committee signs with BLS: the key is derived from the account key, so nothing new is kept.
  const bls = settlement === undefined ? undefined : deriveBlsKey(account)
  // Tasks stored without a verdict mean a restart in the middle of things (see the settler).
  const restarted = store.openTasks().length > 0
  const settler =
    settlement === undefined
      ? undefined
      : createEpochSettler({
          node,
          account,
          ...(bls === undefined ? {} : { bls }),
          network,
          chain,
          settlement,
          blobs,
          store,
          domain,
          verify,
          verifyVrf,
          clock,
          logger,
          graceMs: epochGraceMs,
          restarted,
          params,
          events,
          ...parameters.settlerTimers,
        })
  const eligibility =
    settlement === undefined
      ? undefined
      : createEligibilityKeeper({
          node: account.address,
          settlement,
          ...(bls === undefined ? {} : { bls }),
          clock,
          logger: logger.child({ node: account.address }),
          ...(parameters.eligibilityPollMs === undefined ? {} : { pollMs: parameters.eligibilityPollMs }),
        })
  node.start()
  settler?.start()
  eligibility?.start()
  const resumed = await node.resume()
  if (resumed > 0) logger.info('resumed stored tasks', { resumed })
  let api: ApiServer | undefined
  try {
    api =
      parameters.api === undefined
        ? undefined
        : await createApiServer({
            node,
            network,
            params,
            logger,
            receipts: (taskId) => settler?.receipt(taskId),
            balanceProofs: (account) => settler?.balanceProof(account),
            settlementGas: () => settler?.stats().lastGasUsed ?? undefined,
            events: hub,
            eligibleNodes: () => Object.keys(runtimes).flatMap((runtime) => chain.snapshot(chain.epoch())?.eligibleNodes(runtime) ?? []),
            ...parameters.api,
          })
  } catch (error) {
    await eligibility?.stop()
    await settler?.stop()
    await node.stop()
    throw error
  }
  return {
    node,
    settler,
    eligibility,
    api,
    resumed,
    domain,
    async stop() {
      await api?.close()
      await eligibility?.stop()
      await settler?.stop()
      await node.stop()
    },
  }
}
