import { hashReveal } from './eip712.ts'
import { isSignedBy, signDigest } from './signing.ts'
import type { SignatureVerifier, Signer } from './signing.ts'
import type { ProtocolDomain, Reveal, Signed } from './types.ts'

export function signReveal(signer: Signer, reveal: Reveal, domain: ProtocolDomain): Promise<Signed<Reveal>> {
  return signDigest(signer, reveal, hashReveal(reveal, domain))
}

export async function isValidRevealSignature(
  signed: Signed<Reveal>,
  domain: ProtocolDomain,
  verify: SignatureVerifier = isSignedBy,
): Promise<boolean> {
  return verify(hashReveal(signed.message, domain), signed.signature, signed.signer)
}
