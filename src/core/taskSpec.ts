import { SpecRejectedError } from './errors.ts'
import { assertValidComparison } from './comparison.ts'
import { hashTaskSpec } from './eip712.ts'
import { MAX_DRAW_LEAD_BLOCKS } from './params.ts'
import type { ProtocolParams } from './params.ts'
import { isSignedBy, signDigest } from './signing.ts'
import type { SignatureVerifier, Signer } from './signing.ts'
import type { Hex, Policy, ProtocolDomain, SignedSpec, TaskSpec } from './types.ts'

/** Runtimes this version of the protocol knows. */
export const supportedRuntimes = ['wasm', 'onnx'] as const

/**
 * What a node must advertise to be eligible for a task: the runtime's name, and for `onnx` the
 * model too, as `onnx:<model id>` (the program's content id). Sortition ranks only nodes whose
 * listing in the epoch snapshot carries it.
 */
export function requiredCapability(spec: Pick<TaskSpec, 'runtime' | 'program'>): string {
  return spec.runtime === 'onnx' ? `onnx:${spec.program.toLowerCase()}` : spec.runtime
}

/** Signs a spec as its requester. The signature is over the task id. */
export async function signTaskSpec(signer: Signer, spec: TaskSpec, domain: ProtocolDomain): Promise<SignedSpec> {
  if (signer.address.toLowerCase() !== spec.requester.toLowerCase()) {
    throw new SpecRejectedError('SPEC_BAD_SIGNATURE', 'Only the requester named in a task spec can sign it.', {
      details: { requester: spec.requester, signer: signer.address },
    })
  }
  return signDigest(signer, spec, hashTaskSpec(spec, domain))
}

/** Whether `quorum` is a strict majority of k, and at most k: two different winning results are then impossible. */
export function isStrictMajority(k: number, quorum: number): boolean {
  return Number.isInteger(quorum) && quorum * 2 > k && quorum <= k
}

/** Throws `SPEC_INVALID_POLICY` unless the policy is well formed and within the parameters. */
export function assertValidPolicy(policy: Policy, params: ProtocolParams): void {
  if (policy.kind === 'sample') {
    if (!Number.isInteger(policy.ratePpm) || policy.ratePpm < 1 || policy.ratePpm > 1_000_000) {
      throw new SpecRejectedError('SPEC_INVALID_POLICY', 'The sample rate must be an integer from 1 to 1,000,000 parts per million.', {
        details: { ratePpm: policy.ratePpm },
      })
    }
    return
  }
  const { k, quorum } = policy
  if (!Number.isInteger(k) || k < 1 || k > params.maxK) {
    throw new SpecRejectedError('SPEC_INVALID_POLICY', `Replication k must be an integer from 1 to ${params.maxK}.`, {
      details: { k },
    })
  }
  if (!isStrictMajority(k, quorum)) {
    throw new SpecRejectedError('SPEC_INVALID_POLICY', 'Quorum must be a strict majority of k and at most k.', {
      details: { k, quorum },
      hint: `For k = ${k} use quorum ${Math.floor(k / 2) + 1}.`,
    })
  }
  const auditPpm = policy.auditPpm ?? 0
  if (!Number.isInteger(auditPpm) || auditPpm < params.minAuditPpm || auditPpm > 1_000_000) {
    throw new SpecRejectedError('SPEC_INVALID_POLICY', `The audit rate must be an integer from ${params.minAuditPpm} to 1,000,000 parts per million.`, {
      details: { auditPpm, minAuditPpm: params.minAuditPpm },
      hint: `Set auditPpm to at least ${params.minAuditPpm}: unanimous seats are audited at that rate.`,
    })
  }
}

export interface CheckTaskSpecParameters {
  signed: SignedSpec
  domain: ProtocolDomain
  params: ProtocolParams
  /** Local time in ms. */
  now: number
  verify?: SignatureVerifier
  /** The spec's hash (the task id), when the caller has computed it already. */
  taskId?: Hex
}

