import { hexToBytes } from 'viem'
import { keccak256Hex } from './keccak.ts'
import { hashChallenge } from './eip712.ts'
import { isSignedBy, signDigest } from './signing.ts'
import type { SignatureVerifier, Signer } from './signing.ts'
import type { Challenge, Hex, ProtocolDomain, Signed } from './types.ts'

export function signChallenge(signer: Signer, challenge: Challenge, domain: ProtocolDomain): Promise<Signed<Challenge>> {
  return signDigest(signer, challenge, hashChallenge(challenge, domain))
}

export async function isValidChallengeSignature(
  signed: Signed<Challenge>,
  domain: ProtocolDomain,
  verify: SignatureVerifier = isSignedBy,
): Promise<boolean> {
  return verify(hashChallenge(signed.message, domain), signed.signature, signed.signer)
}

/**
 * Whether a challenge calls for an audit: keccak256(signature) mod 10^6 < ratePpm. The executor
 * cannot predict the verifier's signature over its own commitment, so it cannot know in advance
 * which tasks will be re-executed. (ECDSA signatures are not unique, so a verifier could grind for
 * "no audit"; a verifiable random function would close that, see docs/economics.md.)
 */
export function isAudited(signature: Hex, ratePpm: number): boolean {
  return BigInt(keccak256Hex(hexToBytes(signature))) % 1_000_000n < BigInt(ratePpm)
}
