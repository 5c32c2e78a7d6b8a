import { encodeAbiParameters, getAddress, hexToBigInt, keccak256, stringToBytes, zeroHash } from 'viem'
import { requiredCommitteeWeight } from '../../core/committee.ts'
import { devnetDomain } from '../../core/eip712.ts'
import { hashEpochBatch } from '../../core/epochBatch.ts'
import type { EpochBatch, Penalty } from '../../core/epochBatch.ts'
import type { EpochFacts } from '../../core/epochProposal.ts'
import { VeritaskError } from '../../core/errors.ts'
import { chargeableOf, fundedOf } from '../../core/escrow.ts'
import type { ProtocolParams } from '../../core/params.ts'
import type { Address, Hex, ProtocolDomain } from '../../core/types.ts'
import type { ChainView, EpochView } from '../../ports/node.ts'
import type { AggregateSignature, CommitteeMember, SettlementPort } from '../../ports/settlement.ts'
import { aggregateBlsPublicKeys, blsPopMessage, eip2537ToBlsSignature, isCanonicalG1, verifyBlsSignature } from '../../crypto/bls.ts'
import { defaultNetworkParameters, toProtocolParams } from '../governance/parameters.ts'
import type { NetworkParameterValues } from '../governance/parameters.ts'
import { createInstantAnchors } from './anchorSources.ts'
import { createInstantBlocks } from './blockSources.ts'
import { createStaticChainView, toEpochView } from './createStaticChainView.ts'
import type { EpochSnapshot, SnapshotChainView, StaticNode } from './createStaticChainView.ts'

/**
 * Why the in-memory chain refused a call: Settlement.sol's and StakeManager.sol's custom errors
 * under the project's code names, with the same named arguments in `details`.
 */
export type ChainRevertCode =
  | 'SETTLEMENT_WRONG_EPOCH'
  | 'SETTLEMENT_EPOCH_NOT_OPENED'
  | 'SETTLEMENT_EPOCH_NOT_ENDED'
  | 'SETTLEMENT_UNBALANCED'
  | 'SETTLEMENT_NON_SIGNERS_NOT_SORTED'
  | 'SETTLEMENT_NOT_COMMITTEE_MEMBER'
  | 'SETTLEMENT_INSUFFICIENT_SIGNATURES'
  | 'SETTLEMENT_INVALID_SIGNATURE'
  | 'CHAIN_EPOCH_NOT_OPENED'
  | 'SETTLEMENT_NOT_EQUIVOCATION'
  | 'SETTLEMENT_ALREADY_PUNISHED'
  | 'STAKE_MANAGER_BLS_KEY_ALREADY_REGISTERED'
  | 'STAKE_MANAGER_INVALID_BLS_KEY'
  | 'STAKE_MANAGER_BLS_KEY_TAKEN'
  | 'STAKE_MANAGER_INVALID_PROOF_OF_POSSESSION'

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
  /** StakeManager.signingStakeAt the snapshot block (eligible stake of nodes with a BLS key): the committee. */
  committee: readonly CommitteeMember[]
  totalSigningStake: bigint
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
  /** `StakeManager.stakeOf`: the node's active stake, after any slash. */
  stakeOf(node: Address): bigint
  /** `StakeManager.jailedUntil`: the block the node's jail ends (0 if never jailed). */
  jailedUntil(node: Address): bigint
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


