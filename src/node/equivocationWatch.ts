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
  /** First signatures kept per epoch (members × rounds). */
  maxPerEpoch?: number
}

export interface EquivocationWatch {
  /** A batch signature whose signature is checked: the first per member and round is kept; a second of another digest is proven. */
  observe(signed: Signed<BatchSignature>): Promise<void>
  stats(): { proven: number; unprovable: number }
}

/**
 * Watches batch signatures for a committee member that signs two different batches in one round of an epoch,
 * and proves it on-chain (`Settlement.proveEquivocation`). A signature names the proposal its digest
 * was built from, so the watcher can rebuild both batches; a digest no blob builds cannot be proven
 * (and no aggregator can submit it either). Every node that sees the pair tries: the first proof
 * lands, the others revert harmlessly as already punished.
 */
export function createEquivocationWatch({ settlement, rebuild, log, keepEpochs = 4, maxPerEpoch = 10_000 }: CreateEquivocationWatchParameters): EquivocationWatch {
  /** The first signature of each member per epoch, by `${round}/${signer}`. */
  const first = new Map<bigint, Map<string, Signed<BatchSignature>>>()
  const stats = { proven: 0, unprovable: 0 }

  async function prove(a: Signed<BatchSignature>, b: Signed<BatchSignature>): Promise<void> {
    const { epoch, round } = a.message
    if (await settlement.isEquivocationPunished(epoch, a.signer)) return
    const [batchA, batchB] = await Promise.all([
      rebuild(epoch, round, a.message.tasks, a.message.digest),
      rebuild(epoch, round, b.message.tasks, b.message.digest),
    ])
    if (batchA === undefined || batchB === undefined) {
      stats.unprovable++
      log.info('equivocation seen but not provable: a proposal is missing', { epoch, signer: a.signer })
      return
    }
    await settlement.proveEquivocation(batchA, a.signature, batchB, b.signature)
    stats.proven++
    log.info('equivocation proven', { epoch, signer: a.signer })
  }

  return {
    async observe(signed) {
      const { epoch, round, digest } = signed.message
      const newest = [...first.keys()].reduce((max, e) => (e > max ? e : max), epoch)
      if (epoch + BigInt(keepEpochs) <= newest) return
      const bySigner = first.get(epoch) ?? new Map<string, Signed<BatchSignature>>()
      first.set(epoch, bySigner)
      for (const old of first.keys()) if (old + BigInt(keepEpochs) <= newest) first.delete(old)
      const key = `${round}/${signed.signer}`
      const earlier = bySigner.get(key)
      if (earlier === undefined) {
        // The caller passes committee members' signatures only; a member signing in many rounds is capped.
        if (bySigner.size < maxPerEpoch) bySigner.set(key, signed)
        return
      }
      if (earlier.message.digest === digest) return
      try {
        await prove(earlier, signed)
      } catch (error) {
        // Another watcher's proof landed first, or the chain refused: nothing to retry.
        log.debug('equivocation proof not submitted', { epoch, signer: signed.signer, error })
      }
    },
    stats: () => ({ ...stats }),
  }
}
