import { hashReveal } from './eip712.ts'
import { isSignedBy, signDigest } from './signing.ts'
import type { Signer } from './signing.ts'
import type { ProtocolDomain, Reveal, Signed } from './types.ts'

export function signReveal(signer: Signer, reveal: Reveal, domain: ProtocolDomain): Promise<Signed<Reveal>> {
  return signDigest(signer, reveal, hashReveal(reveal, domain))
}

export function isValidRevealSignature(signed: Signed<Reveal>, domain: ProtocolDomain): Promise<boolean> {
  return isSignedBy(hashReveal(signed.message, domain), signed.signature, signed.signer)
}
