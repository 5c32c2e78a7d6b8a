import { backupSeated, certifyTask, isAnsweredByEvidence } from '../core/batchCheck.ts'
import type { BatchObjection, CertifiedTask, CertifyParameters } from '../core/batchCheck.ts'
import { mergeCertificates } from '../core/certificate.ts'
import type { TaskCertificate } from '../core/certificate.ts'
import { hashBatchEvidence, hashTaskSpec } from '../core/eip712.ts'
import { decodeEpochProposal, encodeEpochProposal } from '../core/epochProposal.ts'
import { SettlementError } from '../core/errors.ts'
import type { ProtocolMessage } from '../core/messages.ts'
import { signDigest } from '../core/signing.ts'
import type { Signer } from '../core/signing.ts'
import type { BatchSeal } from '../core/seal.ts'
import type { BatchEvidence, Hex, ProtocolDomain, Signed } from '../core/types.ts'
import type { Network } from '../ports/network.ts'
import type { BlobStore, NodeStore } from '../ports/node.ts'
import type { VeritaskNode } from './createNode.ts'
import type { Logger } from './logger.ts'

/** Certificates kept at most per task: each added something to the ones before it. */
const MAX_KEPT_PER_TASK = 16

export interface CreateEvidencePoolParameters {
  node: Pick<VeritaskNode, 'decidedTasks'>
  account: Signer
  store: Pick<NodeStore, 'getSpec'>
  network: Pick<Network, 'fetchBlob'>
  blobs: BlobStore
  domain: ProtocolDomain
  /** What checking `epoch`'s certificates needs (the settler's `certifying`). */
  certifying(epoch: bigint, certificates: readonly TaskCertificate[]): Promise<CertifyParameters>
  /** Sends a message on the batch topic. */
  publish(message: ProtocolMessage): Promise<void>
  /** Whether `epoch` is settled here: its evidence is no longer kept. */
  isSettled(epoch: bigint): boolean
  /** Counts a refusal (the settler's `rejected` stats). */
  reject(error: unknown): void
  log: Logger
  /** Largest evidence blob fetched from a member. */
  maxBytes: number
}

export interface EvidencePool {
  /** As an objecting member: publishes its certificates of the tasks a refused proposal left short, for the next rounds' aggregators. */
  publish(epoch: bigint, round: number, objections: readonly BatchObjection[]): Promise<void>
  /** Fetches a member's evidence from it, checks it, and keeps each certificate that adds something. */
  take(signed: Signed<BatchEvidence>): Promise<void>
  /** Keeps the checked certificates of a refused proposal: the next round builds on them. */
  keepChecked(epoch: bigint, tasks: readonly CertifiedTask[], rankingOf: CertifyParameters['rankingOf']): void
  /** Every certificate of `epoch` this node holds, its own and kept: what checking the candidates needs read. */
  certificates(epoch: bigint): TaskCertificate[]
  /**
   * As aggregator: the epoch's tasks to propose, each as its certificates best first (for
   * `certifyTasks`): this node's own merged with the evidence, and the tasks only the evidence holds.
   */
  candidates(epoch: bigint, parameters: Pick<CertifyParameters, 'rankingOf' | 'arbitrationSeatsOf'>): TaskCertificate[][]
  forget(epoch: bigint): void
  stats(): { published: number; taken: number }
}

/**
 * The evidence that makes views that differ for good converge (docs/protocol.md, "Views that differ
 * for good converge"). A member that refuses a proposal for something it holds publishes its own
 * certificates of those tasks (`BatchEvidence`); every node keeps the certificates that check and add
 * something to what it holds, with those of every refused proposal it checked; and the next round's
 * aggregator merges them into its own (`mergeCertificates`, monotone, never adding a dissent), so
 * each round proposes the union of what the objectors hold.
 */
