import { encodePacked, hexToBigInt, keccak256, parseAbiItem } from 'viem'
import type { Address, PublicClient } from 'viem'
import type { ProtocolParams } from '../../core/params.ts'
import type { ChainView } from '../../ports/node.ts'
import type { DeployedContracts } from '../deploy.ts'
import { EscrowAbi, SettlementAbi, StakeManagerAbi } from '../generated/contracts.ts'
import { createStaticChainView, toEpochView } from '../memory/createStaticChainView.ts'
import type { EpochSnapshot, StaticNode } from '../memory/createStaticChainView.ts'
import { createSettlementClient } from './createSettlementClient.ts'
import { readParameters } from './readParameters.ts'
import type { Wallet } from './createSettlementClient.ts'

export interface CreateChainFollowerParameters {
  publicClient: PublicClient
  contracts: DeployedContracts
  /** Opens each epoch once its first block has come, if nobody has yet (anyone may). */
  opener?: Wallet
  /** Runtimes every staked node is taken to run (capabilities are not on-chain yet). */
  runtimes?: readonly string[]
  /** Fees already charged to a requester by settled batches this node knows of. */
  charged?: (requester: Address) => bigint
  /** The node's own settings for what governance does not set (backups, message limits). */
  baseParams?: ProtocolParams
  pollMs?: number
  /** Where polling troubles are reported (the node's logger); silent by default. */
  logger?: FollowerLogger
}

export interface FollowerLogger {
  debug(message: string, context?: Record<string, unknown>): void
  warn(message: string, context?: Record<string, unknown>): void
}

const silent: FollowerLogger = { debug: () => {}, warn: () => {} }

export interface ChainFollower extends ChainView {
  /** Reads the chain up to the newest opened epoch (waiting for the first), then follows it. */
  start(): Promise<void>
  stop(): void
  /** Calls `listener` with each newly opened epoch's snapshot. */
  onEpoch(listener: (snapshot: EpochSnapshot) => void): () => void
}

const staked = parseAbiItem('event Staked(address indexed node, uint256 amount, uint256 newStake)')
const deposited = parseAbiItem('event Deposited(address indexed requester, address indexed payer, uint256 amount, uint256 totalDeposited)')

/**
 * A `ChainView` that follows the settlement contract: at each opened epoch it reads the seed, the
 * governed parameters, the staked nodes and their stakes at the snapshot block (jailed and
 * under-staked nodes left out),
 * so every node ranks tasks from the same data. Escrow balances are re-read after `Deposited`
 * events, and on demand for a spec the cached balance does not cover.
 */
