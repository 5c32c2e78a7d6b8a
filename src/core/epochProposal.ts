import { zeroHash } from 'viem'
import { z } from 'zod'
import { buildEpochBatch, balanceLeafEncoding } from './epochBatch.ts'
import type { Balance, BalanceLeaf, EpochBatchResult, RewardSplit, SettledTask } from './epochBatch.ts'
import { MessageRejectedError } from './errors.ts'
import { chargeableOf } from './escrow.ts'
import { createMerkleTree } from './merkleTree.ts'
import { address, auditDrawSchema, challengeSchema, commitSchema, hex32, MAX_BATCH_ITEMS, revealSchema, signature, signedSpecSchema, smallUint, uint } from './messages.ts'
import type { BatchSeal, Sealed } from './seal.ts'
import type { TaskCertificate } from './certificate.ts'
import { MAX_ARBITRATION_SEATS } from './params.ts'
import type { Address, Hex, SignedSpec, Verdict } from './types.ts'

/**
 * What an aggregator hands the committee for one epoch, as a content-addressed blob: the
 * certificate of every task it settles, with the verdict it claims for it (members derive their
 * own from the certificate and refuse any other), and the cumulative balances the batch builds
 * on. Members need no memory of earlier epochs: `previous` is checked against the balances root
 * the chain holds.
 */
export interface EpochProposal {
  epoch: bigint
  previous: ReadonlyMap<Address, Balance>
  tasks: readonly ProposedTask[]
}

export interface ProposedTask {
  certificate: TaskCertificate
  verdict: Verdict
}

/** What a batch is built from: checked tasks on top of the balances before the epoch. */
export interface EpochSettlement {
  epoch: bigint
  /** The settlement round the batch is built for; 0 when absent. */
  round?: number
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

/** Builds the epoch's batch from its checked tasks and the chain's facts: what every member signs. */
export function settleProposal(proposal: EpochSettlement, facts: EpochFacts): EpochBatchResult {
  // The spending rule: what it funded at the snapshot less what earlier epochs already charged.
  const chargeable = new Map<Address, bigint>()
  for (const [requester, funded] of facts.funded) {
    chargeable.set(requester, chargeableOf(funded, proposal.previous.get(requester)?.charged ?? 0n))
  }
  return buildEpochBatch({
    epoch: proposal.epoch,
    round: proposal.round ?? 0,
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

const sealRef = <T extends z.ZodType>(message: T) => z.strictObject({ message, seal: smallUint(0xffffffff), index: smallUint(MAX_BATCH_ITEMS - 1) })
const proposedTask = z.strictObject({
  spec: signedSpecSchema,
  commits: z.array(sealRef(commitSchema)).max(256),
  reveals: z.array(sealRef(revealSchema)).max(256),
  challenge: z.strictObject({ message: challengeSchema, signer: address, signature, draw: auditDrawSchema }).optional(),
  arbitration: z.strictObject({ commits: z.array(sealRef(commitSchema)).max(MAX_ARBITRATION_SEATS), reveals: z.array(sealRef(revealSchema)).max(MAX_ARBITRATION_SEATS) }).optional(),
  verdict: z.strictObject({
    taskId: hex32,
    outcome: z.enum(['verified', 'failed', 'unresolved']),
    resultHash: hex32,
    executors: z.array(address).max(256 + MAX_ARBITRATION_SEATS),
    dissenters: z.array(address).max(256 + MAX_ARBITRATION_SEATS),
  }),
})
const seal = z.strictObject({
  kind: z.enum(['commits', 'reveals']),
  signer: address,
  signature,
  itemHashes: z.array(hex32).min(1).max(MAX_BATCH_ITEMS),
})
const epochProposal = z.strictObject({
  epoch: uint(64),
  previous: z.array(z.tuple([address, uint(256), uint(256)])),
  /** Every batch seal the certificates use, once: items name theirs by index. */
  seals: z.array(seal),
  tasks: z.array(proposedTask),
})

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * The proposal blob: JSON, with each batch seal written once (a batch's items are spread over many
 * certificates) and items naming theirs by index.
 */
export function encodeEpochProposal(proposal: EpochProposal): Uint8Array {
  const seals = new Map<BatchSeal, number>()
  const ref = <T>({ message, seal, index }: Sealed<T>) => {
    if (!seals.has(seal)) seals.set(seal, seals.size)
    return { message, seal: seals.get(seal)!, index }
  }
  const tasks = proposal.tasks.map(({ certificate: { spec, commits, reveals, challenge, arbitration }, verdict }) => ({
    spec,
    commits: commits.map(ref),
    reveals: reveals.map(ref),
    ...(challenge === undefined ? {} : { challenge }),
    ...(arbitration === undefined ? {} : { arbitration: { commits: arbitration.commits.map(ref), reveals: arbitration.reveals.map(ref) } }),
    verdict,
  }))
  const wire = {
    epoch: proposal.epoch,
    previous: [...proposal.previous].map(([account, { earned, charged }]) => [account, earned, charged]),
    seals: [...seals.keys()],
    tasks,
  }
  return encoder.encode(JSON.stringify(wire, (_key, value) => (typeof value === 'bigint' ? value.toString() : value)))
}

/** Decodes and schema-checks a proposal blob fetched from a peer. Signatures are checked with the certificates. */
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
  const { epoch, previous, seals, tasks } = parsed.data
  const sealed = <T>(kind: BatchSeal['kind'], { message, seal: i, index }: { message: T; seal: number; index: number }): Sealed<T> => {
    const seal = seals[i]
    if (seal === undefined || seal.kind !== kind) {
      throw new MessageRejectedError('MESSAGE_MALFORMED', `The epoch proposal names seal ${i}, which it does not hold as ${kind}.`)
    }
    return { message, signer: seal.signer, seal, index }
  }
  return {
    epoch,
    previous: new Map(previous.map(([account, earned, charged]) => [account, { earned, charged }])),
    tasks: tasks.map(({ spec, commits, reveals, challenge, arbitration, verdict }) => ({
      certificate: {
        spec: spec as SignedSpec,
        commits: commits.map((c) => sealed('commits', c)),
        reveals: reveals.map((r) => sealed('reveals', r)),
        ...(challenge === undefined ? {} : { challenge }),
        ...(arbitration === undefined
          ? {}
          : { arbitration: { commits: arbitration.commits.map((c) => sealed('commits', c)), reveals: arbitration.reveals.map((r) => sealed('reveals', r)) } }),
      },
      verdict,
    })),
  }
}
