import { zeroHash } from 'viem'
import { backupSeated, certifyTasks, findBatchObjection, outputsToFetch } from '../core/batchCheck.ts'
import type { CertifiedTask, CertifyParameters } from '../core/batchCheck.ts'
import { withheldOf } from '../core/certificate.ts'
import type { VrfVerifier } from '../core/challenge.ts'
import type { TaskCertificate } from '../core/certificate.ts'
import { hashBatchEvidence, hashBatchProposal, hashBatchVouch } from '../core/eip712.ts'
import { buildOutcomesTree, hashEpochBatch } from '../core/epochBatch.ts'
import type { BalanceLeaf, EpochBatchResult, OutcomeLeaf } from '../core/epochBatch.ts'
import { balancesRootOf, decodeEpochProposal, encodeEpochProposal, settleProposal } from '../core/epochProposal.ts'
import type { EpochProposal, EpochSettlement, ProposedTask } from '../core/epochProposal.ts'
import { SettlementError, VeritaskError } from '../core/errors.ts'
import type { MerkleTree } from '../core/merkleTree.ts'
import { decodeMessage, encodeMessage } from '../core/messages.ts'
import type { ProtocolMessage } from '../core/messages.ts'
import { buildReceipt } from '../core/receipt.ts'
import type { Receipt } from '../core/receipt.ts'
import { signDigest } from '../core/signing.ts'
import type { SignatureVerifier, Signer } from '../core/signing.ts'
import { MAX_DRAW_LEAD_BLOCKS, defaultParams } from '../core/params.ts'
import type { ProtocolParams } from '../core/params.ts'
import { roundAggregator } from '../core/rounds.ts'
import { arbitrationSeats, rankTask } from '../core/task.ts'
import type { Address, BatchProposal, BatchSignature, Hex, ProtocolDomain, Signed, TaskSpec } from '../core/types.ts'
import { topics } from '../ports/network.ts'
import type { GossipMessage, Network, ValidationResult } from '../ports/network.ts'
import type { BlobStore, ChainView, NodeStore } from '../ports/node.ts'
import type { CommitteeMember, SettlementPort } from '../ports/settlement.ts'
import { aggregateBlsSignatures, deriveBlsKey, verifyBlsSignature } from '../crypto/bls.ts'
import type { BlsKey } from '../crypto/bls.ts'
import type { Clock } from './clock.ts'
import { silentEvents } from './events.ts'
import type { NodeEventSink } from './events.ts'
import { createEquivocationWatch } from './equivocationWatch.ts'
import { createEvidencePool } from './evidencePool.ts'
import { createVouchBook } from './vouchBook.ts'
import type { HeldBack } from './vouchBook.ts'
import type { VeritaskNode } from './createNode.ts'
import type { Logger } from './logger.ts'

export interface CreateEpochSettlerParameters {
  node: VeritaskNode
  account: Signer
  /** The account's BLS key (`deriveBlsKey(account)` when absent): it signs batch digests. */
  bls?: Promise<BlsKey>
  network: Network
  chain: ChainView
  settlement: SettlementPort
  blobs: BlobStore
  store: NodeStore
  domain: ProtocolDomain
  verify: SignatureVerifier
  /** Checks sampled tasks' audit draws in certificates; the pure `verifyVrf` by default. */
  verifyVrf?: VrfVerifier
  clock: Clock
  logger: Logger
  /** How long each next-ranked aggregator waits, after the epoch's tasks are done, before it proposes instead. */
  takeoverMs?: number
  /** How long after an epoch ends its specs may still arrive (the node's `epochGraceMs`): proposals wait for it. */
  graceMs?: number
  /** How often the settler looks at the chain and the node's open tasks. */
  pollMs?: number
  /** How long after a failed submission the aggregator submits again. */
  retryMs?: number
  /** Largest proposal blob fetched from a peer. */
  maxProposalBytes?: number
  /** The node restarted with tasks in flight: it missed part of the current epoch. */
  restarted?: boolean
  /** The node's own settings where an epoch's snapshot carries no parameters (`backups` ranks tasks). */
  params?: ProtocolParams
  /** Where the settler reports proposals, signatures, settlements and penalties (the API's event stream). */
  events?: NodeEventSink
}

export interface BalanceProof {
  account: Address
  earned: bigint
  charged: bigint
  proof: Hex[]
}

export interface SettledEpochInfo {
  epoch: bigint
  digest: Hex
  taskCount: number
  /** Gas of `submitBatch` when this node submitted it. */
  gasUsed: bigint | null
}

export interface EpochSettler {
  start(): void
  stop(): Promise<void>
  /**
   * The receipt of a task settled while this node watched; null when its epoch settled without it
   * (a task that crossed the epoch boundary: unsettled, its requester not charged); undefined
   * while this node cannot tell yet.
   */
  receipt(taskId: Hex): Receipt | null | undefined
  /** Fees charged to `requester` by the settled batches this node checked (0 before it saw one). */
  charged(requester: Address): bigint
  /**
   * What `account` can claim (or withdraw against) with the newest balances root this node
   * checked: its cumulative leaf and Merkle proof; undefined without one.
   */
  balanceProof(account: Address): BalanceProof | undefined
  onSettled(listener: (info: SettledEpochInfo) => void): () => void
  /** `rejected` counts refusals by code; `objections` the proposals this node would not sign, by reason (core/batchCheck.ts). */
  stats(): {
    epochsSettled: number
    batchesSubmitted: number
    signaturesSent: number
    /** Submissions of this node's batch that failed (each is retried while the epoch is not settled). */
    submissionsFailed: number
    lastGasUsed: bigint | null
    rejected: Record<string, number>
    objections: Record<string, number>
    /** Equivocations this node proved on-chain (core: a member's signatures of two batches of one epoch). */
    equivocationsProven: number
    /** Evidence this node published with its objections, and certificates it kept as evidence (`EvidencePool`). */
    evidencePublished: number
    evidenceTaken: number
    /** Batches this member signed once others vouched for the tasks whose specs it never saw (`BatchVouch`). */
    signedOnVouches: number
  }
}

