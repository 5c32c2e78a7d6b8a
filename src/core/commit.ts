import { encodeAbiParameters } from 'viem'
import { keccak256 } from 'viem'
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
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint8' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'address' }],
      [taskId, resultStatusCode[status], resultHash, salt, executor],
    ),
  )
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