export function createChainFollower({
  publicClient,
  contracts,
  opener,
  runtimes = ['wasm'],
  charged = () => 0n,
  baseParams,
  pollMs = 250,
  logger = silent,
}: CreateChainFollowerParameters): ChainFollower {
  const settlement = { address: contracts.settlement, abi: SettlementAbi } as const
  const stakeManager = { address: contracts.stakeManager, abi: StakeManagerAbi } as const
  const escrow = { address: contracts.escrow, abi: EscrowAbi } as const
  const client = createSettlementClient(publicClient, contracts)
  let view: ReturnType<typeof createStaticChainView> | undefined
  let known = -1n
  /** Staked nodes by the block they first staked in, and requesters' total deposits. */
  const nodesSince = new Map<Address, bigint>()
  const funded = new Map<Address, bigint>()
  let scanned = contracts.deployBlock - 1n
  const listeners = new Set<(snapshot: EpochSnapshot) => void>()
  let timer: NodeJS.Timeout | undefined
  let stopped = false

  /** A requester's deposits less withdrawals, as the chain holds them now. */
  async function refresh(requester: Address): Promise<void> {
    const [deposit, withdrawn] = await Promise.all([
      publicClient.readContract({ ...escrow, functionName: 'depositOf', args: [requester] }),
      publicClient.readContract({ ...escrow, functionName: 'withdrawnOf', args: [requester] }),
    ])
    funded.set(requester, deposit - withdrawn)
  }

  async function scanEvents(): Promise<void> {
    const head = await publicClient.getBlockNumber()
    if (head <= scanned) return
    const range = { fromBlock: scanned + 1n, toBlock: head }
    const [stakes, deposits] = await Promise.all([
      publicClient.getLogs({ address: contracts.stakeManager, event: staked, ...range }),
      publicClient.getLogs({ address: contracts.escrow, event: deposited, ...range }),
    ])
    for (const log of stakes) if (!nodesSince.has(log.args.node!)) nodesSince.set(log.args.node!, log.blockNumber)
    scanned = head
    for (const requester of new Set(deposits.map((log) => log.args.requester!))) await refresh(requester)
  }

  async function snapshotOf(epoch: bigint): Promise<EpochSnapshot> {
    const [seed, snapshotBlock] = await Promise.all([
      publicClient.readContract({ ...settlement, functionName: 'seedOf', args: [epoch] }),
      publicClient.readContract({ ...settlement, functionName: 'snapshotBlockOf', args: [epoch] }).then(BigInt),
    ])
    const blockNumber = snapshotBlock
    const minStake = await publicClient.readContract({ ...settlement, functionName: 'minStakeOf', args: [epoch] })
    const nodes: StaticNode[] = []
    for (const [address, since] of [...nodesSince].sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))) {
      if (since > snapshotBlock) continue
      const [stake, jailedUntil] = await Promise.all([
        publicClient.readContract({ ...stakeManager, functionName: 'stakeAt', args: [address, snapshotBlock] }),
        publicClient.readContract({ ...stakeManager, functionName: 'jailedUntil', args: [address], blockNumber }),
      ])
      if (stake >= minStake && BigInt(jailedUntil) <= snapshotBlock) nodes.push({ address, weight: stake, runtimes })
    }
    const params = await readParameters(publicClient, { settlement: contracts.settlement, epoch, ...(baseParams === undefined ? {} : { base: baseParams }) })
    return { epoch, seed, nodes, escrow: funded, params }
  }

  async function poll(): Promise<void> {
    await scanEvents()
    if (opener !== undefined) {
      // Epochs open in order, each once its first block has come. Openers wait 0–3 blocks more,
      // staggered by account, so that one transaction usually opens the epoch instead of many.
      const next = BigInt(await publicClient.readContract({ ...settlement, functionName: 'nextEpochToOpen' }))
      const stagger = hexToBigInt(keccak256(encodePacked(['address', 'uint64'], [opener.account.address, next]))) % 4n
      if ((await client.epochStart(next)) + stagger <= (await publicClient.getBlockNumber())) {
        await client.openEpoch(opener, next).catch((error: unknown) => logger.debug('epoch not opened here', { epoch: next, error }))
      }
    }
    for (;;) {
      const epoch = known + 1n
      if (!(await publicClient.readContract({ ...settlement, functionName: 'isEpochOpened', args: [epoch] }))) break
      const snapshot = await snapshotOf(epoch)
      if (view === undefined) view = createStaticChainView(snapshot)
      else view.update(snapshot)
      known = epoch
      logger.debug('epoch opened', { epoch, nodes: snapshot.nodes.length })
      for (const listener of listeners) listener(snapshot)
    }
  }

  function schedule(): void {
    if (stopped) return
    timer = setTimeout(() => {
      poll()
        .catch((error: unknown) => logger.warn('chain poll failed', { error }))
        .finally(schedule)
    }, pollMs)
  }

  return {
    async start() {
      // Jump to the newest opened epoch: older ones are settled or settling without us.
      const next = BigInt(await publicClient.readContract({ ...settlement, functionName: 'nextEpochToOpen' }))
      known = next - 2n < -1n ? -1n : next - 2n
      await poll()
      // Until an epoch is open there is nothing to follow: wait for the first one.
      while (known < 0n && !stopped) {
        await new Promise((resolve) => setTimeout(resolve, pollMs))
        await poll()
      }
      schedule()
    },
    stop() {
      stopped = true
      clearTimeout(timer)
    },
    epoch: () => (view === undefined ? -1n : view.epoch()),
    snapshot: (epoch) => view?.snapshot(epoch),
    async loadSnapshot(epoch) {
      const kept = view?.snapshot(epoch)
      if (kept !== undefined || epoch > known) return kept
      return toEpochView(await snapshotOf(epoch))
    },
    escrowBalance: (requester) => {
      const left = (funded.get(requester) ?? 0n) - charged(requester)
      return left > 0n ? left : 0n
    },
    refreshEscrow: refresh,
    awaitEpoch(epoch, timeoutMs) {
      if (known >= epoch) return Promise.resolve(true)
      return new Promise<boolean>((resolve) => {
        const done = (opened: boolean) => {
          clearTimeout(timeout)
          listeners.delete(listener)
          resolve(opened)
        }
        const listener = () => {
          if (known >= epoch) done(true)
        }
        const timeout = setTimeout(() => done(false), timeoutMs)
        listeners.add(listener)
      })
    },
    onEpoch(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