/**
 * Rounds a node that restarted with tasks in flight lets pass before it aggregates an epoch it saw
 * only in part: aggregators that saw it whole have their turn first.
 */
const RESTART_ROUNDS = 3

/** Settled epochs whose committees (and so members' signatures) a settler still looks at: the equivocation watch's span. */
const COMMITTEE_EPOCHS_KEPT = 4n

/** Result blobs a member fetches at most to check one proposal's tolerance comparisons. */
const MAX_OUTPUT_FETCHES = 1_024

/** How long a check waits for a draw block this node has not seen yet (its view of the chain lags). */
const DRAW_WAIT_MS = 5_000

/**
 * Distinct draw blocks a member reads at most to check one proposal, and how many at once. An
 * epoch's honest tasks name only the blocks of that epoch and a few after it.
 */
const MAX_DRAW_READS = 4_096
const DRAW_READS_AT_ONCE = 64

interface Candidate {
  proposal: EpochProposal
  round: number
  result: EpochBatchResult
  cid: Hex
}

/**
 * The node's settlement roles, driven by the chain: once an epoch is over and this node has
 * decided all its tasks, the aggregator of the epoch's current round publishes a proposal (the
 * tasks' certificates as a blob, the batch digest on the batch topic); every committee member
 * checks the certificates and the balances root the chain holds, persists its BLS signature of
 * the digest (its key derived from the account key, `deriveBlsKey`), then sends it; the
 * aggregator sums the signatures into one once they carry the required committee weight and
 * submits the batch with it and the list of members who did not sign. Rounds are numbered from
 * when the epoch's tasks were done, one per `takeoverMs`, each with its own aggregator
 * (`roundAggregator`). A member signs at most one digest per round,
 * across restarts (`NodeStore.putBatchSignature`), and may sign another in a later round: a
 * round that split the committee or whose aggregator stayed silent does not stall the epoch.
 */
