import { encodePacked, hexToBigInt, keccak256, parseAbiItem } from 'viem'
import type { Address, Hex, PublicClient } from 'viem'
import { chargeableOf, fundedOf } from '../../core/escrow.ts'
import type { ProtocolParams } from '../../core/params.ts'
import type { AnchorRecord } from '../../core/taskAnchor.ts'
import type { ChainView } from '../../ports/node.ts'
import type { DeployedContracts } from '../deploy.ts'
import { EscrowAbi, SettlementAbi, StakeManagerAbi } from '../generated/contracts.ts'
import { MAX_TIMER_MS } from '../memory/blockSources.ts'
import { KEPT_EPOCHS, createStaticChainView, toEpochView } from '../memory/createStaticChainView.ts'
import type { EpochSnapshot, StaticNode } from '../memory/createStaticChainView.ts'
import { readAnchor } from './anchors.ts'
import { createSettlementClient } from './createSettlementClient.ts'
import { createPollInterval } from './pollInterval.ts'
import { readParameters } from './readParameters.ts'
import type { Wallet } from './createSettlementClient.ts'

export interface CreateChainFollowerParameters {
  publicClient: PublicClient
  contracts: DeployedContracts
  /** Opens each epoch once its first block has come, if nobody has yet (anyone may). */
  opener?: Wallet
  /** What a staked node that never advertised its capabilities is taken to run. Default `['wasm']`. */
  defaultCapabilities?: readonly string[]
  /** Fees already charged to a requester by settled batches this node knows of. */
  charged?: (requester: Address) => bigint
  /** The node's own settings for what governance does not set (backups, message limits). */
  baseParams?: ProtocolParams
  /**
   * Polling adapts to the chain (`pollInterval.ts`): half its observed block interval while blocks
   * come, backing off while none do. `pollMs` is the shortest delay between polls (default 100 ms),
   * `maxPollMs` the longest, i.e. how late a block on an idle chain may be seen (default 1000 ms).
   */
  pollMs?: number
  maxPollMs?: number
  /** Where polling troubles are reported (the node's logger); silent by default. */
  logger?: FollowerLogger
}

export interface FollowerLogger {
  debug(message: string, context?: Record<string, unknown>): void
  warn(message: string, context?: Record<string, unknown>): void
}

const silent: FollowerLogger = { debug: () => {}, warn: () => {} }

/** Draw blocks' hashes kept in memory; an older one is read from the chain again when asked for. */
const KEPT_BLOCK_HASHES = 4_096
/** Task anchors kept once read: anchors are write-once, and a task's is read at its draw and again by settlers. */
const KEPT_ANCHORS = 16_384
/** Reads of one anchor before a failure is given up on. */
const ANCHOR_READ_ATTEMPTS = 4

export interface ChainFollower extends ChainView {
  /** Reads the chain up to the newest opened epoch (waiting for the first), then follows it. */
  start(): Promise<void>
  stop(): void
  /** Resolves true once `epoch` is open in this view, or false after `timeoutMs`. */
  awaitEpoch(epoch: bigint, timeoutMs: number): Promise<boolean>
  /**
   * The same follower, with escrow charged as `chargedOf` counts it: nodes sharing one follower
   * each count their own settled charges, in step with the reservations their settler releases.
   */
  withCharged(chargedOf: (requester: Address) => bigint): ChainFollower
}

const staked = parseAbiItem('event Staked(address indexed node, uint256 amount, uint256 newStake)')
const advertised = parseAbiItem('event CapabilitiesAdvertised(address indexed node, string[] capabilities)')
const deposited = parseAbiItem('event Deposited(address indexed requester, address indexed payer, uint256 amount, uint256 totalDeposited)')
const withdrawalRequested = parseAbiItem('event WithdrawalRequested(address indexed requester, uint256 amount, uint64 availableAtBlock)')
const withdrawn = parseAbiItem('event Withdrawn(address indexed requester, uint256 amount, uint256 requested)')

