import { encodeAbiParameters, hashTypedData, keccak256, zeroHash } from 'viem'
import { eip712Domain, outcomeCode } from './eip712.ts'
import { createMerkleTree } from './merkleTree.ts'
import type { MerkleTree } from './merkleTree.ts'
import type { Address, Hex, ProtocolDomain, Verdict } from './types.ts'

/**
 * Epoch settlement, the pure part: from the verdicts of one epoch and the balances before it,
 * build the `EpochBatch` the committee signs and the contract accepts, with two Merkle trees in
 * OpenZeppelin's standard format (double-hashed `abi.encode` leaves, sorted pairs):
 *
 * - outcomes: one leaf per task, `(taskId, resultHash, status, executors)` — receipts prove these;
 * - balances: one leaf per account, `(account, cumulativeEarned, cumulativeCharged)` since genesis —
 *   nodes claim earnings and requesters withdraw against the latest root (pull payments), so the
 *   chain writes O(1) per epoch however many tasks and accounts there are.
 */

export const outcomeLeafEncoding = ['bytes32', 'bytes32', 'uint8', 'address[]'] as const
export const balanceLeafEncoding = ['address', 'uint256', 'uint256'] as const

export type OutcomeLeaf = [taskId: Hex, resultHash: Hex, status: number, executors: Address[]]
export type BalanceLeaf = [account: Address, cumulativeEarned: bigint, cumulativeCharged: bigint]

export interface Penalty {
  node: Address
  slashAmount: bigint
  jailUntilBlock: bigint
}

export interface EpochBatch {
  epoch: bigint
  /** The settlement round: a member signs one batch per round of an epoch (docs/protocol.md). */
  round: number
  outcomesRoot: Hex
  balancesRoot: Hex
  taskCount: number
  totalFees: bigint
  totalRewards: bigint
  treasuryAmount: bigint
  penalties: Penalty[]
}

export interface Balance {
  earned: bigint
  charged: bigint
}

/** A decided task as settlement sees it: its verdict, who pays what, and who withheld. */
export interface SettledTask {
  verdict: Verdict
  requester: Address
  fee: bigint
  /** Committers that did not reveal in time: penalised as dissenters are. */
  withheld?: readonly Address[]
}

/** How faults turn into penalties in the batch. */
export interface PenaltyRules {
  /** Stake of each node at the epoch's snapshot. */
  stakes: ReadonlyMap<Address, bigint>
  /** Share of its stake a node loses per dissenting reveal, and per commit it did not reveal, in basis points. */
  dissentSlashBps: number
  /** Every penalised node is jailed until this block. */
  jailUntilBlock: bigint
}

export interface RewardSplit {
  /** Share of each charged fee paid to the agreeing executors, in basis points; the rest is the treasury's. */
  executorsBps: number
}

export interface BuildEpochBatchParameters {
  epoch: bigint
  /** The settlement round; 0 when absent. */
  round?: number
  tasks: readonly SettledTask[]
  /** Cumulative balances after the previous epoch (empty at genesis). */
  previous: ReadonlyMap<Address, Balance>
  /**
   * What each requester can still be charged: escrow deposits less everything charged or withdrawn
   * so far. When an epoch's fees exceed it, that requester's fees are scaled down pro rata.
   */
  chargeable: ReadonlyMap<Address, bigint>
  /** Accounts that must appear in the balances tree even without activity (e.g. depositors). */
  accounts?: readonly Address[]
  treasury: Address
  split: RewardSplit
  penalties?: PenaltyRules
}

export interface EpochBatchResult {
  batch: EpochBatch
  /** Null for an epoch without tasks (its root is zero). */
  outcomes: MerkleTree<OutcomeLeaf> | null
  /** Null while no account has a balance (its root is zero). */
  balances: MerkleTree<BalanceLeaf> | null
  /** Cumulative balances after this epoch: the `previous` of the next one. */
  cumulative: Map<Address, Balance>
}

const BPS = 10_000n

function addTo(map: Map<Address, Balance>, account: Address, delta: Partial<Balance>): void {
  const current = map.get(account) ?? { earned: 0n, charged: 0n }
  map.set(account, { earned: current.earned + (delta.earned ?? 0n), charged: current.charged + (delta.charged ?? 0n) })
}

function byAddress(a: string, b: string): number {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  return x < y ? -1 : x > y ? 1 : 0
}

/**
 * Builds the batch of one epoch. Deterministic: tasks are taken in task-id order and every
 * amount is integer arithmetic, so every committee member that saw the same verdicts builds the
 * same roots. Unresolved tasks are recorded but not charged (the requester is refunded).
 */