/** A proof of possession (EIP-2537 G2) checked as the contract does: a signature of the PoP message. */
function verifyBlsProof(message: Hex, proof: Hex, publicKey: Hex): boolean {
  try {
    return verifyBlsSignature(message, eip2537ToBlsSignature(proof), publicKey)
  } catch {
    return false
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
  // Task draws are known at once (`createInstantBlocks`): this chain's blocks are its writes, not a
  // clock. Anchors go with them (`createInstantAnchors`).
  const blocks = createInstantBlocks(seed)
  const anchors = createInstantAnchors()
  const values: NetworkParameterValues = { ...defaultNetworkParameters, ...parameters }
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
  /** Registered BLS keys (EIP-2537 G1), and which node holds each. */
  const blsKeys = new Map<Address, Hex>()
  const blsKeyOwners = new Map<Hex, Address>()

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
    const committee = [...eligibleStakes]
      .filter(([node, stake]) => stake > 0n && blsKeys.has(node))
      .sort(([a], [b]) => byAddress(a, b))
      .map(([node, weight]) => ({ node, weight, publicKey: blsKeys.get(node)! }))
    const totalSigningStake = committee.reduce((sum, member) => sum + member.weight, 0n)
    return { snapshot, snapshotBlock, stakes: new Map(stakes), committee, totalSigningStake, funded, depositors: [...depositors] }
  }

  /** As Settlement: the signing stake at the snapshot; a later jail does not change the committee. */
  function weightOf(epoch: bigint, node: Address): bigint {
    const key = getAddress(node)
    return record(epoch)?.committee.find((member) => member.node === key)?.weight ?? 0n
  }

  /**
   * Settlement._checkAggregate: the snapshot's signing set less the sorted non-signers holds at
   * least the required stake, and the aggregate signature verifies against its aggregate key.
   */
  const punished = new Set<string>()

  function checkAggregate(info: EpochRecord, digest: Hex, { signature, nonSigners }: AggregateSignature): void {
    const members = new Map(info.committee.map((member) => [member.node, member]))
    const excluded = new Set<Address>()
    let unsigned = 0n
    let previous = 0n
    for (const node of nonSigners) {
      if (hexToBigInt(node) <= previous) revert('SETTLEMENT_NON_SIGNERS_NOT_SORTED')
      previous = hexToBigInt(node)
      const member = members.get(getAddress(node))
      if (member === undefined) revert('SETTLEMENT_NOT_COMMITTEE_MEMBER', { node })
      unsigned += member.weight
      excluded.add(member.node)
    }
    const signed = info.totalSigningStake - unsigned
    const required = requiredCommitteeWeight(info.totalSigningStake)
    if (signed < required || signed === 0n) revert('SETTLEMENT_INSUFFICIENT_SIGNATURES', { signed, required })
    const signers = info.committee.filter((member) => !excluded.has(member.node)).map((member) => member.publicKey)
    if (!verifyBlsSignature(digest, signature, aggregateBlsPublicKeys(signers))) revert('SETTLEMENT_INVALID_SIGNATURE')
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

  async function submitBatch(batch: EpochBatch, signed: AggregateSignature): Promise<{ gasUsed: bigint }> {
    const digest = hashEpochBatch(batch, domain)
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
    checkAggregate(info, digest, signed)
    settledDigests.push(digest)
    balancesRoot = batch.balancesRoot
    mine()
    applyPenalties(batch.penalties)
    return { gasUsed: 0n }
  }

  /** Settlement.proveEquivocation: two different batches of one round of an epoch signed by one committee member. */
  async function proveEquivocation(a: EpochBatch, sigA: Hex, b: EpochBatch, sigB: Hex, signer: Address): Promise<void> {
    const [digestA, digestB] = [hashEpochBatch(a, domain), hashEpochBatch(b, domain)]
    if (a.epoch !== b.epoch || a.round !== b.round || digestA === digestB) revert('SETTLEMENT_NOT_EQUIVOCATION')
    const node = getAddress(signer)
    const key = `${a.epoch}/${node}`
    if (punished.has(key)) revert('SETTLEMENT_ALREADY_PUNISHED', { epoch: a.epoch, signer: node })
    const member = record(a.epoch)?.committee.find((m) => m.node === node)
    if (member === undefined) revert('SETTLEMENT_NOT_COMMITTEE_MEMBER', { node })
    if (!verifyBlsSignature(digestA, sigA, member.publicKey) || !verifyBlsSignature(digestB, sigB, member.publicKey)) revert('SETTLEMENT_NOT_EQUIVOCATION')
    punished.add(key)
    const stake = stakes.get(node) ?? 0n
    mine()
    applyPenalties([{ node, slashAmount: (stake * BigInt(values.equivocationSlashBps)) / 10_000n, jailUntilBlock: block + values.jailBlocks }])
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
    head: () => blocks.head(),
    blockHash: (block) => blocks.blockHash(block),
    awaitBlock: (block, timeoutMs) => blocks.awaitBlock(block, timeoutMs),
    anchorOf: (requester, root) => anchors.anchorOf(requester, root),
    awaitEpoch,
    epochFacts,
    lastSettledEpoch: async () => (settledDigests.length === 0 ? null : BigInt(settledDigests.length) - 1n),
    balancesRoot: async () => balancesRoot,
    settledDigest: async (epoch) => (epoch >= 0n ? (settledDigests[Number(epoch)] ?? null) : null),
    committeeWeight: async (epoch, node) => weightOf(epoch, node),
    requiredWeight: async (epoch) => {
      const info = record(epoch)
      return info === undefined ? 0n : requiredCommitteeWeight(info.totalSigningStake)
    },
    committee: async (epoch) => record(epoch)?.committee ?? [],
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
    stakeOf: (node) => stakes.get(getAddress(node)) ?? 0n,
    jailedUntil: (node) => jailedUntil.get(getAddress(node)) ?? 0n,
    hasBlsKey: async (node) => blsKeys.has(getAddress(node)),
    async registerBlsKey(node, publicKey, proof) {
      const key = getAddress(node)
      if (blsKeys.has(key)) revert('STAKE_MANAGER_BLS_KEY_ALREADY_REGISTERED', { node: key })
      const lower = publicKey.toLowerCase() as Hex
      // As BLS12381.isCanonical and isInfinity: a point off the curve fails the proof's check instead.
      if (!isCanonicalG1(lower) || /^0x0*$/.test(lower)) revert('STAKE_MANAGER_INVALID_BLS_KEY')
      const owner = blsKeyOwners.get(lower)
      if (owner !== undefined) revert('STAKE_MANAGER_BLS_KEY_TAKEN', { owner })
      if (!verifyBlsProof(blsPopMessage(key, lower), proof, lower)) revert('STAKE_MANAGER_INVALID_PROOF_OF_POSSESSION')
      blsKeys.set(key, lower)
      blsKeyOwners.set(lower, key)
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
