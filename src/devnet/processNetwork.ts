import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createPublicClient, createTestClient, createWalletClient, http, parseEther } from 'viem'
import { createNonceManager, jsonRpc } from 'viem/nonce'
import type { Address, Hex, PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { startAnvil } from '../chain/anvil/startAnvil.ts'
import { defaultChainParams, deployContracts, writeAddressesFile } from '../chain/deploy.ts'
import type { DeployedContracts } from '../chain/deploy.ts'
import { createSettlementClient } from '../chain/viem/createSettlementClient.ts'
import type { SettlementClient, Wallet } from '../chain/viem/createSettlementClient.ts'
import { fromProtocolParams } from '../chain/governance/parameters.ts'
import { defineDevChain } from '../chain/viem/defineDevChain.ts'
import { defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import { VeritaskError } from '../core/errors.ts'
import { devnetAccount, devnetPrivateKey } from './accounts.ts'
import { ANVIL_DEPLOYER_KEY } from './localNetwork.ts'

/** What a node process printed once it served (`veritask node --json`). */
export interface ProcessNodeReady {
  address: Address
  peerId: string
  multiaddrs: string[]
  api: string
  epoch: string
  resumed: boolean
}

export interface NodeProcess {
  index: number
  dataDir: string
  /** Null while the process is not running. */
  ready: ProcessNodeReady | null
  child: ChildProcess | null
  /** Kills the process with `signal` (SIGKILL: no chance to clean up) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts the process again on the same data dir; resolves once it serves. */
  start(): Promise<ProcessNodeReady>
}

export interface ProcessNetworkOptions {
  nodes?: number
  seed?: string
  /** Where node data dirs and the addresses file go; removed first. */
  dir: string
  /** A block is mined this often (ms). Default 250. */
  blockMs?: number
  epochBlocks?: bigint
  /** Protocol parameters the chain is deployed with (the nodes follow them). */
  params?: Partial<ProtocolParams>
  /** Nodes log protocol events (debug level) to `onLog`. */
  verbose?: boolean
  /** Each line of a node's stderr (its structured log) is passed here. */
  onLog?: (index: number, line: string) => void
  signal?: AbortSignal
}

export interface ProcessNetwork {
  rpcUrl: string
  chainId: number
  contracts: DeployedContracts
  publicClient: PublicClient
  client: SettlementClient
  nodes: NodeProcess[]
  /** A funded requester with test tokens (nothing deposited). */
  requester: Wallet
  stop(): Promise<void>
}

const STAKE = 1_000n * 10n ** 18n
const cliPath = fileURLToPath(new URL('../../bin/veritask.js', import.meta.url))

/**
 * A network of separate node processes on one machine: anvil with the contracts, N staked
 * accounts, and one `veritask node` process per account with its own data dir (key file, SQLite,
 * blobs), talking libp2p over loopback, each settling epochs itself. Blocks are mined on a timer.
 */
export async function startProcessNetwork(options: ProcessNetworkOptions): Promise<ProcessNetwork> {
  const seed = options.seed ?? 'veritask'
  const count = options.nodes ?? 5
  await rm(options.dir, { recursive: true, force: true })
  await mkdir(options.dir, { recursive: true })
  const anvil = await startAnvil(options.signal === undefined ? {} : { signal: options.signal })
  const stops: Array<() => Promise<void> | void> = [() => anvil.stop()]
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s()
  }
  try {
    const chain = defineDevChain(anvil.rpcUrl, 31337)
    const transport = http(anvil.rpcUrl)
    const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient
    const testClient = createTestClient({ chain, transport, mode: 'anvil' })
    const wallet = (key: Hex): Wallet => createWalletClient({ chain, transport, account: privateKeyToAccount(key, { nonceManager: createNonceManager({ source: jsonRpc() }) }) })
    const deployer = wallet(ANVIL_DEPLOYER_KEY)
    const contracts = await deployContracts({
      walletClient: deployer,
      publicClient,
      params: {
        ...defaultChainParams,
        ...fromProtocolParams({ ...defaultParams, ...options.params }),
        epochLength: options.epochBlocks ?? defaultChainParams.epochLength,
      },
      treasury: devnetAccount(seed, 'treasury').address,
    })
    const addressesFile = join(options.dir, 'addresses.json')
    await writeAddressesFile(addressesFile, { chainId: chain.id, ...contracts })
    const client = createSettlementClient(publicClient, contracts)
    const requester = wallet(devnetPrivateKey(seed, 'requester'))
    await testClient.setBalance({ address: requester.account.address, value: parseEther('100') })
    await client.mint(deployer, requester.account.address, 1_000n * 10n ** 18n)

    // Each node gets its peer key and port up front, so all start at once, each dialling the others.
    const peers = await Promise.all(Array.from({ length: count }, () => peerIdentity()))
    const nodes: NodeProcess[] = []
    for (let index = 0; index < count; index++) {
      const key = devnetPrivateKey(seed, 'node', index)
      const staker = wallet(key)
      await testClient.setBalance({ address: staker.account.address, value: parseEther('100') })
      await client.mint(deployer, staker.account.address, STAKE)
      await client.stake(staker, STAKE)
      const dataDir = join(options.dir, `node-${index}`)
      await mkdir(dataDir, { recursive: true, mode: 0o700 })
      await writeFile(join(dataDir, 'node.key'), `${key}\n`, { mode: 0o600 })
      await writeFile(join(dataDir, 'peer.key'), peers[index]!.key, { mode: 0o600 })
      const args = [
        '--rpc-url', anvil.rpcUrl, '--addresses', addressesFile, '--api-port', '0', '--json', '--wait-peers', String(count - 1),
        ...(options.verbose === true ? ['--verbose'] : []),
        '--listen', `/ip4/127.0.0.1/tcp/${peers[index]!.port}`,
        ...peers.flatMap((p, i) => (i === index ? [] : ['--bootstrap', `/ip4/127.0.0.1/tcp/${p.port}/p2p/${p.peerId}`])),
      ]
      nodes.push(nodeProcess(index, dataDir, args, options.onLog))
    }
    const miner = setInterval(() => void testClient.mine({ blocks: 1 }).catch(() => {}), options.blockMs ?? 250)
    stops.push(() => clearInterval(miner))
    stops.push(() => Promise.all(nodes.map((n) => n.kill('SIGTERM'))).then(() => {}))
    await Promise.all(nodes.map((n) => n.start()))
    return { rpcUrl: anvil.rpcUrl, chainId: chain.id, contracts, publicClient, client, nodes, requester, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** A libp2p peer key (protobuf bytes), its peer id, and a free loopback port to listen on. */
async function peerIdentity(): Promise<{ key: Uint8Array; peerId: string; port: number }> {
  const { generateKeyPair, privateKeyToProtobuf } = await import('@libp2p/crypto/keys')
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
  const key = await generateKeyPair('Ed25519')
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return { key: privateKeyToProtobuf(key), peerId: peerIdFromPrivateKey(key).toString(), port }
}

function nodeProcess(index: number, dataDir: string, args: readonly string[], onLog?: (index: number, line: string) => void): NodeProcess {
  let exited: Promise<void> = Promise.resolve()
  const self: NodeProcess = {
    index,
    dataDir,
    ready: null,
    child: null,
    async kill(signal = 'SIGKILL') {
      const child = self.child
      if (child === null) return
      child.kill(signal)
      await exited
    },
    start() {
      const child = spawn(process.execPath, [cliPath, 'node', '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      self.child = child
      exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      void exited.then(() => {
        if (self.child === child) {
          self.child = null
          self.ready = null
        }
      })
      const stderr: string[] = []
      createInterface({ input: child.stderr! }).on('line', (line) => {
        if (stderr.length < 50) stderr.push(line)
        onLog?.(index, line)
      })
      return new Promise<ProcessNodeReady>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', (line) => {
          self.ready = JSON.parse(line) as ProcessNodeReady
          resolve(self.ready)
        })
        child.once('exit', (code) =>
          reject(new VeritaskError('NODE_PROCESS_EXITED', `Node ${index} exited (code ${code}) before it served.`, { details: { stderr: stderr.slice(-10) } })),
        )
      })
    },
  }
  return self
}