/**
 * Checks everything about a spec that does not depend on node state: signature, runtime, policy,
 * limits and deadline. Returns the task id. Escrow and duplicates are the node's to check.
 */
export async function checkTaskSpec({
  signed,
  domain,
  params,
  now,
  verify = isSignedBy,
  taskId = hashTaskSpec(signed.message, domain),
}: CheckTaskSpecParameters): Promise<Hex> {
  const spec = signed.message
  if (
    signed.signer.toLowerCase() !== spec.requester.toLowerCase() ||
    !(await verify(taskId, signed.signature, spec.requester))
  ) {
    throw new SpecRejectedError('SPEC_BAD_SIGNATURE', 'The task spec is not signed by its requester.', {
      details: { taskId, requester: spec.requester },
    })
  }
  if (!(supportedRuntimes as readonly string[]).includes(spec.runtime)) {
    throw new SpecRejectedError('SPEC_UNSUPPORTED_RUNTIME', `Runtime "${spec.runtime}" is not supported.`, {
      details: { taskId, runtime: spec.runtime },
      hint: `Supported runtimes: ${supportedRuntimes.join(', ')}.`,
    })
  }
  assertValidPolicy(spec.policy, params)
  if (spec.fee < params.minFee) {
    throw new SpecRejectedError('SPEC_FEE_TOO_LOW', `The fee is below the network's minimum of ${params.minFee}.`, {
      details: { taskId, fee: spec.fee, minFee: params.minFee },
      hint: `Offer a fee of at least ${params.minFee} (governed: NetworkParameters.minFee).`,
    })
  }
  if (spec.comparison !== undefined) assertValidComparison(spec.comparison)
  const { fuel, memoryPages, outputBytes } = spec.limits
  if (
    fuel <= 0n ||
    fuel > params.maxFuel ||
    memoryPages < 1 ||
    memoryPages > params.maxMemoryPages ||
    outputBytes < 0 ||
    outputBytes > params.maxOutputBytes
  ) {
    throw new SpecRejectedError('SPEC_LIMITS_EXCEEDED', 'The task limits are outside what the network allows.', {
      details: { taskId, limits: spec.limits },
      hint: `fuel ≤ ${params.maxFuel}, memoryPages 1..${params.maxMemoryPages}, outputBytes ≤ ${params.maxOutputBytes}.`,
    })
  }
  // The task must be able to finish: one commit window plus one reveal window before the deadline.
  if (spec.deadline < BigInt(now + params.commitWindowMs + params.revealWindowMs)) {
    throw new SpecRejectedError('SPEC_EXPIRED', 'The task deadline is too close or already past.', {
      details: { taskId, deadline: spec.deadline, now },
      hint: `Set a deadline at least ${params.commitWindowMs + params.revealWindowMs} ms in the future.`,
    })
  }
  return taskId
}

/**
 * Throws unless the spec's draw block lies at most `MAX_DRAW_LEAD_BLOCKS` past `head`, the newest
 * block the node has seen: a task waits that long at most for its seats. A draw block already mined
 * is fine: what keeps a requester from choosing its seats is its anchor, recorded before the draw
 * block (core/taskAnchor.ts), not when the spec reaches a node.
 */
export function checkDrawBlock(spec: TaskSpec, head: bigint, taskId?: Hex): void {
  if (spec.drawBlock > head + MAX_DRAW_LEAD_BLOCKS) {
    throw new SpecRejectedError('SPEC_DRAW_TOO_FAR', `The spec's draw block ${spec.drawBlock} is more than ${MAX_DRAW_LEAD_BLOCKS} blocks ahead.`, {
      details: { taskId, drawBlock: spec.drawBlock, head },
      hint: `Name a block up to ${head + MAX_DRAW_LEAD_BLOCKS} (GET /v1/status gives one).`,
    })
  }
}
