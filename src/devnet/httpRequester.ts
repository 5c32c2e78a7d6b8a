import type { Hex, PublicClient } from 'viem'
import type { DeployedContracts } from '../chain/deploy.ts'
import { anchorRoot } from '../chain/viem/anchors.ts'
import type { Wallet } from '../chain/viem/createSettlementClient.ts'
import { VeritaskError } from '../core/errors.ts'
import { parseReceipt } from '../core/receipt.ts'
import type { Receipt } from '../core/receipt.ts'
import type { ProtocolDomain, Signed, TaskSpec, Verdict } from '../core/types.ts'
import type { SubmissionTerms } from '../sdk/actions/submitTask.ts'
import { anchoredDrawBlock, createDrawLead } from '../sdk/drawLead.ts'
import type { DrawLead } from '../sdk/drawLead.ts'
import { signAnchored } from '../sdk/signAnchored.ts'
import { createTaskAnchorer } from '../sdk/taskAnchorer.ts'
import type { TaskAnchorer } from '../sdk/taskAnchorer.ts'

/**
 * The devnet's requester over the node HTTP API (docs/api.md): enough to drive a workload through
 * node processes. Applications use the SDK (`veritask/sdk`), which adds retries and fallbacks.
 */

const json = (value: unknown) => JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** The epoch and draw block a spec submitted to the node now names (`GET /v1/status`). */
export async function submissionTerms(api: string): Promise<SubmissionTerms> {
  const { body } = await getJson(`${api}/v1/status`)
  return { epoch: BigInt(body.epoch as string), drawBlock: BigInt(body.drawBlock as string) }
}

/** Each node's terms as last read, and when: submissions in a burst share one status read. */
const terms = new Map<string, SubmissionTerms & { at: number }>()
/** As the SDK's: a spec naming an epoch that just ended is refused, and its anchor must beat its draw block. */
const TERMS_TTL_MS = 100
/** Each requester's anchor lead (`createDrawLead`), by the anchorer its submissions share. */
const leads = new WeakMap<TaskAnchorer, DrawLead>()
/** Tokens a devnet requester keeps beyond its escrow deposit (and approves TaskAnchors for) to anchor its task ids: far beyond a run's anchors at the devnet's minimum fee. */
export const DEVNET_ANCHOR_TOKENS = 10n ** 18n

export interface CreateChainAnchorerParameters {
  /** The requester: it signs the anchors and pays the minimum fee per task id from its tokens. */
  walletClient: Wallet
  publicClient: PublicClient
  contracts: Pick<DeployedContracts, 'anchors' | 'token'>
  /** Anchor transactions under way at once (`createTaskAnchorer`; default 1): more need a nonce-managed wallet and an allowance approved ahead. */
  maxInFlight?: number
  /** Called with each anchor transaction's leaves and fee, once mined. */
  onAnchored?(anchored: { count: number; paid: bigint }): void
}

/**
 * A devnet requester's task anchorer on its chain: the specs it signs while an anchor transaction
 * is under way share the next `TaskAnchors.anchor` (sdk/taskAnchorer.ts), and a spec that can no
 * longer be anchored before its draw block is handed back unpaid. Share one among all the
 * requester's submissions.
 */
export function createChainAnchorer({ walletClient, publicClient, contracts, maxInFlight = 1, onAnchored }: CreateChainAnchorerParameters): TaskAnchorer {
  return createTaskAnchorer(
    async (root, count) => {
      const anchored = await anchorRoot({ walletClient, publicClient, anchors: contracts.anchors, token: contracts.token, root, count, approve: DEVNET_ANCHOR_TOKENS })
      onAnchored?.({ count, paid: anchored.paid })
      return anchored
    },
    { maxInFlight, head: () => publicClient.getBlockNumber({ cacheTime: 0 }) },
  )
}

export interface SubmitOverHttpOptions {
  /** Anchors each signed spec's id before its draw block; one shared by the requester's submissions, so those in flight together share a root. */
  anchorer: TaskAnchorer
  /** The signing domain: a spec's task id is its EIP-712 hash under it. */
  domain: ProtocolDomain
  /**
   * The chain's newest block as the requester reads it: a spec names a draw block at least the
   * requester's lead past it, as the SDK's does (a node's view of the chain may lag the chain).
   */
  head: () => Promise<bigint>
  /** How long a spec the node cannot take yet is signed again (ms; default 10,000). */
  retryMs?: number
}

