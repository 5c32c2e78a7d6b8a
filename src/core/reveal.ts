import { hashRevealBatch } from './eip712.ts'
import { isSignedBy, signDigest } from './signing.ts'
import type { SignatureVerifier, Signer } from './signing.ts'
import type { ProtocolDomain, Reveal, RevealBatch, Signed } from './types.ts'

/** Signs a batch of reveals: one signature for every task whose commit phase closed together. */
export function signRevealBatch(signer: Signer, reveals: readonly Reveal[], domain: ProtocolDomain): Promise<Signed<RevealBatch>> {
  const batch: RevealBatch = { reveals: [...reveals] }
  return signDigest(signer, batch, hashRevealBatch(batch, domain))
}

export async function isValidRevealBatchSignature(
  signed: Signed<RevealBatch>,
  domain: ProtocolDomain,
  verify: SignatureVerifier = isSignedBy,
): Promise<boolean> {
  return verify(hashRevealBatch(signed.message, domain), signed.signature, signed.signer)
}
