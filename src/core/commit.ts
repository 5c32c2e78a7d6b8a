import { writeHex } from './hexBytes.ts'
import { keccak256Hex } from './keccak.ts'
import { hashCommit, resultStatusCode } from './eip712.ts'
import { isSignedBy, signDigest } from './signing.ts'
import type { SignatureVerifier, Signer } from './signing.ts'
import type { Address, Commit, Hex, ProtocolDomain, ResultStatus, Signed } from './types.ts'

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

export function signCommit(signer: Signer, commit: Commit, domain: ProtocolDomain): Promise<Signed<Commit>> {
  return signDigest(signer, commit, hashCommit(commit, domain))
}

export async function isValidCommitSignature(
  signed: Signed<Commit>,
  domain: ProtocolDomain,
  verify: SignatureVerifier = isSignedBy,
): Promise<boolean> {
  return verify(hashCommit(signed.message, domain), signed.signature, signed.signer)
}
