import { contentId } from '../../core/contentId.ts'
import { hashTaskSpec } from '../../core/eip712.ts'
import { policyForSecurityLevel } from '../../core/securityLevel.ts'
import { signTaskSpec } from '../../core/taskSpec.ts'
import type { Hex, Policy, Signed, TaskLimits, TaskSpec } from '../../core/types.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import { InvalidProgramError, NodeApiError } from '../errors.ts'
import type { ChainUnreachableError, NodeUnreachableError } from '../errors.ts'
import { assertWasmProgram } from '../program.ts'
import { sleep } from '../sleep.ts'
import { getEscrow } from './getEscrow.ts'

/** Defaults for a task's terms; the devnet's values. */
export const defaultTaskTerms = {
  fee: 10n ** 15n,
  limits: { fuel: 2_000_000_000n, memoryPages: 64, outputBytes: 1 << 20 } satisfies TaskLimits,
  policy: { kind: 'replicate', k: 3, quorum: 2, auditPpm: 100_000 } as Policy,
  deadlineMs: 120_000,
}

/** What a task costs and how it runs; every field has a default (`defaultTaskTerms`). */
export interface TaskTerms {
  /** Fee paid from escrow, in token base units. */
  fee?: bigint
  limits?: Partial<TaskLimits>
  policy?: Policy
  /**
   * Instead of a policy: the probability you accept that a wrong result is verified against a
   * third of the stake (from 10⁻⁶); k and the audit rate follow from it (`policyForSecurityLevel`).
   */
  securityLevel?: number
  /** How long from now the task may take, in ms; at least the commit and reveal windows (7 s on the devnet). */
  deadlineMs?: number
}

/** The policy a task's terms ask for: theirs, the one their security level gives, or the default. */
export function policyOf(terms: TaskTerms): Policy {
  if (terms.policy !== undefined) return terms.policy
  return terms.securityLevel === undefined ? defaultTaskTerms.policy : policyForSecurityLevel({ level: terms.securityLevel, maxK: 16 })
}

export interface SubmitTaskParameters extends TaskTerms {
  /** The program's bytes, or the id of one given to `uploadProgram`. */
  program: Uint8Array | Hex
  input: Uint8Array
  /** A fixed nonce; a fresh random one by default. The same spec twice is the same task. */
  nonce?: bigint
  /**
   * How long to keep trying when a node answers `SPEC_INSUFFICIENT_ESCROW` although the chain
   * shows enough deposited (a deposit the nodes have not seen yet), in ms (default 30,000).
   */
  escrowWaitMs?: number
  signal?: AbortSignal
}

export interface SubmitTaskReturnType {
  taskId: Hex
  signed: Signed<TaskSpec>
  /** True when the node already knew the task (an earlier attempt whose answer was lost). */
  duplicate: boolean
}

export type SubmitTaskErrorType = InvalidProgramError | NodeApiError | NodeUnreachableError | ChainUnreachableError

interface StatusBody {
  epoch?: unknown
  drawBlock?: unknown
}

/** What a spec submitted to the node now names: its epoch and its draw block. */
export interface SubmissionTerms {
  epoch: bigint
  drawBlock: bigint
}

const terms = new WeakMap<VeritaskClientBase, SubmissionTerms & { at: number }>()
// Short: a spec naming an epoch that just ended, or a draw block just mined, is refused, and a
// cached draw block eats into the time the spec has to reach every node before it is mined.
const TERMS_TTL_MS = 100

const toBigInt = (raw: unknown): bigint => (typeof raw === 'string' || typeof raw === 'number' ? BigInt(raw) : 0n)

/** The epoch and draw block the node takes specs for now (`GET /v1/status`), cached for `TERMS_TTL_MS`. */
export async function submissionTerms(client: VeritaskClientBase, fresh = false, signal?: AbortSignal): Promise<SubmissionTerms> {
  const cached = terms.get(client)
  if (!fresh && cached !== undefined && Date.now() - cached.at < TERMS_TTL_MS) return cached
  const status = await client.api.json<StatusBody>('/v1/status', signal ? { signal } : {})
  const read = { epoch: toBigInt(status.epoch), drawBlock: toBigInt(status.drawBlock), at: Date.now() }
  terms.set(client, read)
  return read
}