export function buildEpochBatch({
  epoch,
  round = 0,
  tasks,
  previous,
  chargeable,
  accounts = [],
  treasury,
  split,
  penalties: rules,
}: BuildEpochBatchParameters): EpochBatchResult {
  const sorted = [...tasks].sort((a, b) => byAddress(a.verdict.taskId, b.verdict.taskId))

  // What each requester owes this epoch, then the pro-rata factor where escrow falls short.
  const owed = new Map<Address, bigint>()
  for (const t of sorted) {
    if (t.verdict.outcome !== 'unresolved') owed.set(t.requester, (owed.get(t.requester) ?? 0n) + t.fee)
  }
  const charge = (t: SettledTask): bigint => {
    if (t.verdict.outcome === 'unresolved') return 0n
    const total = owed.get(t.requester) ?? 0n
    const available = chargeable.get(t.requester) ?? 0n
    return total <= available ? t.fee : (t.fee * available) / total
  }

  const cumulative = new Map<Address, Balance>(previous)
  let totalFees = 0n
  let totalRewards = 0n
  for (const t of sorted) {
    const fee = charge(t)
    if (fee === 0n) continue
    totalFees += fee
    addTo(cumulative, t.requester, { charged: fee })
    const executors = t.verdict.executors
    const pool = (fee * BigInt(split.executorsBps)) / BPS
    const each = executors.length === 0 ? 0n : pool / BigInt(executors.length)
    for (const executor of executors) addTo(cumulative, executor, { earned: each })
    totalRewards += each * BigInt(executors.length)
  }
  const treasuryAmount = totalFees - totalRewards
  if (treasuryAmount > 0n) addTo(cumulative, treasury, { earned: treasuryAmount })
  for (const account of accounts) if (!cumulative.has(account)) cumulative.set(account, { earned: 0n, charged: 0n })

  const outcomes = buildOutcomesTree(sorted)
  const balanceLeaves: BalanceLeaf[] = [...cumulative]
    .sort(([a], [b]) => byAddress(a, b))
    .map(([account, { earned, charged }]) => [account, earned, charged])
  const balances = balanceLeaves.length === 0 ? null : createMerkleTree(balanceLeaves, balanceLeafEncoding)

  return {
    batch: {
      epoch,
      round,
      outcomesRoot: outcomes?.root ?? zeroHash,
      balancesRoot: balances?.root ?? zeroHash,
      taskCount: sorted.length,
      totalFees,
      totalRewards,
      treasuryAmount,
      penalties: rules === undefined ? [] : penaltiesOf(sorted, rules),
    },
    outcomes,
    balances,
    cumulative,
  }
}

/**
 * Dissenters and withholders lose `dissentSlashBps` of their snapshot stake per fault (at most all
 * of it) and are jailed. Withholding costs what a caught lie costs, so a lie that would be caught
 * cannot be saved by not revealing it (docs/economics.md). Sorted by address, one entry per node.
 */
function penaltiesOf(tasks: readonly SettledTask[], rules: PenaltyRules): Penalty[] {
  const faults = new Map<Address, number>()
  for (const t of tasks) for (const node of [...t.verdict.dissenters, ...(t.withheld ?? [])]) faults.set(node, (faults.get(node) ?? 0) + 1)
  return [...faults.keys()].sort(byAddress).map((node) => {
    const stake = rules.stakes.get(node) ?? 0n
    const slash = (stake * BigInt(rules.dissentSlashBps) * BigInt(faults.get(node) ?? 0)) / BPS
    return { node, slashAmount: slash < stake ? slash : stake, jailUntilBlock: rules.jailUntilBlock }
  })
}

/** keccak256(abi.encode(penalties)), as `Settlement.penaltiesHash` computes it. */
export function hashPenalties(penalties: readonly Penalty[]): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        {
          type: 'tuple[]',
          components: [
            { name: 'node', type: 'address' },
            { name: 'slashAmount', type: 'uint256' },
            { name: 'jailUntilBlock', type: 'uint64' },
          ],
        },
      ],
      [penalties.map((p) => ({ node: p.node, slashAmount: p.slashAmount, jailUntilBlock: p.jailUntilBlock }))],
    ),
  )
}

export const epochBatchTypes = {
  EpochBatch: [
    { name: 'epoch', type: 'uint64' },
    { name: 'round', type: 'uint32' },
    { name: 'outcomesRoot', type: 'bytes32' },
    { name: 'balancesRoot', type: 'bytes32' },
    { name: 'taskCount', type: 'uint32' },
    { name: 'totalFees', type: 'uint256' },
    { name: 'totalRewards', type: 'uint256' },
    { name: 'treasuryAmount', type: 'uint256' },
    { name: 'penaltiesHash', type: 'bytes32' },
  ],
} as const

/** The EIP-712 digest committee members sign; `verifyingContract` is the settlement contract. */
export function hashEpochBatch(batch: EpochBatch, domain: ProtocolDomain): Hex {
  return hashTypedData({
    domain: eip712Domain(domain),
    types: epochBatchTypes,
    primaryType: 'EpochBatch',
    message: {
      epoch: batch.epoch,
      round: batch.round,
      outcomesRoot: batch.outcomesRoot,
      balancesRoot: batch.balancesRoot,
      taskCount: batch.taskCount,
      totalFees: batch.totalFees,
      totalRewards: batch.totalRewards,
      treasuryAmount: batch.treasuryAmount,
      penaltiesHash: hashPenalties(batch.penalties),
    },
  })
}

/** The outcomes tree of an epoch's tasks (null when there are none): what receipts prove against. */
export function buildOutcomesTree(tasks: readonly Pick<SettledTask, 'verdict'>[]): MerkleTree<OutcomeLeaf> | null {
  if (tasks.length === 0) return null
  const sorted = [...tasks].sort((a, b) => byAddress(a.verdict.taskId, b.verdict.taskId))
  return createMerkleTree(sorted.map((t) => outcomeLeafOf(t.verdict)), outcomeLeafEncoding)
}

/** The outcome leaf of a verdict, in the order `verifyReceipt` takes it. */
export function outcomeLeafOf(verdict: Verdict): OutcomeLeaf {
  return [verdict.taskId, verdict.resultHash, outcomeCode[verdict.outcome], verdict.executors]
}
