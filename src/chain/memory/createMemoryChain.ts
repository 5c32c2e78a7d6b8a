import { encodeAbiParameters, getAddress, hexToBigInt, keccak256, recoverAddress, size, slice, stringToBytes, zeroHash } from 'viem'
import { committeeWeight, requiredCommitteeWeight } from '../../core/committee.ts'
import { devnetDomain } from '../../core/eip712.ts'
import { hashEpochBatch } from '../../core/epochBatch.ts'
import type { EpochBatch, Penalty } from '../../core/epochBatch.ts'
import type { EpochFacts } from '../../core/epochProposal.ts'
import { VeritaskError } from '../../core/errors.ts'
import { chargeableOf, fundedOf } from '../../core/escrow.ts'
import type { ProtocolParams } from '../../core/params.ts'
import { SECP256K1_HALF_ORDER } from '../../core/signing.ts'
import type { Address, Hex, ProtocolDomain } from '../../core/types.ts'
import type { ChainView, EpochView } from '../../ports/node.ts'
import type { SettlementPort } from '../../ports/settlement.ts'
import { defaultNetworkParameters, toProtocolParams } from '../governance/parameters.ts'
import type { NetworkParameterValues } from '../governance/parameters.ts'
import { createStaticChainView, toEpochView } from './createStaticChainView.ts'
import type { EpochSnapshot, SnapshotChainView, StaticNode } from './createStaticChainView.ts'

/**
 * Why the in-memory chain refused a call: Settlement.sol's custom errors (and OpenZeppelin ECDSA's)
 * under the project's code names, with the same named arguments in `details`.
 */
export type ChainRevertCode =
  | 'SETTLEMENT_WRONG_EPOCH'
  | 'SETTLEMENT_EPOCH_NOT_OPENED'
  | 'SETTLEMENT_EPOCH_NOT_ENDED'
  | 'SETTLEMENT_UNBALANCED'
  | 'SETTLEMENT_SIGNERS_NOT_SORTED'
  | 'SETTLEMENT_NOT_COMMITTEE_MEMBER'
  | 'SETTLEMENT_INSUFFICIENT_SIGNATURES'
  | 'ECDSA_INVALID_SIGNATURE'
  | 'ECDSA_INVALID_SIGNATURE_LENGTH'
  | 'ECDSA_INVALID_SIGNATURE_S'
  | 'CHAIN_EPOCH_NOT_OPENED'
  | 'SETTLEMENT_NOT_EQUIVOCATION'
  | 'SETTLEMENT_ALREADY_PUNISHED'

export class ChainRevertedError extends VeritaskError<ChainRevertCode> {
  override name = 'ChainRevertedError'
}

export interface CreateMemoryChainParameters {
  /** Receiver of slashed stake and of the treasury's share of fees. */
  treasury: Address
  /** The EIP-712 domain batch digests are signed in. Default `devnetDomain`. */
  domain?: ProtocolDomain
  /** The governed parameters every epoch uses; the devnet defaults for the rest. */
  parameters?: Partial<NetworkParameterValues>
  /** Seeds epoch seeds: epoch `e` gets `keccak256(abi.encode(seed, e))`. */
  seed?: Hex
  /** What a staked node that never advertised its capabilities is taken to run. Default `['wasm']`. */
  defaultCapabilities?: readonly string[]
  /** Fees already charged to a requester by settled batches (the settler knows them; a root does not tell). */
  charged?: (requester: Address) => bigint
  /** The node's own settings for what governance does not set. */
  baseParams?: ProtocolParams
}

/** What the chain held when an epoch opened: the state at its snapshot block. */
interface EpochRecord {
  snapshot: EpochSnapshot
  snapshotBlock: bigint
  stakes: ReadonlyMap<Address, bigint>
  /** StakeManager.eligibleStakeAt the snapshot block: the committee is fixed then. */
  eligibleStakes: ReadonlyMap<Address, bigint>
  totalEligibleStake: bigint
  funded: ReadonlyMap<Address, bigint>
  depositors: readonly Address[]
}

/**
 * An in-memory chain with the contracts' rules, for fast tests and single-process networks: the
 * caller stakes, deposits and opens epochs; every write is one block.
 */
export interface MemoryChain extends ChainView, SettlementPort {
  awaitEpoch(epoch: bigint, timeoutMs: number): Promise<boolean>
  loadSnapshot(epoch: bigint): Promise<EpochView | undefined>
  /** `StakeManager.stake` as `node`. */
  stake(node: Address, amount: bigint): void
  /** `StakeManager.advertiseCapabilities` as `node`. */
  advertiseCapabilities(node: Address, capabilities: readonly string[]): void
  /** `Escrow.deposit` as `requester`. */
  deposit(requester: Address, amount: bigint): void
  /** `Escrow.requestWithdrawal` as `requester`: replaces its pending request. */
  requestWithdrawal(requester: Address, amount: bigint): void
  /** `Settlement.openEpoch` of the next epoch: fixes its seed and the state at the block before. */
  openEpoch(): bigint
  blockNumber(): bigint
}


