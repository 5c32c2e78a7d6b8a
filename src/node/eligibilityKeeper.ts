import type { Address } from '../core/types.ts'
import type { BlsKey } from '../crypto/bls.ts'
import type { SettlementPort } from '../ports/settlement.ts'
import type { Clock } from './clock.ts'
import type { Logger } from './logger.ts'

export interface EligibilityKeeper {
  start(): void
  /** Stops polling and waits for a check in flight. */
  stop(): Promise<void>
  /** Refreshes sent so far (for status and tests). */
  refreshes(): number
}

export interface CreateEligibilityKeeperParameters {
  /** The node's own address: the keeper refreshes only this one. */
  node: Address
  settlement: Pick<SettlementPort, 'eligibilityOf' | 'refreshEligibility'> & Partial<Pick<SettlementPort, 'hasBlsKey' | 'registerBlsKey'>>
  /**
   * The node's BLS key: registered (with its proof of possession) at the first look if the chain
   * holds none for the node, so that it joins the committee from the next snapshot on.
   */
  bls?: Promise<BlsKey>
  clock: Clock
  logger: Logger
  /** How often it looks. Default 2 s: one read per look, a transaction only on the way back. */
  pollMs?: number
}

/**
 * Registers the node's BLS key if the chain holds none (once, at the first look), and brings a freed node back. A jail ends at a block with no transaction, and StakeManager counts
 * the node's stake again (for committees, tasks and the threshold) only from a refresh; so the
 * node looks now and then and, when a refresh would give it eligible stake back, sends it. It
 * never refreshes itself out: a stale record of a node still eligible (a raised minimum stake) is
 * for others to refresh.
 */
export function createEligibilityKeeper({ node, settlement, bls, clock, logger, pollMs = 2_000 }: CreateEligibilityKeeperParameters): EligibilityKeeper {
  const log = logger.child({ component: 'eligibility' })
  let running = false
  let cancel: (() => void) | undefined
  let inFlight: Promise<void> = Promise.resolve()
  let sent = 0
  let keyRegistered = bls === undefined || settlement.hasBlsKey === undefined || settlement.registerBlsKey === undefined

  async function check(): Promise<void> {
    if (!keyRegistered) {
      if (!(await settlement.hasBlsKey!(node))) {
        const key = await bls!
        await settlement.registerBlsKey!(node, key.publicKey, key.proofOfPossession(node))
        log.info('BLS key registered: on the committee from the next snapshot')
      }
      keyRegistered = true
    }
    const { eligibleStake, stale } = await settlement.eligibilityOf(node)
    if (!stale || eligibleStake > 0n) return
    await settlement.refreshEligibility(node)
    sent++
    log.info('eligible again: jail over, stake counts from the next snapshot')
  }

  function schedule(): void {
    if (!running) return
    cancel = clock.setTimer(pollMs, () => {
      inFlight = check()
        .catch((error: unknown) => log.warn('eligibility check failed', { error }))
        .finally(schedule)
    })
  }

  return {
    start() {
      if (running) return
      running = true
      inFlight = check()
        .catch((error: unknown) => log.warn('eligibility check failed', { error }))
        .finally(schedule)
    },
    async stop() {
      running = false
      cancel?.()
      await inFlight
    },
    refreshes: () => sent,
  }
}
