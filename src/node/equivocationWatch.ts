import type { EpochBatch } from '../core/epochBatch.ts'
import type { BatchSignature, Hex, Signed } from '../core/types.ts'
import type { SettlementPort } from '../ports/settlement.ts'
import type { Logger } from './logger.ts'

export interface CreateEquivocationWatchParameters {
  settlement: Pick<SettlementPort, 'proveEquivocation' | 'isEquivocationPunished'>
  /** The batch a proposal blob builds for `round`, if it builds the batch of `digest`; undefined otherwise. */
  rebuild(epoch: bigint, round: number, cid: Hex, digest: Hex): Promise<EpochBatch | undefined>
  log: Logger
  /** Epochs kept, newest first: a signature of an older epoch is not looked at. */
  keepEpochs?: number
  /** Signatures kept per epoch (members × distinct digests). */
  maxPerEpoch?: number
}

export interface EquivocationWatch {
  /** A batch signature whose signature is checked: the first per member and round is kept; a second of another digest is proven. */
  observe(signed: Signed<BatchSignature>): Promise<void>
  stats(): { proven: number; unprovable: number }
}

/**
 * Watches batch signatures for a committee member that signs two different batches in one round of
 * an epoch, and proves it on-chain (`Settlement.proveEquivocation`). A signature names the proposal
 * its digest was built from, so the watcher can rebuild both batches; a digest no blob builds cannot
 * be proven (and no aggregator can submit it either). Every node that sees the pair tries: the first
 * proof lands, the others find the member punished.
 */
export function createEquivocationWatch({ settlement, rebuild, log, keepEpochs = 4, maxPerEpoch = 10_000 }: CreateEquivocationWatchParameters): EquivocationWatch {
  /**
   * Each member's distinct signed digests per epoch (at most DIGESTS_PER_SIGNER). Only the digest is
   * signed: the round and blob a message names are claims, so a new digest is compared with every
   * earlier one, and a proof is tried only when the rebuilt batches are of one round.
   */
  const seen = new Map<bigint, Map<string, Signed<BatchSignature>[]>>()
  let kept = 0
  const stats = { proven: 0, unprovable: 0 }
  /** Proof attempts run one at a time: each may fetch two proposals and read the chain. */
  let queue: Promise<void> = Promise.resolve()

  async function prove(a: Signed<BatchSignature>, b: Signed<BatchSignature>): Promise<boolean> {
    const { epoch } = a.message
    if (await settlement.isEquivocationPunished(epoch, a.signer)) return true
    const [batchA, batchB] = await Promise.all([
      rebuild(epoch, a.message.round, a.message.tasks, a.message.digest),
      rebuild(epoch, b.message.round, b.message.tasks, b.message.digest),
    ])
    if (batchA === undefined || batchB === undefined || batchA.epoch !== batchB.epoch || batchA.round !== batchB.round) return false
    await settlement.proveEquivocation(batchA, a.signature, batchB, b.signature, a.signer)
    stats.proven++
    log.info('equivocation proven', { epoch, round: batchA.round, signer: a.signer })
    return true
  }

  return {
    async observe(signed) {
      const { epoch, digest } = signed.message
      const newest = [...seen.keys()].reduce((max, e) => (e > max ? e : max), epoch)
      if (epoch + BigInt(keepEpochs) <= newest) return
      for (const [old, bySigner] of seen) {
        if (old + BigInt(keepEpochs) > newest) continue
        for (const list of bySigner.values()) kept -= list.length
        seen.delete(old)
      }
      const bySigner = seen.get(epoch) ?? new Map<string, Signed<BatchSignature>[]>()
      seen.set(epoch, bySigner)
      const earlier = bySigner.get(signed.signer) ?? []
      if (earlier.some((e) => e.message.digest === digest)) return
      if (earlier.length < DIGESTS_PER_SIGNER && kept < maxPerEpoch * keepEpochs) {
        bySigner.set(signed.signer, [...earlier, signed])
        kept++
      }
      if (earlier.length === 0) return
      const attempt = queue.then(async () => {
        try {
          for (const other of earlier) if (await prove(other, signed)) return
          stats.unprovable++
          log.info('second digest from a member, not provable as one round', { epoch, signer: signed.signer })
        } catch (error) {
          // Another watcher's proof landed first, or the chain refused: nothing to retry.
          log.debug('equivocation proof not submitted', { epoch, signer: signed.signer, error })
        }
      })
      queue = attempt
      await attempt
    },
    stats: () => ({ ...stats }),
  }
}

/** Distinct digests kept per member and epoch: a member signs one per round, and a few rounds suffice. */
const DIGESTS_PER_SIGNER = 8
