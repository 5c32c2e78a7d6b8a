import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { availableParallelism } from 'node:os'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Address, PublicClient } from 'viem'
import { writeAddressesFile } from '../chain/deploy.ts'
import type { DeployedContracts } from '../chain/deploy.ts'
import type { SettlementClient, Wallet } from '../chain/viem/createSettlementClient.ts'
import { defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import { VeritaskError } from '../core/errors.ts'
import { packagePath } from '../packageFiles.ts'
import { startDevChain } from './startDevChain.ts'

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
  /** Whole-process start time of its last start: from spawning `veritask node` to its API serving (ms). */
  startMs: number | null
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
  /**
   * Fee tokens the requester deposits into escrow before the nodes start (default 10 tokens), as
   * the in-process devnet does: a deposit counts from the next epoch's snapshot, so one made just
   * before submitting holds the first tasks back for up to an epoch (402, retried).
   */
  requesterDeposit?: bigint
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
  /**
   * A funded requester with 1,000 test tokens, `requesterDeposit` of them in escrow; the rest pay
   * further deposits and the minimum fee of each task id it anchors (`createChainAnchorer`).
   */
  requester: Wallet
  stop(): Promise<void>
}

const cliPath = packagePath('bin', 'veritask.js')

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
  const dev = await startDevChain({
    seed,
    nodes: count,
    params: { ...defaultParams, ...options.params },
    requesterDeposit: options.requesterDeposit ?? 10n * 10n ** 18n,
    ...(options.epochBlocks === undefined ? {} : { epochBlocks: options.epochBlocks }),
    ...(options.blockMs === undefined ? {} : { blockMs: options.blockMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
  const stops: Array<() => Promise<void> | void> = [() => dev.stop()]
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s()
  }
  try {
    const { contracts, chainId } = dev
    const addressesFile = join(options.dir, 'addresses.json')
    await writeAddressesFile(addressesFile, { chainId, ...contracts })
    // Each node gets its peer key and port up front, so all start at once, each dialling the others.
    const peers = await Promise.all(Array.from({ length: count }, () => peerIdentity()))
    // The node processes share this machine's cores: each gets its share of worker threads.
    const threads = Math.max(1, Math.floor(availableParallelism() / count))
    // Every node dials every other, so a message its publisher floods reaches all of them at once:
    // a mesh link only carries duplicates. A mesh of 2 keeps a relay path and halves the gossip.
    const gossipDegree = 2
    const nodes: NodeProcess[] = []
    for (let index = 0; index < count; index++) {
      const key = dev.nodeKeys[index]!
      const dataDir = join(options.dir, `node-${index}`)
      await mkdir(dataDir, { recursive: true, mode: 0o700 })
      await writeFile(join(dataDir, 'node.key'), `${key}\n`, { mode: 0o600 })
      await writeFile(join(dataDir, 'peer.key'), peers[index]!.key, { mode: 0o600 })
      const args = [
        '--rpc-url', dev.rpcUrl, '--addresses', addressesFile, '--api-port', '0', '--json', '--wait-peers', String(count - 1),
        '--threads', String(threads), '--gossip-degree', String(gossipDegree),
        ...(options.verbose === true ? ['--verbose'] : []),
        '--listen', `/ip4/127.0.0.1/tcp/${peers[index]!.port}`,
        ...peers.flatMap((p, i) => (i === index ? [] : ['--bootstrap', `/ip4/127.0.0.1/tcp/${p.port}/p2p/${p.peerId}`])),
      ]
      nodes.push(nodeProcess(index, dataDir, args, options.onLog))
    }
    stops.push(() => Promise.all(nodes.map((n) => n.kill('SIGTERM'))).then(() => {}))
    await Promise.all(nodes.map((n) => n.start()))
    return { rpcUrl: dev.rpcUrl, chainId, contracts, publicClient: dev.publicClient, client: dev.client, nodes, requester: dev.requester, stop }
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

/**
 * Extra Node.js flags for every node process, from `$VERITASK_NODE_FLAGS` (space-separated), for
 * profiling: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`, which `NODE_OPTIONS` does not accept.
 */
function nodeFlags(): string[] {
  return (process.env.VERITASK_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '')
}

function nodeProcess(index: number, dataDir: string, args: readonly string[], onLog?: (index: number, line: string) => void): NodeProcess {
  let exited: Promise<void> = Promise.resolve()
  const self: NodeProcess = {
    index,
    dataDir,
    ready: null,
    startMs: null,
    child: null,
    async kill(signal = 'SIGKILL') {
      const child = self.child
      if (child === null) return
      child.kill(signal)
      await exited
    },
    start() {
      const spawnedAt = performance.now()
      const child = spawn(process.execPath, [...nodeFlags(), cliPath, 'node', '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
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
          self.startMs = performance.now() - spawnedAt
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
