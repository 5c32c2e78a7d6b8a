import { contentId } from '../../core/contentId.ts'
import { policyForSecurityLevel } from '../../core/securityLevel.ts'
import { signTaskSpec } from '../../core/taskSpec.ts'
import type { Hex, Policy, SignedSpec, TaskLimits, TaskSpec } from '../../core/types.ts'
import { onChain } from '../createVeritaskClient.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import { InvalidProgramError, NodeApiError, TaskAnchorFailedError } from '../errors.ts'
import type { ChainUnreachableError, InsufficientTokensError, NodeUnreachableError } from '../errors.ts'
import { assertWasmProgram } from '../program.ts'
import { sleep } from '../sleep.ts'
import { anchoredDrawBlock, createDrawLead } from '../drawLead.ts'
import type { DrawLead } from '../drawLead.ts'
import { getEscrow } from './getEscrow.ts'
import { LATE_ANCHOR_RETRIES, signAnchored } from '../signAnchored.ts'

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
  /** The signed spec with its anchor proof, as the node took it. */
  signed: SignedSpec
  /** True when the node already knew the task (an earlier attempt whose answer was lost). */
  duplicate: boolean
}

export type SubmitTaskErrorType =
  | InvalidProgramError
  | NodeApiError
  | NodeUnreachableError
  | ChainUnreachableError
  | TaskAnchorFailedError
  | InsufficientTokensError

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
// Short: a spec naming an epoch that just ended is refused, and a cached draw block eats into the
// time its anchor has to be mined before it.
const TERMS_TTL_MS = 100
/** Each client's anchor lead, learned from its anchors (one queue, one wallet per client). */
const leads = new WeakMap<VeritaskClientBase, DrawLead>()
/** How long a spec a node finds too far ahead (`SPEC_DRAW_TOO_FAR`: its view lags the chain) is signed again. */
const DRAW_CATCH_UP_MS = 10_000

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

/**
 * The draw block a spec names: the node's (`GET /v1/status`), but where the client anchors on a
 * chain, at least `lead` blocks past the newest block the client reads itself (`anchoredDrawBlock`,
 * the client's `DrawLead`): a node's view of the chain may lag the chain, and the anchor must land
 * before the draw block.
 */
async function drawBlockOf(client: VeritaskClientBase, offered: bigint, onChainAnchors: boolean, lead: bigint): Promise<bigint> {
  if (!onChainAnchors) return offered
  const head = await onChain(client.rpcUrl, 'read the block number', () => client.publicClient.getBlockNumber({ cacheTime: 0 }))
  return anchoredDrawBlock(offered, head, lead)
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
 * Signs a task spec for the client's account, anchors its id on-chain and submits it with the
 * program and input bytes to the node API. Resolves once a node accepted it (it checked
 * signature, limits, deadline, escrow and anchor and gossiped it); `waitForResult` follows it to a
 * verdict.
 *
 * The spec names the node's epoch and a draw block a few blocks ahead: the node's
 * (`GET /v1/status`), or, if later, the client's lead past the chain's head as the client reads it
 * (`ANCHOR_LEAD_BLOCKS` to start, raised when its anchors land late: `createDrawLead`). Its seats
 * are drawn from that block's hash; so that the requester cannot try task ids until that hash
 * seats a coalition of its choosing, the nodes take a spec only if its id was anchored on-chain in
 * a block before the draw block (`TaskAnchors.anchor`, core/taskAnchor.ts). The client's anchorer
 * (`client.anchorer`) records the Merkle root of the ids it signed meanwhile in one transaction
 * from the client's wallet, paying the minimum fee per id from the wallet's tokens (not the
 * escrow), and the spec travels with its proof.
 *
 * A spec whose anchor landed in its draw block or later is signed again for a later draw block
 * and anchored again, up to three times; one a node refuses as too far ahead (`SPEC_DRAW_TOO_FAR`:
 * its view of the chain lags the client's) is signed again after a pause, for up to 10 s; one whose
 * epoch just ended is signed again too. Each anchored id is paid for, submitted or not.
 *
 * @example
 * ```ts
 * const { taskId } = await client.submitTask({ program: wasmBytes, input: new TextEncoder().encode('to be or not to be'), fee: 10n ** 15n })
 * ```
 */
export async function submitTask(client: VeritaskClientBase, parameters: SubmitTaskParameters): Promise<SubmitTaskReturnType> {
  const program = programBytes(client, parameters.program)
  const { domain, anchors } = await client.chain()
  const limits = { ...defaultTaskTerms.limits, ...parameters.limits }
  const fee = parameters.fee ?? defaultTaskTerms.fee
  const nonce = parameters.nonce ?? client.nextNonce()
  const body = { program: Buffer.from(program).toString('base64'), input: Buffer.from(parameters.input).toString('base64') }
  const request = parameters.signal ? { signal: parameters.signal } : {}
  const started = Date.now()
  const escrowWaitMs = parameters.escrowWaitMs ?? 30_000
  let escrowDelay = 250
  let termRetries = 0
  let lead = leads.get(client)
  if (lead === undefined) leads.set(client, (lead = createDrawLead()))
  /** Specs signed so far: each after the first names the node's terms read afresh. */
  let signs = 0
  for (;;) {
    const { signed, taskId, block, inTime } = await signAnchored({
      async sign(leadBlocks) {
        const { epoch, drawBlock: offered } = await submissionTerms(client, signs++ > 0, parameters.signal)
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
          drawBlock: await drawBlockOf(client, offered, anchors !== undefined, leadBlocks),
          deadline: BigInt(Date.now() + (parameters.deadlineMs ?? defaultTaskTerms.deadlineMs)),
        }
        return signTaskSpec(client.account as Parameters<typeof signTaskSpec>[0], spec, domain)
      },
      anchorer: client.anchorer,
      lead,
      domain,
    })
    const spec = signed.message
    if (!inTime) {
      // Anchored once the draw could be known, every time: the nodes would refuse it.
      throw new TaskAnchorFailedError('SDK_ANCHOR_FAILED', `The task's id was anchored in block ${block}, not before its draw block ${spec.drawBlock}, ${LATE_ANCHOR_RETRIES + 1} times.`, {
        details: { taskId, block, drawBlock: spec.drawBlock },
        hint: 'The anchor transactions take longer to be mined than the node leaves before the draw block: check the chain (its gas price, its block time) and try again.',
      })
    }
    try {
      await client.api.json('/v1/tasks', { method: 'POST', json: { spec, signature: signed.signature, anchor: signed.anchor, ...body }, ...request })
      client.ledger.submittedFees += fee
      return { taskId, signed, duplicate: false }
    } catch (error) {
      if (!(error instanceof NodeApiError)) throw error
      // A retried POST whose first answer was lost finds its own task.
      if (error.code === 'SPEC_DUPLICATE') {
        client.ledger.submittedFees += fee
        return { taskId, signed, duplicate: true }
      }
      // The epoch closed on the way: sign again for the node's new terms.
      if (error.code === 'SPEC_WRONG_EPOCH' && ++termRetries <= 3) continue
      // The node's view of the chain lags the client's more than its lead allows: let it catch up.
      if (error.code === 'SPEC_DRAW_TOO_FAR' && Date.now() - started < DRAW_CATCH_UP_MS) {
        lead.reset()
        await sleep(250, parameters.signal)
        continue
      }
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