export function createEvidencePool({
  node,
  account,
  store,
  network,
  blobs,
  domain,
  certifying,
  publish,
  isSettled,
  reject,
  log,
  maxBytes,
}: CreateEvidencePoolParameters): EvidencePool {
  /** Checked certificates kept per epoch and task, in the order taken. */
  const kept = new Map<bigint, Map<Hex, TaskCertificate[]>>()
  const stats = { published: 0, taken: 0 }

  const ownCertificates = (epoch: bigint): Map<Hex, TaskCertificate> => new Map(node.decidedTasks(epoch).map((t) => [t.verdict.taskId, t.certificate]))

  /**
   * Whether a certificate holds anything that no certificate of its task held here (its own or a
   * kept one) holds too: a copy, or a subset, adds nothing. Each is compared on its own, not with
   * their merge, which leaves out what disagrees: evidence that disagrees with what came first is kept.
   */
  function addsTo(epoch: bigint, taskId: Hex, certificate: TaskCertificate, own: ReadonlyMap<Hex, TaskCertificate>): boolean {
    const held = [own.get(taskId), ...(kept.get(epoch)?.get(taskId) ?? [])].filter((c) => c !== undefined)
    return !held.some((x) => covers(x, certificate))
  }

  /**
   * Keeps a checked certificate. Not a backup-seated task whose spec this node never saw: proposing
   * it would ask members for vouches that, for a task nobody honest saw, never come, and every later
   * round would stall on it. Such a task settles in a round whose aggregator saw its spec.
   */
  function keep(epoch: bigint, task: CertifiedTask, rankingOf: CertifyParameters['rankingOf']): void {
    const taskId = task.verdict.taskId
    if (isSettled(epoch) || (store.getSpec(taskId) === undefined && backupSeated([task], rankingOf).length > 0)) return
    const byTask = kept.get(epoch) ?? new Map<Hex, TaskCertificate[]>()
    const list = byTask.get(taskId) ?? []
    if (list.length >= MAX_KEPT_PER_TASK) return
    byTask.set(taskId, [...list, task.certificate])
    kept.set(epoch, byTask)
    stats.taken++
  }

  /**
   * Certificates of one task best first, by the seat rule's own order: the best-ranked committers
   * (a coalition cannot sign for better-ranked nodes), then more reveals, then reveals that agree.
   */
  function byRank(taskId: Hex, spec: TaskCertificate['spec']['message'], rankingOf: CertifyParameters['rankingOf']) {
    const ranking = rankingOf(spec, taskId)
    const ranks = (c: TaskCertificate) => c.commits.map((x) => ranking.indexOf(x.signer)).map((r) => (r < 0 ? Infinity : r)).sort((x, y) => x - y)
    const agree = (c: TaskCertificate) => new Set(c.reveals.map((r) => `${r.message.status}/${r.message.resultHash}`)).size <= 1
    /** Negative when `x`'s seats rank better than `y`'s: lower ranks, or more of them. */
    const seats = (x: TaskCertificate, y: TaskCertificate): number => {
      const [rx, ry] = [ranks(x), ranks(y)]
      for (let i = 0; i < Math.max(rx.length, ry.length); i++) {
        const [a, b] = [rx[i] ?? Infinity, ry[i] ?? Infinity]
        if (a !== b) return a < b ? -1 : 1
      }
      return 0
    }
    const order = (x: TaskCertificate, y: TaskCertificate): number =>
      seats(x, y) || y.reveals.length - x.reveals.length || Number(agree(y)) - Number(agree(x))
    return { seats, order }
  }

  /**
   * A task's certificates best first (`certifyTasks` takes the first that decides it): this node's
   * own (or, for a task it never decided, the best-ranked kept one) merged with the rest, then
   * without their challenges; a kept certificate whose seats rank better than this node's, with
   * what this node adds to it (the late primary there, a backup here); the base merged with each
   * kept certificate alone; then the unmerged base.
   * Merges into a dispute's arbitration know its arbiters (`arbitrationSeatsOf`), so a node counted among
   * the seats in one view and the arbiters in another is counted in each.
   */
  function alternatives(
    taskId: Hex,
    own: TaskCertificate | undefined,
    others: readonly TaskCertificate[],
    { rankingOf, arbitrationSeatsOf }: Pick<CertifyParameters, 'rankingOf' | 'arbitrationSeatsOf'>,
  ): TaskCertificate[] {
    // A task this node never decided, whose kept certificates disagree: which reveals were public in
    // time, this node cannot tell (a colluder's reveal sent only as evidence would void or turn it).
    // It is left to an aggregator that decided it itself.
    // (A dispute that one certificate holds whole, with its arbitration, is no such conflict.)
    const resultsOf = (c: TaskCertificate) => new Set([...c.reveals, ...(c.arbitration?.reveals ?? [])].map((r) => `${r.message.status}/${r.message.resultHash}`))
    const results = new Set(others.flatMap((c) => [...resultsOf(c)]))
    if (own === undefined && !others.some((c) => [...results].every((result) => resultsOf(c).has(result)))) return []
    const { seats, order } = byRank(taskId, (own ?? others[0]!).spec.message, rankingOf)
    const ranked = [...others].sort(order)
    const base = own ?? ranked[0]!
    const rest = own === undefined ? ranked.slice(1) : ranked
    const arbiters = arbitrationSeatsOf === undefined ? {} : { arbitrationSeats: () => arbitrationSeatsOf((own ?? others[0]!).spec.message, taskId) }
    const fold = (options?: { challenge?: boolean }) => rest.reduce((merged, other) => mergeCertificates(merged, other, { ...options, ...arbiters }), base)
    // Only better-ranked seats, never more reveals alone: a colluder's reveals kept back from everyone
    // else would otherwise outvote the reveals this node holds.
    const better = own === undefined ? [] : ranked.filter((other) => seats(other, own) < 0).map((other) => mergeCertificates(other, own, arbiters))
    // Then one kept certificate at a time: a single valid certificate that cannot be merged with
    // the rest (an arbitration grafted onto seats that agree) must not cost the task every other
    // holder's evidence, or a coalition could publish one to keep views apart.
    const each = rest.map((other) => mergeCertificates(base, other, arbiters))
    return [...new Set([fold(), fold({ challenge: false }), ...better, ...each, base])]
  }

  /** Evidence is taken one blob at a time. */
  let queue: Promise<void> = Promise.resolve()

  /**
   * Takes one evidence blob: at most one certificate per task (the first), each checked only if it
   * adds something to what this node holds by then, with the blob's seals checked once. A copy of a
   * certificate held here, or a part of one, costs a comparison, never a check.
   */
  async function takeNow({ message: { epoch, tasks: cid }, signer }: Signed<BatchEvidence>): Promise<void> {
    try {
      if (isSettled(epoch)) return
      const bytes = blobs.get(cid) ?? (await network.fetchBlob(cid, { peers: [], sources: [signer], maxBytes }))
      const published = decodeEpochProposal(bytes)
      if (published.epoch !== epoch) throw new SettlementError('BATCH_DIGEST_MISMATCH', 'The evidence blob is for another epoch.', { details: { epoch } })
      const byTask = new Map<Hex, TaskCertificate>()
      for (const { certificate } of published.tasks) {
        const taskId = hashTaskSpec(certificate.spec.message, domain)
        if (!byTask.has(taskId)) byTask.set(taskId, certificate)
      }
      const own = ownCertificates(epoch)
      const fresh = [...byTask].filter(([taskId, certificate]) => addsTo(epoch, taskId, certificate, own))
      if (fresh.length === 0) return
      const parameters = await certifying(epoch, fresh.map(([, certificate]) => certificate))
      const verified = new Map<BatchSeal, boolean>()
      for (const [taskId, certificate] of fresh) {
        if (!addsTo(epoch, taskId, certificate, own)) continue
        const task = await certifyTask(certificate, parameters, undefined, verified)
        if ('reason' in task) throw new SettlementError('BATCH_OBJECTION', `A certificate of the evidence does not stand (${task.reason}).`, { details: { epoch, reason: task.reason } })
        keep(epoch, task, parameters.rankingOf)
      }
    } catch (error) {
      reject(error)
      log.debug('evidence not taken', { epoch, signer, error })
    }
  }

  return {
    async publish(epoch, round, objections) {
      const answered = new Set(objections.filter((o) => isAnsweredByEvidence(o.reason)).map((o) => o.taskId))
      const tasks = node.decidedTasks(epoch).filter((t) => answered.has(t.verdict.taskId))
      if (tasks.length === 0) return
      const cid = blobs.put(encodeEpochProposal({ epoch, previous: new Map(), tasks: tasks.map(({ certificate, verdict }) => ({ certificate, verdict })) }))
      const message: BatchEvidence = { epoch, round, tasks: cid }
      const signed = await signDigest(account, message, hashBatchEvidence(message, domain))
      stats.published++
      log.debug('evidence published', { epoch, round, tasks: tasks.length })
      await publish({ type: 'evidence', ...signed })
    },
    take(signed) {
      // One at a time: each may fetch a blob and check its certificates.
      const taking = queue.then(() => takeNow(signed))
      queue = taking
      return taking
    },
    keepChecked(epoch, tasks, rankingOf) {
      const own = ownCertificates(epoch)
      for (const task of tasks) if (addsTo(epoch, task.verdict.taskId, task.certificate, own)) keep(epoch, task, rankingOf)
    },
    certificates(epoch) {
      return [...node.decidedTasks(epoch).map((t) => t.certificate), ...[...(kept.get(epoch)?.values() ?? [])].flat()]
    },
    candidates(epoch, parameters) {
      const own = node.decidedTasks(epoch)
      const others = kept.get(epoch) ?? new Map<Hex, TaskCertificate[]>()
      const candidates = own.map(({ certificate, verdict }) => alternatives(verdict.taskId, certificate, others.get(verdict.taskId) ?? [], parameters))
      const ownIds = new Set(own.map((t) => t.verdict.taskId))
      for (const [taskId, list] of others) if (!ownIds.has(taskId)) candidates.push(alternatives(taskId, undefined, list, parameters))
      return candidates.filter((alternatives) => alternatives.length > 0)
    },
    forget(epoch) {
      kept.delete(epoch)
    },
    stats: () => ({ ...stats }),
  }
}

/** Whether `x` holds every commit, reveal, challenge and arbitration item `c` holds. */
function covers(x: TaskCertificate, c: TaskCertificate): boolean {
  const keys = (items: readonly { signer: string; message: object }[]) => new Set(items.map((i) => `${i.signer}/${JSON.stringify(i.message)}`))
  const within = (inner: readonly { signer: string; message: object }[], outer: readonly { signer: string; message: object }[]) => {
    const have = keys(outer)
    return inner.every((i) => have.has(`${i.signer}/${JSON.stringify(i.message)}`))
  }
  return (
    within(c.commits, x.commits) &&
    within(c.reveals, x.reveals) &&
    (c.challenge === undefined || x.challenge?.signature === c.challenge.signature) &&
    within(c.arbitration?.commits ?? [], x.arbitration?.commits ?? []) &&
    within(c.arbitration?.reveals ?? [], x.arbitration?.reveals ?? [])
  )
}
