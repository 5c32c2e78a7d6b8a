import { join } from 'node:path'
import { bytesToHex, createPublicClient, createWalletClient, http } from 'viem'
import { createNonceManager, jsonRpc } from 'viem/nonce'
import type { Hex, PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { readAddressesFile } from '../../chain/deploy.ts'
import { createSettlementClient } from '../../chain/viem/createSettlementClient.ts'
import { defineDevChain } from '../../chain/viem/defineDevChain.ts'
import { UsageError, VeritaskError } from '../../core/errors.ts'
import { defaultParams } from '../../core/params.ts'
import { createNativeSigner } from '../../crypto/secp256k1.ts'
import { createNativeVrfKey } from '../../crypto/vrf.ts'
import { createChainFollower } from '../../chain/viem/createChainFollower.ts'
import type { ChainFollower } from '../../chain/viem/createChainFollower.ts'
import { createChainReads } from '../../api/explorer/chainReads.ts'
import { createSettlementPort } from '../../chain/viem/createSettlementPort.ts'
import { createOnnxRuntime } from '../../exec/onnx/createOnnxRuntime.ts'
import { createWasmRuntime } from '../../exec/wasm/createWasmRuntime.ts'
import { capabilitiesOf } from '../../host/capabilities.ts'
import { startNodeHost } from '../../host/startNodeHost.ts'
import type { NodeHost } from '../../host/startNodeHost.ts'
import type { Runtime } from '../../ports/runtime.ts'
import type { Logger } from '../../node/logger.ts'
import { createDiskBlobStore } from '../../store/disk/createDiskBlobStore.ts'
import { createSqliteNodeStore } from '../../store/sqlite/createSqliteNodeStore.ts'
import { createKeepAliveFetch } from './keepAliveFetch.ts'
import { loadOrCreateKeyFile, randomPrivateKey } from './keyFile.ts'

export interface RunNodeOptions {
  dataDir: string
  /** The node's account key file; `<dataDir>/node.key` by default. */
  keyFile?: string
  rpcUrl: string
  addressesFile: string
  listen: readonly string[]
  bootstrap: readonly string[]
  apiHost: string
  apiPort: number
  adminToken?: string
  /** Serve only once every gossip topic has this many trusted peers (0: at once). */
  waitPeers?: number
  /** ONNX models this node holds and runs (their bytes); it then advertises `onnx:<model id>` for each. */
  models?: readonly Uint8Array[]
  /** Worker threads that execute tasks (default `os.availableParallelism()`); nodes sharing a machine share its cores. */
  threads?: number
  /** Gossipsub's mesh degree (default 6); see `CreateLibp2pNetworkOptions.gossip`. */
  gossipDegree?: number
  logger: Logger
  signal?: AbortSignal
}

/** What a started node reports once it serves: for operators, and for `devnet --processes`. */
export interface NodeReady {
  address: Hex
  peerId: string
  multiaddrs: string[]
  api: string
  epoch: string
  resumed: boolean
}

export interface RunningNode {
  ready: NodeReady
  host: NodeHost
  follower: ChainFollower
  stop(): Promise<void>
}

/**
 * Starts a node daemon: its key (created 0600 if absent), SQLite state and blobs in the data
 * dir, the chain at `rpcUrl` with the contracts of the addresses file, libp2p on `listen`
 * dialling `bootstrap`, and the HTTP API. Resumes the tasks it held before a restart.
 */
export async function startNodeDaemon(options: RunNodeOptions): Promise<RunningNode> {
  const { logger } = options
  // libp2p costs most of a node's start to import: it loads while the chain is asked for its id.
  const libp2pModule = import('../../net/libp2p/createLibp2pNetwork.ts')
  libp2pModule.catch(() => {})
  const keyPath = options.keyFile ?? join(options.dataDir, 'node.key')
  const key = await loadOrCreateKeyFile(keyPath, () => new TextEncoder().encode(`${bytesToHex(randomPrivateKey())}\n`))
  const keyHex = new TextDecoder().decode(key.bytes).trim()
  if (!/^0x[0-9a-fA-F]{64}$/.test(keyHex)) {
    throw new UsageError('USAGE_BAD_KEY_FILE', `The key file ${keyPath} does not hold a private key.`, {
      hint: 'It must contain 0x followed by 64 hex digits (and nothing else).',
    })
  }
  // The nonce manager keeps concurrent transactions (epoch openings, batches) from clashing.
  const account = privateKeyToAccount(keyHex as Hex, { nonceManager: createNonceManager({ source: jsonRpc() }) })
  if (key.created) logger.warn('created a new node key; stake this account before it can take tasks', { keyFile: keyPath, address: account.address })
  // Protocol messages (commits, reveals, peer bindings, batch votes) are signed by libsecp256k1:
  // RFC 6979 like viem's account, so the same bytes, at a fraction of the CPU.
  const signer = createNativeSigner(keyHex as Hex)
  const peerKey = await loadOrCreateKeyFile(join(options.dataDir, 'peer.key'), async () => (await libp2pModule).generatePeerKey())

  const contracts = await readAddressesFile(options.addressesFile)
  // The node reads the chain several times a second: over kept-alive connections, without undici's streams.
  const rpcFetch = createKeepAliveFetch()
  const fetchFn = rpcFetch as unknown as typeof fetch
  const probe = createPublicClient({ transport: http(options.rpcUrl, { retryCount: 1, fetchFn }) })
  let chainId: number
  try {
    chainId = await probe.getChainId()
  } catch (cause) {
    rpcFetch.close()
    throw new VeritaskError('CHAIN_UNREACHABLE', `No EVM JSON-RPC endpoint answers at ${options.rpcUrl}.`, { cause, hint: 'Check --rpc-url.' })
  }
  if (chainId !== contracts.chainId) {
    rpcFetch.close()
    throw new UsageError('USAGE_INVALID_OPTION', `The addresses file is for chain ${contracts.chainId}, but ${options.rpcUrl} is chain ${chainId}.`)
  }
  const chain = defineDevChain(options.rpcUrl, chainId)
  const transport = http(options.rpcUrl, { fetchFn })
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 100 }) as PublicClient
  const wallet = createWalletClient({ chain, transport, account })
  const client = createSettlementClient(publicClient, contracts)

  const store = createSqliteNodeStore({ path: join(options.dataDir, 'state.db') })
  const blobs = createDiskBlobStore({ dir: join(options.dataDir, 'blobs') })
  const resumed = store.openTasks().length > 0
  const wasm = createWasmRuntime({ maxModuleBytes: defaultParams.maxProgramBytes, ...(options.threads === undefined ? {} : { threads: options.threads }) })
  const models = options.models ?? []
  // onnxruntime loads on a node's first inference task: a node without models never loads it.
  const onnx = models.length > 0 ? createOnnxRuntime() : undefined
  const runtimes: Record<string, Runtime> = onnx === undefined ? { wasm } : { wasm, onnx }
  for (const model of models) blobs.put(model)
  const closeRuntimes = async () => {
    await wasm.close()
    await onnx?.close()
  }
  const { createLibp2pNetwork } = await libp2pModule
  const network = await createLibp2pNetwork({
    signer,
    isStaked: async (a) => (await client.stakeOf(a)) > 0n,
    listen: options.listen,
    bootstrap: options.bootstrap,
    privateKey: peerKey.bytes,
    domain: { chainId, verifyingContract: contracts.settlement },
    ...(options.gossipDegree === undefined ? {} : { gossip: { D: options.gossipDegree } }),
    onPeer: (event) => logger.debug('peer identity', { ...event }),
  })
  let host: NodeHost | undefined
  const follower = createChainFollower({
    publicClient,
    contracts,
    opener: wallet,
    charged: (requester) => host?.settler?.charged(requester) ?? 0n,
    baseParams: defaultParams,
    logger,
  })
  try {
    // What this node runs, on-chain: sortition draws it for those tasks from the next snapshot on.
    // Its transaction is mined while the node waits for its peers and reads the chain; the node
    // serves only once all three are done.
    const capabilities = capabilitiesOf(runtimes, models)
    const advertised = client.advertiseCapabilities(wallet, capabilities).then(() => logger.info('capabilities advertised', { capabilities }))
    const peered = (async () => {
      if ((options.waitPeers ?? 0) === 0) return
      logger.info('waiting for peers', { peers: options.waitPeers })
      await network.waitForPeers(options.waitPeers!, options.signal === undefined ? {} : { signal: options.signal })
    })()
    await Promise.all([advertised, peered, follower.start()])
    host = await startNodeHost({
      account: signer,
      vrf: createNativeVrfKey(keyHex as Hex),
      network,
      chain: follower,
      settlement: createSettlementPort({ publicClient, contracts, wallet, head: () => follower.head() }),
      domain: { chainId, verifyingContract: contracts.settlement },
      runtimes,
      blobs,
      store,
      params: defaultParams,
      logger,
      api: {
        host: options.apiHost,
        port: options.apiPort,
        chainReads: createChainReads({ publicClient, contracts }),
        anchors: contracts.anchors,
        ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
      },
    })
  } catch (error) {
    follower.stop()
    await network.close()
    await closeRuntimes()
    store.close()
    rpcFetch.close()
    throw error
  }
  const started = host
  return {
    ready: {
      address: account.address,
      peerId: network.peerId,
      multiaddrs: network.multiaddrs(),
      api: started.api!.url,
      epoch: started.node.currentEpoch().toString(),
      resumed,
    },
    host: started,
    follower,
    async stop() {
      await started.stop()
      follower.stop()
      await closeRuntimes()
      store.close()
      rpcFetch.close()
    },
  }
}

