import { signCommitBatch } from '../core/commit.ts'
import { MAX_BATCH_ITEMS } from '../core/messages.ts'
import type { ProtocolMessage } from '../core/messages.ts'
import { signRevealBatch } from '../core/reveal.ts'
import { sealCommits, sealReveals } from '../core/seal.ts'
import type { Sealed } from '../core/seal.ts'
import type { Signer } from '../core/signing.ts'
import type { Commit, Hex, ProtocolDomain, Reveal } from '../core/types.ts'
import type { NodeStore, OwnCommit } from '../ports/node.ts'
import type { Logger } from './logger.ts'

export interface CreateOutboxParameters {
  account: Signer
  domain: ProtocolDomain
  store: Pick<NodeStore, 'putOwnCommits'>
  publish(message: ProtocolMessage): Promise<void>
  log: Logger
  /** How long own commits and reveals wait to be signed together (ms, real time); 0: the current turn. */
  batchWindowMs: number
  /** Whether the node is running: a stopped node sends nothing more. */
  isRunning(): boolean
  /** Whether this node still holds the task's seat and has not committed: a seat lost while the batch waited is not claimed. */
  isAwaitingCommit(taskId: Hex): boolean
  /** A batch of own commits went out (persisted first). */
  onCommitsSent(commits: readonly Sealed<Commit>[]): void
  /** A batch of own reveals is signed and about to go out: its results are served from now on. */
  onRevealsSigned(reveals: readonly Sealed<Reveal>[]): void
  /** A batch of own reveals went out. */
  onRevealsSent(reveals: readonly Sealed<Reveal>[]): void
}

/** The node's own commits and reveals, sealed in batches. */
export interface Outbox {
  enqueue<K extends 'commits' | 'reveals'>(kind: K, item: K extends 'commits' ? OwnCommit : Reveal): void
  /** Own commits and reveals signed and handed to the network so far. */
  sent(): { commits: number; reveals: number }
}

function chunked<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}

/**
 * Own commits and reveals wait here for `batchWindowMs`, then go out under one signature per
 * batch: under load one signature (and one message for every peer to decode and check) serves
 * many tasks. On an idle node a batch holds one item and costs the window in latency.
 */
export function createOutbox({
  account,
  domain,
  store,
  publish,
  log,
  batchWindowMs,
  isRunning,
  isAwaitingCommit,
  onCommitsSent,
  onRevealsSigned,
  onRevealsSent,
}: CreateOutboxParameters): Outbox {
  const queued = { commits: [] as OwnCommit[], reveals: [] as Reveal[], flushing: false }
  const sent = { commits: 0, reveals: 0 }

  async function flush(): Promise<void> {
    // One batch failing (a store or network error) does not hold back the others.
    const attempt = async (send: () => Promise<void>) => send().catch((error: unknown) => log.warn('own commits or reveals not sent', { error }))
    while (isRunning() && (queued.commits.length > 0 || queued.reveals.length > 0)) {
      const commits = queued.commits.splice(0)
      const reveals = queued.reveals.splice(0)
      for (const chunk of chunked(commits, MAX_BATCH_ITEMS)) await attempt(() => sendCommits(chunk))
      for (const chunk of chunked(reveals, MAX_BATCH_ITEMS)) await attempt(() => sendReveals(chunk))
    }
    queued.flushing = false
  }

  async function sendCommits(batch: readonly OwnCommit[]): Promise<void> {
    const own = batch.filter((c) => isAwaitingCommit(c.taskId))
    if (own.length === 0) return
    // Persist before sending, once for the whole batch: after a crash the node re-sends these
    // commitments, never different ones.
    store.putOwnCommits(own)
    const commits: Commit[] = own.map(({ taskId, commitment }) => ({ taskId, commitment }))
    const signed = await signCommitBatch(account, commits, domain)
    sent.commits += commits.length
    await publish({ type: 'commits', ...signed })
    onCommitsSent(sealCommits(signed))
  }

  async function sendReveals(reveals: readonly Reveal[]): Promise<void> {
    const signed = await signRevealBatch(account, reveals, domain)
    const sealed = sealReveals(signed)
    onRevealsSigned(sealed)
    sent.reveals += reveals.length
    await publish({ type: 'reveals', ...signed })
    onRevealsSent(sealed)
  }

  return {
    enqueue(kind, item) {
      ;(queued[kind] as Array<OwnCommit | Reveal>).push(item)
      if (queued.flushing) return
      queued.flushing = true
      // Real time, not the node's clock: batching is about CPU, and protocol deadlines must not wait on it.
      if (batchWindowMs > 0) setTimeout(() => void flush(), batchWindowMs)
      else setImmediate(() => void flush())
    },
    sent: () => ({ ...sent }),
  }
}
