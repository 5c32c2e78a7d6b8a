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
import type { BatchEvidence, Hex, ProtocolDomain, Signed } from '../core/types.ts'
import type { Network } from '../ports/network.ts'
import type { BlobStore, NodeStore } from '../ports/node.ts'
import type { VeritaskNode } from './createNode.ts'
import type { Logger } from './logger.ts'

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
  /**
   * As aggregator: the epoch's tasks to propose, each as its certificates best first (for
   * `certifyTasks`): this node's own merged with the evidence, and the tasks only the evidence holds.
   */
  candidates(epoch: bigint): TaskCertificate[][]
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

  /** What this node holds of a task: its own certificate (or the first kept one) merged with the rest. */
  function holding(own: TaskCertificate | undefined, others: readonly TaskCertificate[], options?: { challenge?: boolean }): TaskCertificate | undefined {
    const [base, ...more] = own === undefined ? others : [own, ...others]
    return base === undefined ? undefined : more.reduce((merged, other) => mergeCertificates(merged, other, options), base)
  }

  /** Whether a certificate adds anything to what this node holds of its task. */
  function addsTo(epoch: bigint, taskId: Hex, certificate: TaskCertificate, own: ReadonlyMap<Hex, TaskCertificate>): boolean {
    const current = holding(own.get(taskId), kept.get(epoch)?.get(taskId) ?? [])
    return current === undefined || mergeCertificates(current, certificate) !== current
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
    byTask.set(taskId, [...(byTask.get(taskId) ?? []), task.certificate])
    kept.set(epoch, byTask)
    stats.taken++
  }

  /**
   * A task's certificates best first (`certifyTasks` takes the first that decides it): merged with
   * the evidence, then without its challenges; where this node's reveals all agree (nothing to hide),
   * each member's certificate with what this node adds to it, for seats filled differently (a backup
   * here, the late primary there); then this node's own.
   */
  function alternatives(own: TaskCertificate | undefined, others: readonly TaskCertificate[]): TaskCertificate[] {
    const base = own ?? others[0]!
    const revealed = [...base.reveals, ...(base.arbitration?.reveals ?? [])].map((r) => `${r.message.status}/${r.message.resultHash}`)
    const theirs = new Set(revealed).size <= 1 ? others.map((other) => mergeCertificates(other, base)) : []
    return [...new Set([holding(own, others)!, holding(own, others, { challenge: false })!, ...theirs, base])]
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
    async take({ message: { epoch, tasks: cid }, signer }) {
      try {
        const bytes = blobs.get(cid) ?? (await network.fetchBlob(cid, { peers: [], sources: [signer], maxBytes }))
        const published = decodeEpochProposal(bytes)
        if (published.epoch !== epoch) throw new SettlementError('BATCH_DIGEST_MISMATCH', 'The evidence blob is for another epoch.', { details: { epoch } })
        const own = ownCertificates(epoch)
        const fresh = published.tasks.map((t) => t.certificate).filter((c) => addsTo(epoch, hashTaskSpec(c.spec.message, domain), c, own))
        if (fresh.length === 0) return
        const parameters = await certifying(epoch, fresh)
        for (const certificate of fresh) {
          const task = await certifyTask(certificate, parameters)
          if ('reason' in task) throw new SettlementError('BATCH_OBJECTION', `A certificate of the evidence does not stand (${task.reason}).`, { details: { epoch, reason: task.reason } })
          keep(epoch, task, parameters.rankingOf)
        }
      } catch (error) {
        reject(error)
        log.debug('evidence not taken', { epoch, signer, error })
      }
    },
    keepChecked(epoch, tasks, rankingOf) {
      const own = ownCertificates(epoch)
      for (const task of tasks) if (addsTo(epoch, task.verdict.taskId, task.certificate, own)) keep(epoch, task, rankingOf)
    },
    candidates(epoch) {
      const own = node.decidedTasks(epoch)
      const others = kept.get(epoch) ?? new Map<Hex, TaskCertificate[]>()
      const candidates = own.map(({ certificate, verdict }) => alternatives(certificate, others.get(verdict.taskId) ?? []))
      const ownIds = new Set(own.map((t) => t.verdict.taskId))
      for (const [taskId, list] of others) if (!ownIds.has(taskId)) candidates.push(alternatives(undefined, list))
      return candidates
    },
    forget(epoch) {
      kept.delete(epoch)
    },
    stats: () => ({ ...stats }),
  }
}
