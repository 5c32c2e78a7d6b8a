import { writeHex } from './hexBytes.ts'
import { keccak256Hex } from './keccak.ts'
import { hashCommitBatch, resultStatusCode } from './eip712.ts'
import { isSignedBy, signDigest } from './signing.ts'
import type { SignatureVerifier, Signer } from './signing.ts'
import type { Address, Commit, CommitBatch, Hex, ProtocolDomain, ResultStatus, Signed } from './types.ts'

export interface CommitmentParameters {
  taskId: Hex
  status: ResultStatus
  resultHash: Hex
  salt: Hex
  executor: Address
}

/**
 * The sealed value an executor commits to. Binding the executor's address makes a commitment
 * useless to anyone else: a copier cannot reuse another executor's commit.
 */
export function computeCommitment({ taskId, status, resultHash, salt, executor }: CommitmentParameters): Hex {
  // abi.encode(bytes32, uint8, bytes32, bytes32, address): five 32-byte words.
  const words = new Uint8Array(5 * 32)
  writeHex(words, 0, taskId, 32, 'taskId')
  words[63] = resultStatusCode[status]
  writeHex(words, 64, resultHash, 32, 'resultHash')
  writeHex(words, 96, salt, 32, 'salt')
  writeHex(words, 140, executor, 20, 'executor')
  return keccak256Hex(words)
}

/** Signs a batch of commits: one signature, however many tasks the executor finished. */
export function signCommitBatch(signer: Signer, commits: readonly Commit[], domain: ProtocolDomain): Promise<Signed<CommitBatch>> {
  const batch: CommitBatch = { commits: [...commits] }
  return signDigest(signer, batch, hashCommitBatch(batch, domain))
}

export async function isValidCommitBatchSignature(
  signed: Signed<CommitBatch>,
  domain: ProtocolDomain,
  verify: SignatureVerifier = isSignedBy,
): Promise<boolean> {
  return verify(hashCommitBatch(signed.message, domain), signed.signature, signed.signer)
}
