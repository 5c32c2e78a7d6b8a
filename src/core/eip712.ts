import { zeroAddress } from 'viem'
import { createTypedDataHasher } from './typedDataHash.ts'
import type { TypedDataDomain } from './typedDataHash.ts'
import type { BatchEvidence, BatchProposal, BatchVouch, Challenge, Commit, CommitBatch, Reveal, Hex, Policy, ProtocolDomain, RevealBatch, ResultStatus, TaskSpec, Verdict, Outcome } from './types.ts'
import type { Comparison } from './types.ts'

/**
 * EIP-712 types of every signed veritask message. Changing a type changes every id and signature:
 * bump the domain version when you do.
 */
export const eip712Types = {
  TaskSpec: [
    { name: 'requester', type: 'address' },
    { name: 'nonce', type: 'uint64' },
    { name: 'runtime', type: 'string' },
    { name: 'program', type: 'bytes32' },
    { name: 'input', type: 'bytes32' },
    { name: 'limits', type: 'Limits' },
    { name: 'policy', type: 'Policy' },
    { name: 'comparison', type: 'Comparison' },
    { name: 'fee', type: 'uint256' },
    { name: 'epoch', type: 'uint64' },
    { name: 'drawBlock', type: 'uint64' },
    { name: 'deadline', type: 'uint64' },
  ],
  Limits: [
    { name: 'fuel', type: 'uint64' },
    { name: 'memoryPages', type: 'uint32' },
    { name: 'outputBytes', type: 'uint32' },
  ],
  Policy: [
    { name: 'kind', type: 'uint8' },
    { name: 'k', type: 'uint16' },
    { name: 'quorum', type: 'uint16' },
    { name: 'ratePpm', type: 'uint32' },
  ],
  Comparison: [
    { name: 'kind', type: 'uint8' },
    { name: 'absMicro', type: 'uint32' },
    { name: 'relPpm', type: 'uint32' },
    { name: 'k', type: 'uint16' },
  ],
  Commit: [
    { name: 'taskId', type: 'bytes32' },
    { name: 'commitment', type: 'bytes32' },
  ],
  CommitBatch: [{ name: 'commits', type: 'Commit[]' }],
  RevealBatch: [{ name: 'reveals', type: 'Reveal[]' }],
  BatchProposal: [
    { name: 'epoch', type: 'uint64' },
    { name: 'round', type: 'uint32' },
    { name: 'digest', type: 'bytes32' },
    { name: 'tasks', type: 'bytes32' },
  ],
  BatchEvidence: [
    { name: 'epoch', type: 'uint64' },
    { name: 'round', type: 'uint32' },
    { name: 'tasks', type: 'bytes32' },
  ],
  BatchVouch: [
    { name: 'epoch', type: 'uint64' },
    { name: 'round', type: 'uint32' },
    { name: 'digest', type: 'bytes32' },
    { name: 'seated', type: 'bytes32' },
    { name: 'tasks', type: 'bytes' },
  ],
  Reveal: [
    { name: 'taskId', type: 'bytes32' },
    { name: 'status', type: 'uint8' },
    { name: 'resultHash', type: 'bytes32' },
    { name: 'salt', type: 'bytes32' },
  ],
  Challenge: [
    { name: 'taskId', type: 'bytes32' },
    { name: 'commitment', type: 'bytes32' },
  ],
  Verdict: [
    { name: 'taskId', type: 'bytes32' },
    { name: 'outcome', type: 'uint8' },
    { name: 'resultHash', type: 'bytes32' },
    { name: 'executors', type: 'address[]' },
  ],
} as const

export const devnetDomain: ProtocolDomain = { chainId: 31337, verifyingContract: zeroAddress }

/** The EIP-712 domain object of a protocol domain. */
export function eip712Domain(domain: ProtocolDomain) {
  return { name: 'veritask', version: '1', chainId: domain.chainId, verifyingContract: domain.verifyingContract }
}

/** Stable small-integer codes used in signed messages and on-chain leaves. */
export const policyKindCode = { replicate: 0, sample: 1 } as const
export const resultStatusCode: Record<ResultStatus, number> = { ok: 0, failed: 1 }
export const outcomeCode: Record<Outcome, number> = { verified: 0, failed: 1, unresolved: 2 }

export const comparisonKindCode = { exact: 0, maxError: 1, topK: 2 } as const

/** A comparison as signed: every kind fills every field, unused ones with zero. */
function comparisonMessage(comparison: Comparison = { kind: 'exact' }) {
  return {
    kind: comparisonKindCode[comparison.kind],
    absMicro: comparison.kind === 'maxError' ? comparison.absMicro : 0,
    relPpm: comparison.kind === 'maxError' ? comparison.relPpm : 0,
    k: comparison.kind === 'topK' ? comparison.k : 0,
  }
}

