import { zeroHash } from 'viem'
import { z } from 'zod'
import { buildEpochBatch, balanceLeafEncoding } from './epochBatch.ts'
import type { Balance, BalanceLeaf, EpochBatchResult, RewardSplit, SettledTask } from './epochBatch.ts'
import { MessageRejectedError } from './errors.ts'
import { chargeableOf } from './escrow.ts'
import { createMerkleTree } from './merkleTree.ts'
import { address, hex32, smallUint, uint } from './messages.ts'
import type { Address, Hex } from './types.ts'

/**
 * What an aggregator hands the committee for one epoch, as a content-addressed blob: the tasks it
 * settles (with the reveals it saw, the evidence members check) and the cumulative balances the
 * batch builds on. Members need no memory of earlier epochs: `previous` is checked against the
 * balances root the chain holds.
 */
export interface EpochProposal {
  epoch: bigint
  previous: ReadonlyMap<Address, Balance>
  tasks: readonly SettledTask[]
}

/** What every member reads from the chain for the epoch, identically: the rest of the batch's inputs. */
export interface EpochFacts {
  /**
   * What each requester's escrow funds at the epoch's snapshot block: deposits less withdrawals
   * less its pending withdrawal (`fundedOf`, core/escrow.ts). A requester not listed is funded 0.
   */
  funded: ReadonlyMap<Address, bigint>
  /**
   * Every account that had deposited by the snapshot block (`Escrow.depositorAt`): each gets a
   * balance leaf, so a depositor never charged can still prove its charges and withdraw.
   */
  depositors?: readonly Address[]
  /** Stake of each node at the snapshot block (dissent slashes are a share of it). */
  stakes: ReadonlyMap<Address, bigint>
  jailUntilBlock: bigint
  treasury: Address
  split: RewardSplit
  dissentSlashBps: number
}

/** Builds the epoch's batch from a proposal and the chain's facts: what every member signs. */
export function settleProposal(proposal: EpochProposal, facts: EpochFacts): EpochBatchResult {
  // The spending rule: what it funded at the snapshot less what earlier epochs already charged.
  const chargeable = new Map<Address, bigint>()
  for (const [requester, funded] of facts.funded) {
    chargeable.set(requester, chargeableOf(funded, proposal.previous.get(requester)?.charged ?? 0n))
  }
  return buildEpochBatch({
    epoch: proposal.epoch,
    tasks: proposal.tasks,
    previous: proposal.previous,
    chargeable,
    accounts: facts.depositors ?? [],
    treasury: facts.treasury,
    split: facts.split,
    penalties: { stakes: facts.stakes, dissentSlashBps: facts.dissentSlashBps, jailUntilBlock: facts.jailUntilBlock },
  })
}

/** The root of a cumulative-balances map, as `buildEpochBatch` builds it: zero when empty. */
export function balancesRootOf(balances: ReadonlyMap<Address, Balance>): Hex {
  if (balances.size === 0) return zeroHash
  const leaves: BalanceLeaf[] = [...balances]
    .sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))
    .map(([account, { earned, charged }]) => [account, earned, charged])
  return createMerkleTree(leaves, balanceLeafEncoding).root
}

const observedReveal = z.strictObject({ executor: address, status: z.enum(['ok', 'failed']), resultHash: hex32 })
const settledTask = z.strictObject({
  verdict: z.strictObject({
    taskId: hex32,
    outcome: z.enum(['verified', 'failed', 'unresolved']),
    resultHash: hex32,
    executors: z.array(address).max(256),
    dissenters: z.array(address).max(256),
  }),
  requester: address,
  fee: uint(256),
  quorum: smallUint(0xffff),
  missed: z.array(address).max(256),
  reveals: z.array(observedReveal).max(256),
})
const epochProposal = z.strictObject({
  epoch: uint(64),
  previous: z.array(z.tuple([address, uint(256), uint(256)])),
  tasks: z.array(settledTask),
})

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

export function encodeEpochProposal(proposal: EpochProposal): Uint8Array {
  const wire = {
    epoch: proposal.epoch,
    previous: [...proposal.previous].map(([account, { earned, charged }]) => [account, earned, charged]),
    tasks: proposal.tasks.map((t) => ({ ...t, missed: t.missed ?? [], reveals: t.reveals ?? [] })),
  }
  return encoder.encode(JSON.stringify(wire, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)))
}

/** Decodes and schema-checks a proposal blob fetched from a peer. */
export function decodeEpochProposal(bytes: Uint8Array): EpochProposal {
  let json: unknown
  try {
    json = JSON.parse(decoder.decode(bytes))
  } catch (cause) {
    throw new MessageRejectedError('MESSAGE_MALFORMED', 'The epoch proposal is not valid UTF-8 JSON.', { cause })
  }
  const parsed = epochProposal.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new MessageRejectedError('MESSAGE_MALFORMED', `The epoch proposal does not match its schema: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}.`)
  }
  const { epoch, previous, tasks } = parsed.data
  return {
    epoch,
    previous: new Map(previous.map(([account, earned, charged]) => [account, { earned, charged }])),
    tasks,
  }
}
