import type { Hex } from 'viem'
import { VeritaskError } from '../core/errors.ts'
import { parseReceipt } from '../core/receipt.ts'
import type { Receipt } from '../core/receipt.ts'
import type { Signed, TaskSpec, Verdict } from '../core/types.ts'
import type { SubmissionTerms } from '../sdk/actions/submitTask.ts'

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
/** As the SDK's: a spec naming an epoch that just ended, or a draw block just mined, is refused. */
const TERMS_TTL_MS = 100

async function cachedTerms(api: string, fresh: boolean): Promise<SubmissionTerms> {
  const cached = terms.get(api)
  if (!fresh && cached !== undefined && performance.now() - cached.at < TERMS_TTL_MS) return cached
  const read = await submissionTerms(api)
  terms.set(api, { ...read, at: performance.now() })
  return read
}

/**
 * Signs a spec for the terms the node names (`specFor`; read at most every 100 ms per node, and
 * afresh for a retry) and submits it with its blobs. A spec the node cannot take yet or any more
 * is signed again for the node's current terms, for up to `retryMs`: 402, its epoch's snapshot
 * holds no escrow for it (a deposit counts from the next epoch), `SPEC_WRONG_EPOCH`, its epoch
 * closed on the way, and `SPEC_DRAW_PASSED`, its draw block was mined on the way. Any other
 * refusal rejects with the node's error.
 */
export async function submitOverHttp(
  api: string,
  specFor: (terms: SubmissionTerms) => Promise<Signed<TaskSpec>>,
  program: Uint8Array,
  input: Uint8Array,
  { retryMs = 10_000 } = {},
): Promise<Hex> {
  const blobs = { program: Buffer.from(program).toString('base64'), input: Buffer.from(input).toString('base64') }
  const until = performance.now() + retryMs
  for (let attempt = 0; ; attempt++) {
    const signed = await specFor(await cachedTerms(api, attempt > 0))
    const body = json({ spec: signed.message, signature: signed.signature, ...blobs })
    const res = await fetch(`${api}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const answer = (await res.json()) as { taskId?: Hex; error?: { code: string; message: string } }
    if (res.status === 202 && answer.taskId !== undefined) return answer.taskId
    const retried = res.status === 402 || answer.error?.code === 'SPEC_WRONG_EPOCH' || answer.error?.code === 'SPEC_DRAW_PASSED'
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
