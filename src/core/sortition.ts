import { writeHex } from './hexBytes.ts'
import { keccak256Hex } from './keccak.ts'
import type { Address, Hex } from './types.ts'

/** A node that may be assigned work, with its sortition weight (its stake at the epoch snapshot). */
export interface Candidate {
  address: Address
  weight: bigint
}

export interface RankCandidatesParameters {
  /** Public randomness of the epoch (from the chain at the epoch boundary). */
  seed: Hex
  taskId: Hex
  /**
   * The eligible nodes with their weights, in any order. The list is indexed on its first use and
   * the index reused while the list lives, so a list must not change once ranked against.
   */
  candidates: readonly Candidate[]
  /** How many to return; all when omitted. */
  count?: number
}

/**
 * The cumulative-stake table of one candidate list: candidates in address order with their
 * weights in a Fenwick tree, so that "the candidate under point x of the stake line" and "take a
 * candidate's stake off the line" each cost O(log N). Built once per list (per epoch snapshot and
 * capability) and shared by every task ranked against it.
 */
interface StakeTable {
  readonly addresses: readonly Address[]
  readonly weights: readonly bigint[]
  /** Fenwick tree over `weights`, 1-based: tree[i] sums weights (i − lowbit(i), i]. */
  readonly tree: bigint[]
  readonly total: bigint
  /** The largest power of two not above the number of candidates: where a descent starts. */
  readonly top: number
}

/**
 * Tables by candidate list. An epoch view hands out the same list for every task of a runtime, so
 * each list is indexed once; the cache is a memo of a pure function, keyed by identity, and goes
 * away with the list.
 */
const tables = new WeakMap<readonly Candidate[], StakeTable>()

function stakeTableOf(candidates: readonly Candidate[]): StakeTable {
  let table = tables.get(candidates)
  if (table === undefined) {
    table = createStakeTable(candidates)
    tables.set(candidates, table)
  }
  return table
}

function createStakeTable(candidates: readonly Candidate[]): StakeTable {
  // One entry per address, in address order, so the table does not depend on the list's order; an
  // address listed twice counts once, with the sum of its weights.
  const byAddress = new Map<string, { address: Address; weight: bigint }>()
  for (const c of candidates) {
    if (c.weight <= 0n) continue
    const key = c.address.toLowerCase()
    const seen = byAddress.get(key)
    if (seen === undefined) byAddress.set(key, { address: c.address, weight: c.weight })
    else seen.weight += c.weight
  }
  const keys = [...byAddress.keys()].sort()
  const addresses = keys.map((k) => byAddress.get(k)!.address)
  const weights = keys.map((k) => byAddress.get(k)!.weight)
  const tree = new Array<bigint>(weights.length + 1).fill(0n)
  for (let i = 1; i <= weights.length; i++) {
    tree[i] = tree[i]! + weights[i - 1]!
    const parent = i + (i & -i)
    if (parent <= weights.length) tree[parent] = tree[parent]! + tree[i]!
  }
  let top = 1
  while (top * 2 <= weights.length) top *= 2
  return { addresses, weights, tree, total: weights.reduce((a, b) => a + b, 0n), top }
}

function addWeight(table: StakeTable, index: number, delta: bigint): void {
  for (let i = index + 1; i < table.tree.length; i += i & -i) table.tree[i] = table.tree[i]! + delta
}

/** The index whose stretch of the stake line holds `point` (0 ≤ point < the weight left). */
function findPoint(table: StakeTable, point: bigint): number {
  let index = 0
  let rest = point
  for (let step = table.top; step > 0; step >>= 1) {
    const next = index + step
    if (next < table.tree.length && table.tree[next]! <= rest) {
      index = next
      rest -= table.tree[next]!
    }
  }
  return index // 0-based: `index` candidates lie wholly below the point
}

/** Writes `value` as a big-endian uint32 at `offset` (a draw's index in its hashed preimage). */
function writeUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24
  bytes[offset + 1] = (value >>> 16) & 0xff
  bytes[offset + 2] = (value >>> 8) & 0xff
  bytes[offset + 3] = value & 0xff
}

/**
 * Stake-weighted sortition without a scheduler, in O(k log N) for the first k places. The
 * candidates lie on a stake line in address order; draw j takes the point
 * keccak256(seed ‖ taskId ‖ uint32 j) mod (stake not yet drawn) and picks the candidate whose
 * stretch holds it, then takes that stretch off the line. The first place goes to a node with
 * probability weight / Σ weight, and each later one likewise among the nodes not yet drawn
 * (successive sampling without replacement, the same law as the Efraimidis–Spirakis ranking this
 * replaced). Integer arithmetic only, so every node computes the same order. The modulo's bias is
 * below Σ weight / 2^256.
 */
export function rankCandidates({ seed, taskId, candidates, count }: RankCandidatesParameters): Address[] {
  const table = stakeTableOf(candidates)
  const wanted = count === undefined ? table.addresses.length : Math.min(count, table.addresses.length)
  // encodePacked(bytes32 seed, bytes32 taskId, uint32 draw): the first 64 bytes are the same for all.
  const packed = new Uint8Array(68)
  writeHex(packed, 0, seed, 32, 'seed')
  writeHex(packed, 32, taskId, 32, 'taskId')
  const picked: number[] = []
  let left = table.total
  try {
    for (let draw = 0; draw < wanted; draw++) {
      writeUint32(packed, 64, draw)
      const index = findPoint(table, BigInt(keccak256Hex(packed)) % left)
      picked.push(index)
      const weight = table.weights[index]!
      addWeight(table, index, -weight)
      left -= weight
    }
  } finally {
    // The table is shared: put back what this ranking took off it.
    for (const index of picked) addWeight(table, index, table.weights[index]!)
  }
  return picked.map((index) => table.addresses[index]!)
}

export interface DrawSeatsParameters {
  /** Randomness nobody could choose (a task's seed, `taskSeed`). */
  seed: Hex
  taskId: Hex
  /** The eligible nodes with their weights; the same list rules as `rankCandidates`. */
  candidates: readonly Candidate[]
  count: number
}

/** keccak256("veritask/seats"): keeps these draws apart from a ranking's over the same seed and task. */
const SEATS_TAG = keccak256Hex(new TextEncoder().encode('veritask/seats'))

/**
 * Stake-weighted seats drawn **with** replacement, in O(count log N): draw j takes the point
 * keccak256(seed ‖ taskId ‖ SEATS_TAG ‖ uint32 j) mod (total stake) and seats the node whose
 * stretch holds it, so a node holds about `count × its share` seats, each one a vote. How many
 * seats a coalition holds is then `Binomial(count, its stake share)` however it splits its stake
 * over nodes: many small nodes hold no more votes than one large one (a ranking without
 * replacement, one vote per node, lets a third of the stake spread over many nodes outvote fewer,
 * larger honest ones).
 */
export function drawSeats({ seed, taskId, candidates, count }: DrawSeatsParameters): Address[] {
  const table = stakeTableOf(candidates)
  if (table.total === 0n) return []
  const packed = new Uint8Array(100)
  writeHex(packed, 0, seed, 32, 'seed')
  writeHex(packed, 32, taskId, 32, 'taskId')
  writeHex(packed, 64, SEATS_TAG, 32, 'tag')
  const seats: Address[] = []
  for (let draw = 0; draw < count; draw++) {
    writeUint32(packed, 96, draw)
    seats.push(table.addresses[findPoint(table, BigInt(keccak256Hex(packed)) % table.total)]!)
  }
  return seats
}