async function cachedTerms(api: string, fresh: boolean): Promise<SubmissionTerms> {
  const cached = terms.get(api)
  if (!fresh && cached !== undefined && performance.now() - cached.at < TERMS_TTL_MS) return cached
  const read = await submissionTerms(api)
  terms.set(api, { ...read, at: performance.now() })
  return read
}

/**
 * Signs a spec for the terms the node names (`sign`; read at most every 100 ms per node, and
 * afresh for a retry; the draw block at least the requester's lead past `head()`, learned per
 * anchorer: `createDrawLead`), anchors its id (`anchorer`) and submits it with its anchor proof and
 * blobs, as the SDK's `submitTask` does. A spec whose anchor landed in its draw block or later is
 * signed (and anchored) again for a later draw block, up to three times. A spec the node cannot take yet
 * or any more is signed again for the node's current terms, for up to `retryMs`: 402, its epoch's
 * snapshot holds no escrow for it (a deposit counts from the next epoch), `SPEC_WRONG_EPOCH`, its
 * epoch closed on the way, and `SPEC_DRAW_TOO_FAR`, the node's view of the chain lags the
 * requester's. Any other refusal rejects with the node's error.
 */
export async function submitOverHttp(
  api: string,
  sign: (terms: SubmissionTerms) => Promise<Signed<TaskSpec>>,
  program: Uint8Array,
  input: Uint8Array,
  { anchorer, domain, head, retryMs = 10_000 }: SubmitOverHttpOptions,
): Promise<Hex> {
  const blobs = { program: Buffer.from(program).toString('base64'), input: Buffer.from(input).toString('base64') }
  const until = performance.now() + retryMs
  let lead = leads.get(anchorer)
  if (lead === undefined) leads.set(anchorer, (lead = createDrawLead()))
  /** Specs signed so far: each after the first names the node's terms read afresh. */
  let signs = 0
  for (;;) {
    const { signed, block, inTime } = await signAnchored({
      sign: async (leadBlocks) => {
        const terms = await cachedTerms(api, signs++ > 0)
        return sign({ ...terms, drawBlock: anchoredDrawBlock(terms.drawBlock, await head(), leadBlocks) })
      },
      anchorer,
      lead,
      domain,
    })
    if (!inTime) {
      throw new VeritaskError('ANCHOR_TOO_LATE', `The spec's id was anchored in block ${block}, not before its draw block ${signed.message.drawBlock}.`, {
        details: { api, block, drawBlock: signed.message.drawBlock },
      })
    }
    const body = json({ spec: signed.message, signature: signed.signature, anchor: signed.anchor, ...blobs })
    const res = await fetch(`${api}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const answer = (await res.json()) as { taskId?: Hex; error?: { code: string; message: string } }
    if (res.status === 202 && answer.taskId !== undefined) return answer.taskId
    const retried = res.status === 402 || answer.error?.code === 'SPEC_WRONG_EPOCH' || answer.error?.code === 'SPEC_DRAW_TOO_FAR'
    // Too far ahead: the node's view of the chain lags the requester's; sign again once it caught up.
    if (answer.error?.code === 'SPEC_DRAW_TOO_FAR') lead.reset()
    if (retried && performance.now() < until) {
      await pause(200)
      continue
    }
    throw new VeritaskError(answer.error?.code ?? 'API_ERROR', answer.error?.message ?? `The node answered ${res.status}.`, { details: { api, status: res.status } })
  }
}

/** Polls the task until its node decided it. */
export async function waitForVerdictOverHttp(api: string, taskId: Hex, { signal, pollMs = 100 }: { signal?: AbortSignal; pollMs?: number } = {}): Promise<Verdict> {
  for (;;) {
    signal?.throwIfAborted()
    const { status, body } = await getJson(`${api}/v1/tasks/${taskId}`)
    if (status === 200 && body.phase === 'decided') return body.verdict as Verdict
    await pause(pollMs)
  }
}

/** Polls until the task's epoch is settled; resolves with its receipt, or null if the batch left it out. */
export async function waitForReceiptOverHttp(api: string, taskId: Hex, { signal, pollMs = 200 }: { signal?: AbortSignal; pollMs?: number } = {}): Promise<Receipt | null> {
  for (;;) {
    signal?.throwIfAborted()
    const { status, body } = await getJson(`${api}/v1/tasks/${taskId}/receipt`)
    if (status === 200) return parseReceipt(body)
    if (status === 410) return null
    await pause(pollMs)
  }
}