/**
 * A `ChainView` that follows the settlement contract: at each opened epoch it reads the seed, the
 * governed parameters, the staked nodes and their stakes at the snapshot block (jailed and
 * under-staked nodes left out), each weighted by its stake and drawn only for the capabilities it
 * advertised last at or before the snapshot block, so every node ranks tasks from the same data.
 * Escrow follows the spending rule (core/escrow.ts): a spec of epoch e is checked against escrow
 * at e's snapshot block, pending withdrawals not spendable, so a later deposit counts from the next
 * epoch, as the batch charges it. Each epoch re-reads only the requesters whose escrow events
 * (deposit, withdrawal request, withdrawal) came by its snapshot block.
 */
export function createChainFollower({
  publicClient,
  contracts,
  opener,
  defaultCapabilities = ['wasm'],
  charged = () => 0n,
  baseParams,
  pollMs = 100,
  maxPollMs = 1_000,
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
  /** Each node's advertisements in chain order: the newest at or before a snapshot block counts. */
  const advertisements = new Map<Address, Array<{ block: bigint; capabilities: readonly string[] }>>()
  const capabilitiesAt = (node: Address, block: bigint): readonly string[] => {
    const list = advertisements.get(node) ?? []
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.block <= block) return list[i]!.capabilities
    return defaultCapabilities
  }
  /**
   * Each requester's funding (`fundedOf`) at epoch snapshots, oldest first: an entry holds from its
   * epoch until the next entry's. Only epochs whose snapshot follows a change of escrow get one.
   */
  const fundedByEpoch = new Map<Address, Array<{ epoch: bigint; funded: bigint }>>()
  /** Blocks of each requester's escrow events (in chain order) that no snapshot has read yet. */
  const changed = new Map<Address, bigint[]>()
  let scanned = contracts.deployBlock - 1n
  /** Called once per newly opened epoch (`awaitEpoch`'s waiters). */
  const listeners = new Set<() => void>()
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const interval = createPollInterval({ minMs: pollMs, maxMs: Math.max(pollMs, maxPollMs) })
  /** The head the last complete poll read the chain at; a poll that failed part-way leaves it unset. */
  let polledHead: bigint | undefined
  /**
   * The first block of the epoch after `known`, once read. That epoch cannot open before it, and
   * its start is fixed once `known` opened (an epoch length takes effect only from an opening on):
   * until the head reaches it a poll reads the block number alone.
   */
  let nextStart: { epoch: bigint; block: bigint } | undefined
  /** The newest block any poll has seen (`head()`), and the waiters for later blocks (`awaitBlock`). */
  let seenHead = -1n
  const blockWaiters = new Set<() => void>()
  /** Block hashes read for task draws, newest `KEPT_BLOCK_HASHES`, and the reads under way. */
  const hashes = new Map<bigint, Hex>()
  const hashReads = new Map<bigint, Promise<Hex>>()
  /** Task anchors found on-chain, by requester and root (write-once there, so kept as read). */
  const anchors = new Map<string, AnchorRecord>()
  /** Anchors not found, with the newest block seen when they were read; and the reads under way. */
  const missing = new Map<string, bigint>()
  const anchorReads = new Map<string, Promise<AnchorRecord | undefined>>()

  /**
   * Reads one anchor at the newest block this follower has seen. A failed read is tried a few
   * times: a node that gave up would drop a task its peers run.
   */
  async function readAnchorOnce(key: string, requester: Address, root: Hex): Promise<AnchorRecord | undefined> {
    const seen = seenHead
    for (let attempt = 0; ; attempt++) {
      try {
        // At the newest block seen, not at whatever "latest" a load-balanced endpoint answers from:
        // once a task's draw block is seen, the answer for it is final.
        const record = await readAnchor(publicClient, contracts.anchors, requester, root, seen >= 0n ? seen : undefined)
        const kept = record === undefined ? missing : anchors
        if (kept.size >= KEPT_ANCHORS) kept.delete(kept.keys().next().value!)
        if (record === undefined) missing.set(key, seen)
        else anchors.set(key, record)
        return record
      } catch (error) {
        logger.warn('task anchor not read', { requester, root, attempt, error })
        if (attempt >= ANCHOR_READ_ATTEMPTS - 1) throw error
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt).unref())
      }
    }
  }

  /** Block `block`'s hash (at or below the head seen), read once and kept. */
  function readBlockHash(block: bigint): Promise<Hex> {
    const kept = hashes.get(block)
    if (kept !== undefined) return Promise.resolve(kept)
    let read = hashReads.get(block)
    if (read === undefined) {
      read = publicClient
        .getBlock({ blockNumber: block })
        .then(({ hash }) => {
          hashes.set(block, hash)
          for (const old of hashes.keys()) {
            if (hashes.size <= KEPT_BLOCK_HASHES) break
            hashes.delete(old)
          }
          return hash
        })
        .finally(() => hashReads.delete(block))
      hashReads.set(block, read)
    }
    return read
  }

  /** A requester's funding as the chain held it at `blockNumber`. */
  async function fundedAt(requester: Address, blockNumber: bigint): Promise<bigint> {
    const [deposited, withdrawnAmount, [pendingWithdrawal]] = await Promise.all([
      publicClient.readContract({ ...escrow, functionName: 'depositOf', args: [requester], blockNumber }),
      publicClient.readContract({ ...escrow, functionName: 'withdrawnOf', args: [requester], blockNumber }),
      publicClient.readContract({ ...escrow, functionName: 'pendingWithdrawalOf', args: [requester], blockNumber }),
    ])
    return fundedOf({ deposited, withdrawn: withdrawnAmount, pendingWithdrawal })
  }

  /**
   * Reads escrow at `epoch`'s snapshot block for every requester whose escrow changed by then, even
   * if it changed again since (that later change waits for a later snapshot). Entries older than
   * the kept epochs are dropped, except the one still in force.
   */
  async function advanceEscrow(epoch: bigint, snapshotBlock: bigint): Promise<void> {
    if (snapshotBlock > scanned) await scanEvents()
    for (const [requester, blocks] of [...changed]) {
      if (blocks[0]! > snapshotBlock) continue
      const history = fundedByEpoch.get(requester) ?? []
      history.push({ epoch, funded: await fundedAt(requester, snapshotBlock) })
      while (history.length > 1 && history[1]!.epoch + BigInt(KEPT_EPOCHS) <= epoch) history.shift()
      fundedByEpoch.set(requester, history)
      const later = blocks.filter((block) => block > snapshotBlock)
      if (later.length === 0) changed.delete(requester)
      else changed.set(requester, later)
    }
  }

  /** What `requester` can still be charged in `epoch` (0 for an epoch not read, or no longer kept). */
  function escrowBalance(requester: Address, epoch: bigint, chargedOf = charged): bigint {
    if (epoch > known) return 0n
    const history = fundedByEpoch.get(requester) ?? []
    for (let i = history.length - 1; i >= 0; i--) if (history[i]!.epoch <= epoch) return chargeableOf(history[i]!.funded, chargedOf(requester))
    return 0n
  }

  /** Reads the stake, capability and escrow events up to the head: when a snapshot needs them, not every block. */
  async function scanEvents(): Promise<void> {
    // Uncached: viem keeps a block number for the client's polling interval (4 s by default), and
    // a stale head would leave out events up to the snapshot block.
    const head = await publicClient.getBlockNumber({ cacheTime: 0 })
    if (head <= scanned) return
    const range = { fromBlock: scanned + 1n, toBlock: head }
    const [stakes, adverts, escrowLogs] = await Promise.all([
      publicClient.getLogs({ address: contracts.stakeManager, event: staked, ...range }),
      publicClient.getLogs({ address: contracts.stakeManager, event: advertised, ...range }),
      publicClient.getLogs({ address: contracts.escrow, events: [deposited, withdrawalRequested, withdrawn], ...range }),
    ])
    for (const log of stakes) if (!nodesSince.has(log.args.node!)) nodesSince.set(log.args.node!, log.blockNumber)
    // Logs come in chain order; two advertisements in one block keep the later one last.
    for (const log of adverts) {
      const list = advertisements.get(log.args.node!) ?? []
      list.push({ block: log.blockNumber, capabilities: [...log.args.capabilities!] })
      advertisements.set(log.args.node!, list)
    }
    for (const log of escrowLogs) {
      const blocks = changed.get(log.args.requester!) ?? []
      if (blocks.at(-1) !== log.blockNumber) blocks.push(log.blockNumber)
      changed.set(log.args.requester!, blocks)
    }
    scanned = head
  }

  async function snapshotOf(epoch: bigint): Promise<EpochSnapshot & { snapshotBlock: bigint }> {
    const [seed, snapshotBlock] = await Promise.all([
      publicClient.readContract({ ...settlement, functionName: 'seedOf', args: [epoch] }),
      publicClient.readContract({ ...settlement, functionName: 'snapshotBlockOf', args: [epoch] }).then(BigInt),
    ])
    if (snapshotBlock > scanned) await scanEvents()
    const nodes: StaticNode[] = []
    for (const [address, since] of [...nodesSince].sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))) {
      if (since > snapshotBlock) continue
      // Eligible stake: 0 for a node jailed or below the minimum at the snapshot (StakeManager).
      const stake = await publicClient.readContract({ ...stakeManager, functionName: 'eligibleStakeAt', args: [address, snapshotBlock] })
      if (stake > 0n) nodes.push({ address, weight: stake, runtimes: capabilitiesAt(address, snapshotBlock) })
    }
    const params = await readParameters(publicClient, { settlement: contracts.settlement, epoch, ...(baseParams === undefined ? {} : { base: baseParams }) })
    return { epoch, seed, nodes, params, snapshotBlock }
  }

  /** Reads what changed on the chain; returns the head block it saw. */
  async function poll(): Promise<bigint> {
    const head = await publicClient.getBlockNumber({ cacheTime: 0 })
    if (head > seenHead) {
      seenHead = head
      for (const waiter of [...blockWaiters]) waiter()
    }
    // Nothing on the chain changes without a block: at the head the last complete poll read, no
    // more reads are needed. (A poll that failed, or an epoch left unopened by a failed
    // transaction, clears `polledHead`, so the next poll reads everything again.)
    if (head === polledHead) return head
    if (nextStart?.epoch === known + 1n && head < nextStart.block) return (polledHead = head)
    polledHead = undefined
    let complete = true
    if (opener !== undefined) {
      // Epochs open in order, each once its first block has come. Openers wait 0–3 blocks more,
      // staggered by account, so that one transaction usually opens the epoch instead of many.
      const next = BigInt(await publicClient.readContract({ ...settlement, functionName: 'nextEpochToOpen' }))
      const stagger = hexToBigInt(keccak256(encodePacked(['address', 'uint64'], [opener.account.address, next]))) % 4n
      if ((await client.epochStart(next)) + stagger <= head) {
        await client.openEpoch(opener, next).catch((error: unknown) => {
          complete = false
          logger.debug('epoch not opened here', { epoch: next, error })
        })
      }
    }
    for (;;) {
      const epoch = known + 1n
      if (!(await publicClient.readContract({ ...settlement, functionName: 'isEpochOpened', args: [epoch] }))) break
      const snapshot = await snapshotOf(epoch)
      await advanceEscrow(epoch, snapshot.snapshotBlock)
      if (view === undefined) view = createStaticChainView(snapshot)
      else view.update(snapshot)
      known = epoch
      logger.debug('epoch opened', { epoch, nodes: snapshot.nodes.length })
      for (const listener of listeners) listener()
    }
    if (nextStart?.epoch !== known + 1n) nextStart = { epoch: known + 1n, block: await client.epochStart(known + 1n) }
    if (complete) polledHead = head
    return head
  }

  /** Polls that failed in a row: each doubles the delay before the next try, up to `maxPollMs`. */
  let failures = 0

  function schedule(delayMs: number): void {
    if (stopped) return
    timer = setTimeout(() => {
      poll()
        .then((head) => {
          failures = 0
          schedule(interval.next(head, performance.now()))
        })
        .catch((error: unknown) => {
          logger.warn('chain poll failed', { error })
          schedule(Math.min(Math.max(pollMs, maxPollMs), pollMs * 2 ** ++failures))
        })
    }, delayMs)
  }

  return {
    async start() {
      // Jump to the newest opened epoch: older ones are settled or settling without us.
      const next = BigInt(await publicClient.readContract({ ...settlement, functionName: 'nextEpochToOpen' }))
      known = next - 2n < -1n ? -1n : next - 2n
      let delay = interval.next(await poll(), performance.now())
      // Until an epoch is open there is nothing to follow: wait for the first one.
      while (known < 0n && !stopped) {
        await new Promise((resolve) => setTimeout(resolve, delay))
        delay = interval.next(await poll(), performance.now())
      }
      schedule(delay)
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
    escrowBalance: (requester, epoch) => escrowBalance(requester, epoch),
    head: () => seenHead,
    blockMs: () => interval.blockMs(),
    blockHash: (block) => (block <= seenHead ? hashes.get(block) : undefined),
    async awaitBlock(block, timeoutMs) {
      const until = performance.now() + timeoutMs
      if (block > seenHead) {
        const seen = await new Promise<boolean>((resolve) => {
          const done = (ok: boolean) => {
            clearTimeout(timeout)
            blockWaiters.delete(waiter)
            resolve(ok)
          }
          const waiter = () => {
            if (block <= seenHead) done(true)
          }
          // A wait alone does not keep the process alive: the follower's polls do, until it stops.
          const timeout = setTimeout(() => done(false), Math.min(timeoutMs, MAX_TIMER_MS)).unref()
          blockWaiters.add(waiter)
        })
        if (!seen) return undefined
      }
      // A failed read is tried again until the time is up: a node that gave up on one would drop a task its peers run.
      for (let attempt = 0; ; attempt++) {
        try {
          return await readBlockHash(block)
        } catch (error) {
          const left = until - performance.now()
          logger.warn('block hash not read', { block, attempt, error })
          if (left <= 0) return undefined
          await new Promise((resolve) => setTimeout(resolve, Math.min(left, 100 * 2 ** Math.min(attempt, 4))).unref())
        }
      }
    },
    anchorOf(requester, root) {
      const key = `${requester.toLowerCase()}:${root.toLowerCase()}`
      const kept = anchors.get(key)
      if (kept !== undefined) return Promise.resolve(kept)
      // Not found since the last new block: nothing can have changed (a flood of specs naming a
      // root nobody anchored costs one read a block, not one a spec).
      if (missing.get(key) === seenHead) return Promise.resolve(undefined)
      // A read under way answers only for the block it reads at: one that started before a task's
      // draw block must not decide it.
      const at = `${key}@${seenHead}`
      let read = anchorReads.get(at)
      if (read === undefined) {
        read = readAnchorOnce(key, requester, root).finally(() => anchorReads.delete(at))
        anchorReads.set(at, read)
      }
      return read
    },
    withCharged(chargedOf) {
      return { ...this, escrowBalance: (requester, epoch) => escrowBalance(requester, epoch, chargedOf) }
    },
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
  }
}