function programBytes(client: VeritaskClientBase, program: Uint8Array | Hex): Uint8Array {
  if (typeof program !== 'string') {
    assertWasmProgram(program)
    return program
  }
  const bytes = client.programs.get(program.toLowerCase() as Hex)
  if (bytes === undefined) {
    throw new InvalidProgramError('SDK_INVALID_PROGRAM', `Program ${program} was not given to uploadProgram on this client.`, {
      hint: 'Call client.uploadProgram({ program: bytes }) first, or pass the bytes.',
      details: { program },
    })
  }
  return bytes
}

/**
 * Signs a task spec for the client's account and submits it with the program and input bytes
 * to the node API. Resolves once a node accepted it (it checked signature, limits, deadline and
 * escrow and gossiped it); `waitForResult` follows it to a verdict. The spec names the node's epoch
 * and a draw block a few blocks ahead (`GET /v1/status`): its seats are drawn from that block, which
 * nobody knows yet when the client signs. A spec whose epoch just ended, or whose draw block was
 * mined on the way, is signed again.
 *
 * @example
 * ```ts
 * const { taskId } = await client.submitTask({ program: wasmBytes, input: new TextEncoder().encode('to be or not to be'), fee: 10n ** 15n })
 * ```
 */
export async function submitTask(client: VeritaskClientBase, parameters: SubmitTaskParameters): Promise<SubmitTaskReturnType> {
  const program = programBytes(client, parameters.program)
  const { domain } = await client.chain()
  const limits = { ...defaultTaskTerms.limits, ...parameters.limits }
  const fee = parameters.fee ?? defaultTaskTerms.fee
  const nonce = parameters.nonce ?? client.nextNonce()
  const body = { program: Buffer.from(program).toString('base64'), input: Buffer.from(parameters.input).toString('base64') }
  const request = parameters.signal ? { signal: parameters.signal } : {}
  const started = Date.now()
  const escrowWaitMs = parameters.escrowWaitMs ?? 30_000
  let escrowDelay = 250
  let termRetries = 0
  for (let attempt = 0; ; attempt++) {
    const { epoch, drawBlock } = await submissionTerms(client, attempt > 0, parameters.signal)
    const spec: TaskSpec = {
      requester: client.account.address,
      nonce,
      runtime: 'wasm',
      program: contentId(program),
      input: contentId(parameters.input),
      limits,
      policy: policyOf(parameters),
      fee,
      epoch,
      drawBlock,
      deadline: BigInt(Date.now() + (parameters.deadlineMs ?? defaultTaskTerms.deadlineMs)),
    }
    const signed = await signTaskSpec(client.account as Parameters<typeof signTaskSpec>[0], spec, domain)
    const taskId = hashTaskSpec(spec, domain)
    try {
      await client.api.json('/v1/tasks', { method: 'POST', json: { spec, signature: signed.signature, ...body }, ...request })
      client.ledger.submittedFees += fee
      return { taskId, signed, duplicate: false }
    } catch (error) {
      if (!(error instanceof NodeApiError)) throw error
      // A retried POST whose first answer was lost finds its own task.
      if (error.code === 'SPEC_DUPLICATE') {
        client.ledger.submittedFees += fee
        return { taskId, signed, duplicate: true }
      }
      // The epoch closed or the draw block was mined on the way: sign again for the node's new terms.
      if ((error.code === 'SPEC_WRONG_EPOCH' || error.code === 'SPEC_DRAW_PASSED') && ++termRetries <= 3) continue
      // A fresh deposit reaches the nodes' view of the chain a little later: wait for it, but
      // only while the chain shows escrow that covers the fee.
      if (error.code === 'SPEC_INSUFFICIENT_ESCROW' && Date.now() - started < escrowWaitMs) {
        const { deposited, withdrawn } = await getEscrow(client)
        if (deposited - withdrawn - client.ledger.submittedFees >= fee) {
          await sleep(escrowDelay, parameters.signal)
          escrowDelay = Math.min(2_000, escrowDelay * 2)
          continue
        }
      }
      throw error
    }
  }
}