export function createEpochSettler({
  node,
  account,
  bls,
  network,
  chain,
  settlement,
  blobs,
  store,
  domain,
  verify,
  verifyVrf,
  clock,
  logger,
  takeoverMs = 10_000,
  graceMs = 2_000,
  pollMs = 200,
  retryMs = 1_000,
  maxProposalBytes = 64 * 1024 * 1024,
  restarted = false,
  params = defaultParams,
  events = silentEvents,
}: CreateEpochSettlerParameters): EpochSettler {
  const log = logger.child({ node: account.address, role: 'settler' })
  /** The node's BLS key, derived from its account key: it signs batch digests. Never logged. */
  const blsKey = bls ?? deriveBlsKey(account)
  /** Each epoch's committee with the members' BLS keys, read once (fixed at the snapshot). */
  const committees = new Map<bigint, Promise<ReadonlyMap<Address, CommitteeMember>>>()
  /** The next epoch this node expects to see settled. Null until read from the chain. */
  let next: bigint | null = null
  /**
   * When this node saw each epoch end (the grace runs from there, not from when the settler got to
   * the epoch: a settler catching up must not wait a grace per epoch behind), and when it finished
   * `next`'s tasks: the takeover clock starts then.
   */
  const endedAt = new Map<bigint, number>()
  let seenEpoch: bigint | null = null
  let readyAt: number | null = null
  const proposals = new Map<bigint, Signed<BatchProposal>[]>()
  /** The rounds of each epoch whose proposal this node took: one per round (its aggregator's first). */
  const proposedRounds = new Map<bigint, Set<number>>()
  /** Proposals this node checked and built, by epoch and digest. */
  const candidates = new Map<bigint, Map<Hex, Candidate>>()
  /** This node's own proposals by digest, and the signatures collected for each, by signer. */
  const own = new Map<Hex, { epoch: bigint; round: number }>()
  const collected = new Map<Hex, Map<Address, Hex>>()
  /** The rounds this node proposed in, as `${epoch}/${round}`. */
  const proposed = new Set<string>()
  /** Epochs whose batch this node is submitting: their settlement is finished by the submission, with its gas. */
  const submitting = new Set<bigint>()
  /** When to submit again an own batch (by digest) whose submission failed. */
  const retryAt = new Map<Hex, number>()
  /** Round aggregators drawn so far, by `${epoch}/${round}`. */
  const aggregators = new Map<string, Address | undefined>()
  /** Settled epochs' proposal blobs, for receipts; and every validly signed proposal's blob by digest. */
  const settledProposals = new Map<bigint, Hex>()
  const proposalBlobs = new Map<bigint, Map<Hex, { cid: Hex; round: number }>>()
  /** Evidence and vouches taken per epoch, as `${type}/${signer}/${round}`: one of each per member and round. */
  const heard = new Map<bigint, Set<string>>()
  /** The last epoch settled without this node's signature whose proposal has not come here yet (`adopt`). */
  let unadopted: { epoch: bigint; digest: Hex } | undefined
  let cumulative: ReadonlyMap<Address, { charged: bigint }> = new Map()
  let balances: MerkleTree<BalanceLeaf> | null = null
  let receiptCache: { epoch: bigint; tree: MerkleTree<OutcomeLeaf> | null; tasks: Map<Hex, ProposedTask> } | undefined
  const listeners = new Set<(info: SettledEpochInfo) => void>()
  const stats = {
    epochsSettled: 0,
    batchesSubmitted: 0,
    signaturesSent: 0,
    submissionsFailed: 0,
    lastGasUsed: null as bigint | null,
    rejected: {} as Record<string, number>,
    objections: {} as Record<string, number>,
    signedOnVouches: 0,
  }
  /**
   * The first epoch this node saw whole. A node that restarted with tasks in flight missed part of
   * the epoch it restarted in: for that epoch and earlier ones it proposes only after every
   * aggregator that saw them whole had its turn, or a batch could leave out tasks it never saw.
   * Null until the first tick.
   */
  let witnessedFrom: bigint | null = null
  let cancelTimer: (() => void) | undefined
  let ticking = false
  let running = false

  function reject(error: unknown): void {
    const code = error instanceof VeritaskError ? error.code : 'UNEXPECTED'
    stats.rejected[code] = (stats.rejected[code] ?? 0) + 1
    const reason = error instanceof SettlementError && code === 'BATCH_OBJECTION' ? error.details['reason'] : undefined
    if (typeof reason === 'string') stats.objections[reason] = (stats.objections[reason] ?? 0) + 1
  }

  /** The committee of `epoch` by node; empty while the chain shows none (not opened): asked again then. */
  async function committeeOf(epoch: bigint): Promise<ReadonlyMap<Address, CommitteeMember>> {
    let members = committees.get(epoch)
    if (members === undefined) {
      members = settlement.committee(epoch).then((list) => new Map(list.map((m) => [m.node, m])))
      committees.set(epoch, members)
      members.then((m) => (m.size === 0 ? committees.delete(epoch) : undefined)).catch(() => committees.delete(epoch))
    }
    return members
  }

  /** Whether this node is a member of `epoch`'s committee. */
  const isMember = async (epoch: bigint): Promise<boolean> => (await committeeOf(epoch)).get(account.address) !== undefined

  async function aggregatorOf(epoch: bigint, round: number): Promise<Address | undefined> {
    const key = `${epoch}/${round}`
    if (aggregators.has(key)) return aggregators.get(key)
    const view = chain.snapshot(epoch) ?? (await chain.loadSnapshot?.(epoch))
    if (view === undefined) return undefined
    const aggregator = roundAggregator({ seed: view.seed, epoch, round, candidates: view.eligibleNodes('wasm') })
    aggregators.set(key, aggregator)
    return aggregator
  }

  /** The round `epoch` is in here: one per `takeoverMs` since `from`. */
  const roundSince = (from: number): number => Math.max(0, Math.floor((clock.now() - from) / takeoverMs))

  async function publish(message: ProtocolMessage): Promise<void> {
    await network.publish(topics.batches, encodeMessage(message))
  }

  async function build(batchInput: EpochSettlement): Promise<EpochBatchResult> {
    const requesters = [...new Set(batchInput.tasks.map((t) => t.requester))]
    const nodes = [...new Set(batchInput.tasks.flatMap((t) => [...t.verdict.dissenters, ...(t.withheld ?? [])]))]
    return settleProposal(batchInput, await settlement.epochFacts(batchInput.epoch, requesters, nodes))
  }

  /**
   * The hashes of the certificates' draw blocks, read from the chain where this node does not keep
   * them. A draw block beyond what the chain may have reached by now is not waited for: a task
   * decided in the epoch had its draw, and an aggregator must not stall a check by naming a later one.
   */
  async function drawsOf(certificates: readonly TaskCertificate[]): Promise<Map<bigint, Hex>> {
    const draws = new Map<bigint, Hex>()
    // At most MAX_DRAW_READS blocks, a few at a time: a proposal naming thousands of distinct
    // blocks must not flood the chain endpoint (the tasks whose draw is not read rank nobody).
    const blocks = [...new Set(certificates.map((certificate) => certificate.spec.message.drawBlock))].slice(0, MAX_DRAW_READS)
    for (let at = 0; at < blocks.length; at += DRAW_READS_AT_ONCE) {
      await Promise.all(
        blocks.slice(at, at + DRAW_READS_AT_ONCE).map(async (block) => {
          const hash = chain.blockHash(block) ?? (block <= chain.head() + MAX_DRAW_LEAD_BLOCKS ? await chain.awaitBlock(block, DRAW_WAIT_MS) : undefined)
          if (hash !== undefined) draws.set(block, hash)
        }),
      )
    }
    return draws
  }

  /**
   * What checking the epoch's certificates needs: each task's ranking in the epoch's snapshot, and
   * the result bytes tolerance comparisons of differing results need (fetched by content id).
   */
  async function certifying(epoch: bigint, certificates: readonly TaskCertificate[]): Promise<CertifyParameters> {
    const view = chain.snapshot(epoch) ?? (await chain.loadSnapshot?.(epoch))
    if (view === undefined) throw new SettlementError('BATCH_UNKNOWN_EPOCH', `The snapshot of epoch ${epoch} is not known here.`, { details: { epoch } })
    const { backups, arbiters } = view.params ?? params
    // Results for tolerance comparisons, fetched in parallel and at most MAX_OUTPUT_FETCHES per
    // proposal: an aggregator naming thousands of missing results must not stall the settler.
    // Each from the executors that revealed it first: they serve it since their reveal.
    const wanted = new Map<Hex, { maxBytes: number; sources: Address[] }>()
    for (const certificate of certificates) {
      for (const cid of outputsToFetch(certificate)) {
        if (wanted.size >= MAX_OUTPUT_FETCHES) break
        const sources = [...certificate.reveals, ...(certificate.arbitration?.reveals ?? [])].filter((r) => r.message.resultHash === cid).map((r) => r.signer)
        wanted.set(cid, { maxBytes: certificate.spec.message.limits.outputBytes, sources })
      }
    }
    const outputs = new Map<Hex, Uint8Array>()
    await Promise.all(
      [...wanted].map(async ([cid, { maxBytes, sources }]) => {
        const bytes =
          blobs.get(cid) ??
          (await network.fetchBlob(cid, { peers: [], sources, maxBytes }).catch((error: unknown) => {
            log.debug('result for a certificate not fetched', { epoch, cid, error })
            return undefined
          }))
        if (bytes !== undefined) outputs.set(cid, bytes)
      }),
    )
    const draws = await drawsOf(certificates)
    // Anchors are read as each certificate is checked (after its spec's signature), so a proposal
    // stuffed with certificates naming roots nobody anchored costs one read before its objection.
    // The chain view keeps the anchors it read when the specs arrived.
    const anchorOf = (requester: Address, root: Hex) => chain.anchorOf(requester, root)
    // A proposal's check ranks each task more than once (its seats, then what the member holds): rank it once.
    // A task whose draw block's hash cannot be read here ranks nobody: its certificate does not check.
    const rankings = new Map<Hex, Address[]>()
    const rankingOf = (spec: TaskSpec, taskId: Hex): Address[] => {
      let ranking = rankings.get(taskId)
      if (ranking === undefined) {
        const draw = draws.get(spec.drawBlock)
        rankings.set(taskId, (ranking = draw === undefined ? [] : rankTask({ view, taskId, spec, draw, backups })))
      }
      return ranking
    }
    // A disputed task's arbitration seats are drawn only for its certificate.
    const arbitrationSeatsOfTask = (spec: TaskSpec, taskId: Hex): Address[] => {
      const draw = draws.get(spec.drawBlock)
      return draw === undefined ? [] : arbitrationSeats({ view, taskId, spec, draw, count: arbiters })
    }
    return { domain, verify, epoch, outputs, rankingOf, anchorOf, arbitrationSeatsOf: arbitrationSeatsOfTask, ...(verifyVrf === undefined ? {} : { verifyVrf }) }
  }

  /**
   * A proposal as its digest names it, unchecked: from the proposals this node checked, or rebuilt
   * from the blob as the aggregator claims it (verdicts as claimed, withholders as its certificates
   * show). For an equivocation proof (a member may have signed a forgery), and for a batch the
   * chain took without this node's signature (the chain's word settles it; the next epoch's
   * proposal builds on its balances).
   */
  async function rebuild(epoch: bigint, round: number, cid: Hex, digest: Hex): Promise<Candidate | undefined> {
    const known = candidates.get(epoch)?.get(digest)
    if (known !== undefined) return known
    try {
      const bytes = blobs.get(cid) ?? (await network.fetchBlob(cid, { peers: [], maxBytes: maxProposalBytes }))
      const proposal = decodeEpochProposal(bytes)
      if (proposal.epoch !== epoch) return undefined
      const tasks = proposal.tasks.map(({ certificate, verdict }) => ({
        verdict,
        requester: certificate.spec.message.requester,
        fee: certificate.spec.message.fee,
        withheld: withheldOf(certificate),
      }))
      const result = await build({ epoch, round, previous: proposal.previous, tasks })
      if (hashEpochBatch(result.batch, domain) !== digest) return undefined
      blobs.put(bytes)
      return { proposal, round, result, cid }
    } catch (error) {
      log.debug('proposal not rebuilt', { epoch, cid, error })
      return undefined
    }
  }

  const pool = createEvidencePool({
    node,
    account,
    store,
    network,
    blobs,
    domain,
    certifying,
    publish,
    isSettled: (epoch) => next !== null && epoch < next,
    reject,
    log,
    maxBytes: maxProposalBytes,
  })
  const vouchBook = createVouchBook({
    account,
    node,
    domain,
    publish,
    weightsOf: async (epoch) => new Map([...(await committeeOf(epoch))].map(([node, member]) => [node, member.weight])),
  })

  const watch = createEquivocationWatch({ settlement, rebuild: async (...args) => (await rebuild(...args))?.result.batch, log })

  /**
   * Takes the batch the chain settled without this node's signature (it objected, or never got the
   * proposal) as its own: its receipts, and the balances the next epoch's proposal builds on.
   * Without them this node could not aggregate again, and enough such nodes would stall settlement.
   */
  async function adopt(epoch: bigint, digest: Hex, { cid, round }: { cid: Hex; round: number }): Promise<void> {
    if (unadopted?.epoch === epoch) unadopted = undefined
    const candidate = await rebuild(epoch, round, cid, digest)
    if (candidate === undefined) {
      log.warn('settled proposal not rebuilt: this node cannot aggregate the next epoch', { epoch, digest })
      return
    }
    if (next !== epoch + 1n) return
    remember(epoch, digest, candidate)
    cumulative = candidate.result.cumulative
    balances = candidate.result.balances
  }

  /** As the round's aggregator: proposes this node's certificates on top of the balances the chain holds. */
  async function propose(epoch: bigint, round: number): Promise<void> {
    proposed.add(`${epoch}/${round}`)
    const previous = candidates.get(epoch - 1n)
    const settledDigest = epoch === 0n ? null : await settlement.settledDigest(epoch - 1n)
    const before = settledDigest === null ? undefined : previous?.get(settledDigest)?.result.cumulative
    if (epoch > 0n && before === undefined && (await settlement.balancesRoot()) !== zeroHash) {
      log.warn('cannot propose: balances after the previous epoch unknown', { epoch })
      return
    }
    const parameters = await certifying(epoch, pool.certificates(epoch))
    const { tasks, refused } = await certifyTasks(pool.candidates(epoch, parameters), parameters)
    for (const { taskId, reason } of refused) log.warn('own certificate left out of the proposal', { epoch, taskId, reason })
    const proposal: EpochProposal = { epoch, previous: before ?? new Map(), tasks: tasks.map(({ certificate, verdict }) => ({ certificate, verdict })) }
    const bytes = encodeEpochProposal(proposal)
    const cid = blobs.put(bytes)
    const result = await build({ epoch, round, previous: proposal.previous, tasks })
    const digest = hashEpochBatch(result.batch, domain)
    const message: BatchProposal = { epoch, round, digest, tasks: cid }
    const signed = await signDigest(account, message, hashBatchProposal(message, domain))
    remember(epoch, digest, { proposal, round, result, cid })
    own.set(digest, { epoch, round })
    collected.set(digest, new Map())
    log.info('batch proposed', { epoch, round, digest, tasks: proposal.tasks.length })
    events.emit({ type: 'epoch.proposed', epoch, digest, aggregator: account.address, tasks: proposal.tasks.length })
    await publish({ type: 'proposal', ...signed })
    // Its own vouch counts like any member's, for the backup-seated tasks it decided itself.
    if (await isMember(epoch)) {
      await signVouched(await vouchBook.vouch({ epoch, round, digest, seated: backupSeated(proposal.tasks, parameters.rankingOf), objections: [] }))
    }
    await consider(signed)
  }

  function remember(epoch: bigint, digest: Hex, candidate: Candidate): void {
    const byDigest = candidates.get(epoch) ?? new Map<Hex, Candidate>()
    byDigest.set(digest, candidate)
    candidates.set(epoch, byDigest)
  }

  /**
   * As committee member: checks a proposal and signs its digest, once per round. A proposal refused
   * only for backup-seated tasks whose specs this member never saw (`unknown-task`) waits for
   * members that saw them to vouch (`signVouched`).
   */
  async function consider(signed: Signed<BatchProposal>): Promise<void> {
    const { epoch, round, digest, tasks: cid } = signed.message
    try {
      let candidate = candidates.get(epoch)?.get(digest)
      if (candidate === undefined) {
        const bytes = await network.fetchBlob(cid, { peers: [], maxBytes: maxProposalBytes })
        blobs.put(bytes)
        const proposal = decodeEpochProposal(bytes)
        if (proposal.epoch !== epoch) throw new SettlementError('BATCH_DIGEST_MISMATCH', 'The proposal blob is for another epoch.')
        if (balancesRootOf(proposal.previous) !== (await settlement.balancesRoot())) {
          throw new SettlementError('BATCH_PREVIOUS_MISMATCH', 'The proposal builds on balances the chain does not hold.', { details: { epoch } })
        }
        // Signed on certificates: each must prove the verdict claimed for it. What this node holds
        // itself counts only for what the proposal leaves out (core/batchCheck.ts).
        const parameters = await certifying(epoch, proposal.tasks.map((t) => t.certificate))
        const checked = await findBatchObjection({ proposal, own: node.decidedTasks(epoch), knows: (taskId) => store.getSpec(taskId) !== undefined, ...parameters })
        const objections = 'objection' in checked ? checked.objections : []
        const member = await isMember(epoch)
        const seated = backupSeated(proposal.tasks, parameters.rankingOf)
        if (member) await signVouched(await vouchBook.vouch({ epoch, round, digest, seated, objections }))
        if ('objection' in checked) {
          // The proposal's certificates that check are evidence too: the next round builds on them.
          pool.keepChecked(epoch, checked.certified, parameters.rankingOf)
          if (member && objections.every((o) => o.reason === 'unknown-task')) {
            const unknown = objections.map((o) => o.taskId)
            reject(new SettlementError('BATCH_OBJECTION', 'Waiting for vouches (unknown-task).', { details: { epoch, reason: 'unknown-task' } }))
            log.debug('batch waits for vouches', { epoch, round, digest, unknown: unknown.length })
            return await signVouched(await vouchBook.holdBack({ epoch, round, digest, cid, proposal, tasks: checked.certified, seated, unknown }))
          }
          if (member) void pool.publish(epoch, round, objections).catch((error: unknown) => log.debug('evidence not published', { epoch, round, error }))
          throw new SettlementError('BATCH_OBJECTION', `The proposal does not stand on its evidence (${checked.objection.reason}).`, { details: { epoch, ...checked.objection } })
        }
        candidate = await rebuilt({ epoch, round, digest, cid, proposal, tasks: checked.tasks })
      }
      await sign(epoch, round, digest, candidate)
    } catch (error) {
      reject(error)
      // The objection's task and reason, so that a split committee can be traced to one task.
      log.info('batch not signed', { epoch, digest, error, ...(error instanceof SettlementError ? { details: error.details } : {}) })
    }
  }

  /** The batch a checked proposal builds, kept as a candidate; throws if it is not the one its digest names. */
  async function rebuilt({ epoch, round, digest, cid, proposal, tasks }: { epoch: bigint; round: number; digest: Hex; cid: Hex; proposal: EpochProposal; tasks: readonly CertifiedTask[] }): Promise<Candidate> {
    const result = await build({ epoch, round, previous: proposal.previous, tasks })
    if (hashEpochBatch(result.batch, domain) !== digest) {
      throw new SettlementError('BATCH_DIGEST_MISMATCH', 'The proposal does not build the batch its digest names.', { details: { epoch } })
    }
    const candidate = { proposal, round, result, cid }
    remember(epoch, digest, candidate)
    return candidate
  }

  /** As committee member: signs a checked batch's digest with its BLS key (once per round, persisted first) and sends it. */
  async function sign(epoch: bigint, round: number, digest: Hex, candidate: Candidate): Promise<void> {
    if (!(await isMember(epoch))) return
    const stored = store.getBatchSignature(epoch, round)
    if (stored !== undefined && stored.digest !== digest) {
      log.info('not signing a second batch for the round', { epoch, round, signed: stored.digest, proposed: digest })
      return
    }
    const signature = stored?.signature ?? (await blsKey).sign(digest)
    // Persist before sending: after a crash the node re-sends this signature, never another.
    store.putBatchSignature(epoch, round, digest, signature)
    const message: Signed<BatchSignature> = { message: { epoch, round, digest, tasks: candidate.cid }, signer: account.address, signature }
    stats.signaturesSent++
    events.emit({ type: 'epoch.signed', epoch, digest, signer: account.address })
    await publish({ type: 'batch-signature', ...message })
    await collect(message)
  }

  /**
   * Signs a proposal this member held back only for tasks it never saw, once vouched for
   * (`VouchBook`): with an adversary below a third, one of the vouching members is honest, saw the
   * spec and would have objected to a commit left out.
   */
  async function signVouched(held: HeldBack | undefined): Promise<void> {
    if (held === undefined) return
    try {
      const candidate = await rebuilt(held)
      stats.signedOnVouches++
      await sign(held.epoch, held.round, held.digest, candidate)
    } catch (error) {
      reject(error)
      log.info('batch not signed', { epoch: held.epoch, digest: held.digest, error })
    }
  }

  /** As aggregator: adds a member's signature and submits once the committee weight suffices. */
  async function collect(signed: Signed<BatchSignature>): Promise<void> {
    const { epoch, digest } = signed.message
    const mine = collected.get(digest)
    if (mine === undefined || own.get(digest)?.epoch !== epoch) return
    if (mine.has(signed.signer) || (await committeeOf(epoch)).get(signed.signer) === undefined) return
    mine.set(signed.signer, signed.signature)
    await submit(epoch, digest)
  }

  /**
   * Submits this node's batch for `epoch` once its signatures carry the required weight. A failed
   * submission (a full mempool, a node restart, a reverted race) is retried from the epoch's next
   * step, `retryMs` later, for as long as the epoch is not settled.
   */
  async function submit(epoch: bigint, digest: Hex): Promise<void> {
    const mine = collected.get(digest)
    const candidate = candidates.get(epoch)?.get(digest)
    if (mine === undefined || candidate === undefined || submitting.has(epoch)) return
    const committee = await committeeOf(epoch)
    let weight = 0n
    for (const signer of mine.keys()) weight += committee.get(signer)?.weight ?? 0n
    if (weight < (await settlement.requiredWeight(epoch)) || (await settlement.settledDigest(epoch)) !== null) return
    // Signatures arrive concurrently: only the first collector past the threshold submits.
    if (collected.get(digest) !== mine || submitting.has(epoch)) return
    collected.delete(digest)
    // One aggregate signature; the contract subtracts the members who did not sign from the committee's key.
    const signature = aggregateBlsSignatures([...mine.values()])
    const nonSigners = [...committee.keys()].filter((node) => !mine.has(node)).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
    submitting.add(epoch)
    try {
      const { gasUsed } = await settlement.submitBatch(candidate.result.batch, { signature, nonSigners })
      stats.batchesSubmitted++
      stats.lastGasUsed = gasUsed
      log.info('batch submitted', { epoch, digest, signers: mine.size, nonSigners: nonSigners.length, gasUsed })
      await finish(epoch, digest, gasUsed)
    } catch (error) {
      // Another aggregator may have settled the epoch first (the next step finds out); if not, try again.
      stats.submissionsFailed++
      log.warn('batch submission failed; will retry', { epoch, error })
      if (!collected.has(digest)) collected.set(digest, mine)
      retryAt.set(digest, clock.now() + retryMs)
    } finally {
      submitting.delete(epoch)
    }
  }

  async function finish(epoch: bigint, digest: Hex, gasUsed: bigint | null): Promise<void> {
    if (next === null || epoch !== next) return
    const candidate = candidates.get(epoch)?.get(digest)
    if (candidate !== undefined) {
      settledProposals.set(epoch, candidate.cid)
      cumulative = candidate.result.cumulative
      balances = candidate.result.balances
    } else {
      // Settled without this node's signature: its receipts and balances come from the proposal
      // the chain took, once rebuilt (`adopt`). Until then its balances tree is not the chain's:
      // serve no stale leaf.
      balances = null
      const settled = proposalBlobs.get(epoch)?.get(digest)
      if (settled !== undefined) {
        settledProposals.set(epoch, settled.cid)
        void adopt(epoch, digest, settled)
      } else {
        // Its proposal has not come here (yet): adopted when it does.
        unadopted = { epoch, digest }
      }
    }
    proposalBlobs.delete(epoch)
    candidates.delete(epoch - 1n)
    for (const [ownDigest, at] of own) {
      if (at.epoch !== epoch) continue
      own.delete(ownDigest)
      collected.delete(ownDigest)
      retryAt.delete(ownDigest)
    }
    for (const key of aggregators.keys()) if (key.startsWith(`${epoch}/`)) aggregators.delete(key)
    // Committees of recent epochs stay: the equivocation watch checks their signatures for a few epochs more.
    for (const old of committees.keys()) if (old + COMMITTEE_EPOCHS_KEPT <= epoch) committees.delete(old)
    proposals.delete(epoch)
    proposedRounds.delete(epoch)
    pool.forget(epoch)
    vouchBook.forget(epoch)
    heard.delete(epoch)
    node.forgetEpoch(epoch)
    next = epoch + 1n
    endedAt.delete(epoch)
    readyAt = null
    stats.epochsSettled++
    const info = { epoch, digest, taskCount: candidate?.proposal.tasks.length ?? 0, gasUsed }
    log.info('epoch settled', { epoch, digest })
    events.emit({ type: 'epoch.settled', epoch, digest, tasks: info.taskCount, gasUsed })
    for (const p of candidate?.result.batch.penalties ?? []) {
      if (p.slashAmount > 0n) events.emit({ type: 'node.slashed', epoch, node: p.node, amount: p.slashAmount })
      events.emit({ type: 'node.jailed', epoch, node: p.node, untilBlock: p.jailUntilBlock })
    }
    for (const listener of listeners) listener(info)
  }

  /** Settles epochs in order while they are ready: a settler behind catches up in one tick. */
  async function tick(): Promise<void> {
    if (next === null) {
      const last = await settlement.lastSettledEpoch()
      next = last === null ? 0n : last + 1n
      witnessedFrom = restarted ? chain.epoch() + 1n : 0n
    }
    const current = chain.epoch()
    if (current !== seenEpoch) {
      for (let epoch = next; epoch < current; epoch++) if (!endedAt.has(epoch)) endedAt.set(epoch, clock.now())
      seenEpoch = current
    }
    let settled = true
    while (running && settled) settled = await step()
  }

  /** One step on `next`; true when it settled and the following epoch may be ready too. */
  async function step(): Promise<boolean> {
    const epoch = next!
    if (epoch >= (seenEpoch ?? 0n)) return false
    // The submission's own receipt may come after the chain already shows the batch: it reports the gas.
    if (submitting.has(epoch)) return false
    const settledDigest = await settlement.settledDigest(epoch)
    if (settledDigest !== null) {
      await finish(epoch, settledDigest, null)
      return true
    }
    // Specs of the epoch may still cross the boundary for a moment; then its tasks must finish.
    if (clock.now() - (endedAt.get(epoch) ?? clock.now()) < graceMs || node.pendingTasks(epoch) > 0) return false
    readyAt ??= clock.now()
    for (const [digest, at] of retryAt) {
      if (own.get(digest)?.epoch !== epoch || clock.now() < at) continue
      retryAt.delete(digest)
      await submit(epoch, digest)
    }
    node.closeEpoch(epoch)
    for (const signed of proposals.get(epoch)?.splice(0) ?? []) await consider(signed)
    const round = roundSince(readyAt)
    // An aggregator that missed part of the epoch waits until those that saw it all had their turn.
    const witnessed = witnessedFrom !== null && epoch >= witnessedFrom
    const mayPropose = witnessed || round >= RESTART_ROUNDS
    if (mayPropose && !proposed.has(`${epoch}/${round}`) && (await aggregatorOf(epoch, round)) === account.address) await propose(epoch, round)
    return false
  }

  function schedule(): void {
    if (!running) return
    cancelTimer = clock.setTimer(pollMs, () => {
      if (ticking) return schedule()
      ticking = true
      tick()
        .catch((error: unknown) => log.warn('settlement step failed', { error }))
        .finally(() => {
          ticking = false
          schedule()
        })
    })
  }

  async function onGossip({ data }: GossipMessage): Promise<ValidationResult> {
    let message: ProtocolMessage
    try {
      message = decodeMessage(data, 4_096)
    } catch (error) {
      reject(error)
      return 'reject'
    }
    if (message.type === 'proposal') {
      const { epoch, round } = message.message
      // The proposal of a batch the chain already took: its digest vouches for it (`rebuild` checks).
      if (unadopted !== undefined && epoch === unadopted.epoch && message.message.digest === unadopted.digest) {
        settledProposals.set(epoch, message.message.tasks)
        void adopt(epoch, unadopted.digest, { cid: message.message.tasks, round })
        return 'ignore'
      }
      if (epoch > chain.epoch() || (next !== null && epoch < next)) return 'ignore'
      // Rounds start one takeover apart once an epoch ends: a proposal for a round far ahead of this
      // node's count is not taken (else naming any round would cost this node a draw to check).
      const ended = endedAt.get(epoch)
      if (round > (ended === undefined ? 0 : roundSince(ended)) + 1) return 'ignore'
      if ((await aggregatorOf(epoch, round)) !== message.signer) {
        reject(new SettlementError('BATCH_NOT_AGGREGATOR', 'proposal from a node that is not the aggregator of its round'))
        return 'reject'
      }
      if (!(await verify(hashBatchProposal(message.message, domain), message.signature, message.signer))) {
        reject(new SettlementError('BATCH_BAD_SIGNATURE', 'bad proposal signature'))
        return 'reject'
      }
      // One proposal per round: an aggregator that proposes again (another digest, or a flood)
      // cannot crowd out the proposals of later rounds.
      const list = proposals.get(epoch) ?? []
      if (proposedRounds.get(epoch)?.has(round) === true) return 'ignore'
      proposedRounds.set(epoch, (proposedRounds.get(epoch) ?? new Set<number>()).add(round))
      const byDigest = proposalBlobs.get(epoch) ?? new Map<Hex, { cid: Hex; round: number }>()
      byDigest.set(message.message.digest, { cid: message.message.tasks, round })
      proposalBlobs.set(epoch, byDigest)
      list.push(message)
      proposals.set(epoch, list)
      return 'accept'
    }
    if (message.type === 'evidence' || message.type === 'vouch') {
      // A member's certificates for a round it refused, or its vouch for a proposal's tasks: one of
      // each per member and round, for an epoch not settled yet, within the rounds that have begun
      // here (as proposals are).
      const { epoch, round } = message.message
      if (epoch > chain.epoch() || (next !== null && epoch < next)) return 'ignore'
      const ended = endedAt.get(epoch)
      if (round > (ended === undefined ? 0 : roundSince(ended)) + 1) return 'ignore'
      const key = `${message.type}/${message.signer}/${round}`
      const taken = heard.get(epoch) ?? new Set<string>()
      if (taken.has(key) || (await committeeOf(epoch)).get(message.signer) === undefined) return 'ignore'
      const digest = message.type === 'evidence' ? hashBatchEvidence(message.message, domain) : hashBatchVouch(message.message, domain)
      if (!(await verify(digest, message.signature, message.signer))) {
        reject(new SettlementError('BATCH_BAD_SIGNATURE', `bad ${message.type} signature`))
        return 'reject'
      }
      taken.add(key)
      heard.set(epoch, taken)
      if (message.type === 'evidence') void pool.take({ message: message.message, signer: message.signer, signature: message.signature })
      else void vouchBook.take({ message: message.message, signer: message.signer, signature: message.signature }).then(signVouched)
      return 'accept'
    }
    if (message.type === 'batch-signature') {
      // Only a committee member can equivocate (or count): anyone else's signature is noise. A
      // member's is checked against its registered BLS key, so that an aggregate of checked
      // signatures verifies on-chain. An epoch not open yet has no committee; one long settled is
      // not looked up (each lookup reads the chain).
      const { epoch } = message.message
      if (epoch > chain.epoch() || (next !== null && epoch + COMMITTEE_EPOCHS_KEPT <= next)) return 'ignore'
      const member = (await committeeOf(epoch)).get(message.signer)
      if (member === undefined) return 'ignore'
      if (!verifyBlsSignature(message.message.digest, message.signature, member.publicKey)) {
        reject(new SettlementError('BATCH_BAD_SIGNATURE', 'bad batch signature'))
        return 'reject'
      }
      const signed: Signed<BatchSignature> = { message: message.message, signer: message.signer, signature: message.signature }
      events.emit({ type: 'epoch.signed', epoch: signed.message.epoch, digest: signed.message.digest, signer: signed.signer })
      void watch.observe(signed)
      void collect(signed)
      return 'accept'
    }
    reject(new VeritaskError('MESSAGE_WRONG_TOPIC', 'task message on the batch topic'))
    return 'reject'
  }

  return {
    start() {
      if (running) return
      running = true
      network.subscribe(topics.batches, onGossip)
      schedule()
    },
    async stop() {
      running = false
      cancelTimer?.()
    },
    receipt(taskId) {
      const spec = store.getSpec(taskId)
      if (spec === undefined) return undefined
      const epoch = spec.message.epoch
      const settled = next !== null && epoch < next
      if (receiptCache?.epoch !== epoch) {
        const cid = settledProposals.get(epoch)
        const bytes = cid === undefined ? undefined : blobs.get(cid)
        if (bytes === undefined) return undefined
        const { tasks } = decodeEpochProposal(bytes)
        receiptCache = { epoch, tree: buildOutcomesTree(tasks), tasks: new Map(tasks.map((t) => [t.verdict.taskId, t])) }
      }
      const task = receiptCache.tasks.get(taskId)
      // The batch the chain took leaves the task out: it crossed the epoch boundary (see batchCheck.ts).
      if (task === undefined || receiptCache.tree === null) return settled ? null : undefined
      return buildReceipt({ verdict: task.verdict, epoch, tree: receiptCache.tree, chainId: domain.chainId, settlement: domain.verifyingContract })
    },
    charged: (requester) => cumulative.get(requester)?.charged ?? 0n,
    balanceProof(account) {
      if (balances === null) return undefined
      for (const [i, leaf] of balances.entries()) {
        if (leaf[0].toLowerCase() !== account.toLowerCase()) continue
        return { account: leaf[0], earned: leaf[1], charged: leaf[2], proof: balances.getProof(i) }
      }
      return undefined
    },
    onSettled(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    stats: () => ({
      ...stats,
      rejected: { ...stats.rejected },
      objections: { ...stats.objections },
      equivocationsProven: watch.stats().proven,
      evidencePublished: pool.stats().published,
      evidenceTaken: pool.stats().taken,
    }),
  }
}