type Recovered = { signer: Address } | { error: ChainRevertCode; details: Record<string, unknown> }

/** `ECDSA.recover`, as Settlement calls it: 65 bytes, low `s`, `v` of 27 or 28. */
async function recoverSigner(digest: Hex, signature: Hex): Promise<Recovered> {
  if (size(signature) !== 65) return { error: 'ECDSA_INVALID_SIGNATURE_LENGTH', details: { length: BigInt(size(signature)) } }
  const s = slice(signature, 32, 64)
  if (hexToBigInt(s) > SECP256K1_HALF_ORDER) return { error: 'ECDSA_INVALID_SIGNATURE_S', details: { s } }
  const v = Number(hexToBigInt(slice(signature, 64)))
  if (v !== 27 && v !== 28) return { error: 'ECDSA_INVALID_SIGNATURE', details: {} }
  try {
    return { signer: await recoverAddress({ hash: digest, signature }) }
  } catch {
    return { error: 'ECDSA_INVALID_SIGNATURE', details: {} }
  }
}

function revert(code: ChainRevertCode, details: Record<string, unknown> = {}): never {
  throw new ChainRevertedError(code, `The chain reverted the call (${code}).`, { details })
}

const byAddress = (a: Address, b: Address): number => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)

export function createMemoryChain({
  treasury,
  domain = devnetDomain,
  parameters = {},
  seed = keccak256(stringToBytes('veritask-memory-chain')),
  defaultCapabilities = ['wasm'],
  charged = () => 0n,
  baseParams,
}: CreateMemoryChainParameters): MemoryChain {
  const values: NetworkParameterValues = { ...defaultNetworkParameters, ...parameters }
  const committeeSize = BigInt(values.committeeSize)
  let block = 0n
  const stakes = new Map<Address, bigint>()
  const capabilities = new Map<Address, readonly string[]>()
  const jailedUntil = new Map<Address, bigint>()
  const deposited = new Map<Address, bigint>()
  const pending = new Map<Address, bigint>()
  const depositors: Address[] = []
  const epochs: EpochRecord[] = []
  const settledDigests: Hex[] = []
  let balancesRoot: Hex = zeroHash
  let view: SnapshotChainView | undefined
  const waiters = new Set<() => void>()

  const mine = (): void => void block++
  const record = (epoch: bigint): EpochRecord | undefined => (epoch >= 0n && epoch < BigInt(epochs.length) ? epochs[Number(epoch)] : undefined)
  /** StakeManager's eligible stake: a node's stake while it is at or above the minimum and not jailed, else 0. */
  const eligibleStakes = new Map<Address, bigint>()

  /** StakeManager._refreshEligibility, after every change of a node's stake or jail. */
  function refreshEligibility(node: Address): void {
    eligibleStakes.set(getAddress(node), eligibleNow(node))
  }

  function eligibleNow(node: Address): bigint {
    const key = getAddress(node)
    const stake = stakes.get(key) ?? 0n
    const free = block >= (jailedUntil.get(key) ?? 0n)
    return stake > 0n && stake >= values.minStake && free ? stake : 0n
  }

  /** Nodes with eligible stake, weighted by it, as the chain follower lists them. */
  function eligibleNodes(): StaticNode[] {
    return [...eligibleStakes]
      .filter(([, stake]) => stake > 0n)
      .sort(([a], [b]) => byAddress(a, b))
      .map(([address, weight]) => ({ address, weight, runtimes: capabilities.get(address) ?? defaultCapabilities }))
  }

  function fundingNow(): Map<Address, bigint> {
    const funded = new Map<Address, bigint>()
    for (const [requester, amount] of deposited) {
      funded.set(requester, fundedOf({ deposited: amount, withdrawn: 0n, pendingWithdrawal: pending.get(requester) ?? 0n }))
    }
    return funded
  }

  function snapshotNow(epoch: bigint): EpochRecord {
    const snapshotBlock = block
    const funded = fundingNow()
    const epochSeed = keccak256(encodeAbiParameters([{ type: 'bytes32' }, { type: 'uint64' }], [seed, epoch]))
    const snapshot: EpochSnapshot = {
      epoch,
      seed: epochSeed,
      nodes: eligibleNodes(),
      escrow: funded,
      params: toProtocolParams(values, baseParams),
    }
    const totalEligibleStake = [...eligibleStakes.values()].reduce((sum, stake) => sum + stake, 0n)
    return { snapshot, snapshotBlock, stakes: new Map(stakes), eligibleStakes: new Map(eligibleStakes), totalEligibleStake, funded, depositors: [...depositors] }
  }

  /** As Settlement: eligibility as things stood at the snapshot; a later jail does not change the committee. */
  function weightOf(epoch: bigint, node: Address): bigint {
    const info = record(epoch)
    if (info === undefined) return 0n
    return committeeWeight({
      seed: info.snapshot.seed,
      epoch,
      node,
      stake: info.eligibleStakes.get(getAddress(node)) ?? 0n,
      totalStake: info.totalEligibleStake,
      committeeSize,
    })
  }

  /** Settlement._checkSignatures: sorted committee members with at least the required weight. */
  function checkSignatures(epoch: bigint, info: EpochRecord, recovered: readonly Recovered[]): void {
    let signed = 0n
    let previous = 0n
    for (const result of recovered) {
      if ('error' in result) revert(result.error, result.details)
      const signer = hexToBigInt(result.signer)
      if (signer <= previous) revert('SETTLEMENT_SIGNERS_NOT_SORTED')
      previous = signer
      const weight = weightOf(epoch, result.signer)
      if (weight === 0n) revert('SETTLEMENT_NOT_COMMITTEE_MEMBER', { signer: result.signer })
      signed += weight
    }
    const required = requiredCommitteeWeight(info.totalEligibleStake)
    if (signed < required || signed === 0n) revert('SETTLEMENT_INSUFFICIENT_SIGNATURES', { signed, required })
  }

  /** Settlement._applyPenalties over StakeManager.slash (active stake only here) and StakeManager.jail. */
  function applyPenalties(penalties: readonly Penalty[]): void {
    for (const { node, slashAmount, jailUntilBlock } of penalties) {
      const key = getAddress(node)
      const stake = stakes.get(key) ?? 0n
      if (slashAmount > 0n && stake > 0n) stakes.set(key, stake - (slashAmount < stake ? slashAmount : stake))
      if (jailUntilBlock > (jailedUntil.get(key) ?? 0n)) jailedUntil.set(key, jailUntilBlock)
      refreshEligibility(key)
    }
  }

  async function submitBatch(batch: EpochBatch, signatures: readonly Hex[]): Promise<{ gasUsed: bigint }> {
    const digest = hashEpochBatch(batch, domain)
    // Recover first, check after: nothing may change between the checks and the write.
    const recovered = await Promise.all(signatures.map((signature) => recoverSigner(digest, signature)))
    const { epoch, totalFees, totalRewards, treasuryAmount } = batch
    const expected = BigInt(settledDigests.length)
    if (epoch !== expected) revert('SETTLEMENT_WRONG_EPOCH', { expected, got: epoch })
    const info = record(epoch)
    if (info === undefined) revert('SETTLEMENT_EPOCH_NOT_OPENED', { epoch })
    // Epochs here last until the next one opens (the caller's clock): a batch settles only after that.
    if (record(epoch + 1n) === undefined) revert('SETTLEMENT_EPOCH_NOT_ENDED', { epoch })
    if (totalRewards > totalFees || totalFees - totalRewards !== treasuryAmount) {
      revert('SETTLEMENT_UNBALANCED', { totalFees, totalRewards, treasuryAmount })
    }
    checkSignatures(epoch, info, recovered)
    settledDigests.push(digest)
    balancesRoot = batch.balancesRoot
    mine()
    applyPenalties(batch.penalties)
    return { gasUsed: 0n }
  }

  const punished = new Set<string>()

  /** Settlement.proveEquivocation: two different batches of one round of an epoch signed by one committee member. */
  async function proveEquivocation(a: EpochBatch, sigA: Hex, b: EpochBatch, sigB: Hex): Promise<void> {
    const [digestA, digestB] = [hashEpochBatch(a, domain), hashEpochBatch(b, domain)]
    if (a.epoch !== b.epoch || a.round !== b.round || digestA === digestB) revert('SETTLEMENT_NOT_EQUIVOCATION')
    const [x, y] = await Promise.all([recoverSigner(digestA, sigA), recoverSigner(digestB, sigB)])
    if ('error' in x) revert(x.error, x.details)
    if ('error' in y || y.signer !== x.signer) revert('SETTLEMENT_NOT_EQUIVOCATION')
    const key = `${a.epoch}/${x.signer}`
    if (punished.has(key)) revert('SETTLEMENT_ALREADY_PUNISHED', { epoch: a.epoch, signer: x.signer })
    if (weightOf(a.epoch, x.signer) === 0n) revert('SETTLEMENT_NOT_COMMITTEE_MEMBER', { signer: x.signer })
    punished.add(key)
    const stake = stakes.get(x.signer) ?? 0n
    mine()
    applyPenalties([{ node: x.signer, slashAmount: (stake * BigInt(values.equivocationSlashBps)) / 10_000n, jailUntilBlock: block + values.jailBlocks }])
  }

  async function epochFacts(epoch: bigint, requesters: readonly Address[], nodes: readonly Address[]): Promise<EpochFacts> {
    const info = record(epoch)
    if (info === undefined) revert('CHAIN_EPOCH_NOT_OPENED', { epoch })
    return {
      funded: new Map(requesters.map((r) => [r, info.funded.get(getAddress(r)) ?? 0n])),
      depositors: info.depositors,
      stakes: new Map(nodes.map((n) => [n, info.stakes.get(getAddress(n)) ?? 0n])),
      jailUntilBlock: info.snapshotBlock + values.jailBlocks,
      treasury,
      split: { executorsBps: values.executorsBps },
      dissentSlashBps: values.dissentSlashBps,
    }
  }

  function awaitEpoch(epoch: bigint, timeoutMs: number): Promise<boolean> {
    if (record(epoch) !== undefined) return Promise.resolve(true)
    return new Promise((resolve) => {
      const done = (opened: boolean): void => {
        clearTimeout(timer)
        waiters.delete(check)
        resolve(opened)
      }
      const check = (): void => {
        if (record(epoch) !== undefined) done(true)
      }
      const timer = setTimeout(() => done(false), timeoutMs)
      waiters.add(check)
    })
  }

  return {
    epoch: () => BigInt(epochs.length) - 1n,
    snapshot: (epoch) => view?.snapshot(epoch),
    loadSnapshot: async (epoch) => {
      const info = record(epoch)
      return view?.snapshot(epoch) ?? (info === undefined ? undefined : toEpochView(info.snapshot))
    },
    escrowBalance: (requester, epoch) => chargeableOf(record(epoch)?.funded.get(getAddress(requester)) ?? 0n, charged(requester)),
    awaitEpoch,
    epochFacts,
    lastSettledEpoch: async () => (settledDigests.length === 0 ? null : BigInt(settledDigests.length) - 1n),
    balancesRoot: async () => balancesRoot,
    settledDigest: async (epoch) => (epoch >= 0n ? (settledDigests[Number(epoch)] ?? null) : null),
    committeeWeight: async (epoch, node) => weightOf(epoch, node),
    requiredWeight: async (epoch) => {
      const info = record(epoch)
      return info === undefined ? 0n : requiredCommitteeWeight(info.totalEligibleStake)
    },
    submitBatch,
    proveEquivocation,
    isEquivocationPunished: async (epoch, node) => punished.has(`${epoch}/${getAddress(node)}`),
    async eligibilityOf(node) {
      const eligibleStake = eligibleStakes.get(getAddress(node)) ?? 0n
      return { eligibleStake, stale: eligibleNow(node) !== eligibleStake }
    },
    stake(node, amount) {
      if (amount <= 0n) throw new RangeError('stake: amount must be positive')
      const key = getAddress(node)
      stakes.set(key, (stakes.get(key) ?? 0n) + amount)
      refreshEligibility(key)
      mine()
    },
    async refreshEligibility(node) {
      refreshEligibility(node)
      mine()
    },
    advertiseCapabilities(node, list) {
      if (list.length === 0) throw new RangeError('advertiseCapabilities: at least one capability')
      capabilities.set(getAddress(node), [...list])
      mine()
    },
    deposit(requester, amount) {
      if (amount <= 0n) throw new RangeError('deposit: amount must be positive')
      const key = getAddress(requester)
      if (!deposited.has(key)) depositors.push(key)
      deposited.set(key, (deposited.get(key) ?? 0n) + amount)
      mine()
    },
    requestWithdrawal(requester, amount) {
      const key = getAddress(requester)
      if (amount <= 0n || amount > (deposited.get(key) ?? 0n)) throw new RangeError('requestWithdrawal: amount must be positive and deposited')
      pending.set(key, amount)
      mine()
    },
    openEpoch() {
      const epoch = BigInt(epochs.length)
      const info = snapshotNow(epoch)
      epochs.push(info)
      mine()
      if (view === undefined) view = createStaticChainView(info.snapshot)
      else view.update(info.snapshot)
      for (const check of [...waiters]) check()
      return epoch
    },
    blockNumber: () => block,
  }
}