function policyMessage(policy: Policy) {
  return policy.kind === 'replicate'
    ? { kind: policyKindCode.replicate, k: policy.k, quorum: policy.quorum, ratePpm: policy.auditPpm ?? 0 }
    : { kind: policyKindCode.sample, k: 1, quorum: 1, ratePpm: policy.ratePpm }
}

/** The task id: the EIP-712 hash of the spec, which is also what the requester signs. */
export function hashTaskSpec(spec: TaskSpec, domain: ProtocolDomain): Hex {
  return hashTypedData({
    domain: eip712Domain(domain),
    types: eip712Types,
    primaryType: 'TaskSpec',
    message: { ...spec, policy: policyMessage(spec.policy), comparison: comparisonMessage(spec.comparison) },
  })
}

export function hashBatchProposal(proposal: BatchProposal, domain: ProtocolDomain): Hex {
  return hashTypedData({ domain: eip712Domain(domain), types: eip712Types, primaryType: 'BatchProposal', message: proposal })
}

export function hashBatchEvidence(evidence: BatchEvidence, domain: ProtocolDomain): Hex {
  return hashTypedData({ domain: eip712Domain(domain), types: eip712Types, primaryType: 'BatchEvidence', message: evidence })
}

export function hashBatchVouch(vouch: BatchVouch, domain: ProtocolDomain): Hex {
  return hashTypedData({ domain: eip712Domain(domain), types: eip712Types, primaryType: 'BatchVouch', message: vouch })
}

/** What an executor signs for a batch of commits: EIP-712 hashes each commit, then the list. */
export function hashCommitBatch(batch: CommitBatch, domain: ProtocolDomain): Hex {
  return hashTypedData({ domain: eip712Domain(domain), types: eip712Types, primaryType: 'CommitBatch', message: batch })
}

export function hashChallenge(challenge: Challenge, domain: ProtocolDomain): Hex {
  return hashTypedData({ domain: eip712Domain(domain), types: eip712Types, primaryType: 'Challenge', message: challenge })
}

export function hashRevealBatch(batch: RevealBatch, domain: ProtocolDomain): Hex {
  return hashTypedData({
    domain: eip712Domain(domain),
    types: eip712Types,
    primaryType: 'RevealBatch',
    message: { reveals: batch.reveals.map((reveal) => ({ ...reveal, status: resultStatusCode[reveal.status] })) },
  })
}

/** hashStruct of one commit: what a commit batch's signature covers of it. */
export function hashCommitItem(commit: Commit): Hex {
  return typedDataHasher().hashStruct('Commit', commit)
}

/** hashStruct of one reveal. */
export function hashRevealItem(reveal: Reveal): Hex {
  return typedDataHasher().hashStruct('Reveal', { ...reveal, status: resultStatusCode[reveal.status] })
}

/**
 * The digest of a commit or reveal batch from its items' own hashes (`hashCommitItem`,
 * `hashRevealItem`), equal to `hashCommitBatch` / `hashRevealBatch` of the whole batch.
 */
export function hashBatchOfItems(kind: 'commits' | 'reveals', itemHashes: readonly Hex[], domain: ProtocolDomain): Hex {
  return typedDataHasher().hashArrayStruct(eip712Domain(domain), kind === 'commits' ? 'CommitBatch' : 'RevealBatch', itemHashes)
}

export function hashVerdict(verdict: Verdict, domain: ProtocolDomain): Hex {
  return hashTypedData({
    domain: eip712Domain(domain),
    types: eip712Types,
    primaryType: 'Verdict',
    message: {
      taskId: verdict.taskId,
      outcome: outcomeCode[verdict.outcome],
      resultHash: verdict.resultHash,
      executors: verdict.executors,
    },
  })
}

let hasher: ReturnType<typeof createTypedDataHasher> | undefined

function typedDataHasher(): ReturnType<typeof createTypedDataHasher> {
  return (hasher ??= createTypedDataHasher(eip712Types))
}

/**
 * viem's `hashTypedData`, for veritask's own types, served by a hasher compiled once
 * (typedDataHash.ts): same digest, a fraction of the keccak work.
 */
function hashTypedData(typed: { domain: TypedDataDomain; types: typeof eip712Types; primaryType: keyof typeof eip712Types; message: unknown }): Hex {
  return typedDataHasher().hash(typed.domain, typed.primaryType, typed.message)
}
