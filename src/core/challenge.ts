import { secp256k1 } from '@noble/curves/secp256k1'
import { bytesToHex, hexToBytes } from 'viem'
import { hashChallenge } from './eip712.ts'
import { writeHex } from './hexBytes.ts'
import { isSignedBy, signDigest } from './signing.ts'
import type { SignatureVerifier, Signer } from './signing.ts'
import type { AuditDraw, Challenge, Hex, ProtocolDomain, SignedChallenge } from './types.ts'
import { proveVrf, verifyVrf, vrfPublicKeyToAddress } from './vrf.ts'
import type { VerifyVrfReturnType, VrfProof } from './vrf.ts'

/**
 * Checks a VRF proof: `verifyVrf` (pure JavaScript) by default; nodes pass a native one
 * (src/crypto/vrf.ts) with the same outcomes, as they do for signatures.
 */
export type VrfVerifier = (publicKey: Hex, alpha: Uint8Array, proof: VrfProof) => VerifyVrfReturnType

/** A node's VRF key: its public key, and proofs made with its private key (the node's own secp256k1 key). */
export interface VrfKey {
  /** Compressed secp256k1 public key: its address is the node's account. */
  readonly publicKey: Hex
  prove(alpha: Uint8Array): VrfProof
}

/** The VRF key of a node's account key. Proofs are deterministic, so a restarted node draws the same. */
export function createVrfKey(privateKey: Hex): VrfKey {
  const publicKey = bytesToHex(secp256k1.getPublicKey(hexToBytes(privateKey), true))
  return { publicKey, prove: (alpha) => proveVrf(privateKey, alpha) }
}

const AUDIT_TAG = new TextEncoder().encode('veritask/audit')

/** What an audit draw proves: 'veritask/audit' ‖ taskId ‖ commitment (the task id binds the network's domain). */
export function auditAlpha({ taskId, commitment }: Challenge): Uint8Array {
  const alpha = new Uint8Array(AUDIT_TAG.length + 64)
  alpha.set(AUDIT_TAG)
  writeHex(alpha, AUDIT_TAG.length, taskId, 32, 'taskId')
  writeHex(alpha, AUDIT_TAG.length + 32, commitment, 32, 'commitment')
  return alpha
}

/** Signs a challenge of an executor's commitment and draws its audit with the verifier's VRF key. */
export async function signChallenge(signer: Signer, vrf: VrfKey, challenge: Challenge, domain: ProtocolDomain): Promise<SignedChallenge> {
  const signed = await signDigest(signer, challenge, hashChallenge(challenge, domain))
  return { ...signed, draw: { publicKey: vrf.publicKey, ...vrf.prove(auditAlpha(challenge)) } }
}

export async function isValidChallengeSignature(
  signed: SignedChallenge,
  domain: ProtocolDomain,
  verify: SignatureVerifier = isSignedBy,
): Promise<boolean> {
  return verify(hashChallenge(signed.message, domain), signed.signature, signed.signer)
}

/**
 * The audit draw's output, or undefined when the draw is not the signer's VRF output on this
 * challenge (another key, a proof that does not verify). The output is unique for the key and
 * the challenge: re-encoding the challenge's signature, signing it again with another nonce, or
 * proving again gives the same output, so the audit decision cannot be ground or flipped.
 */
export function auditDrawOf(signed: { message: Challenge; signer: Hex; draw: AuditDraw }, verify: VrfVerifier = verifyVrf): Hex | undefined {
  const { publicKey, gamma, c, s } = signed.draw
  const result = verify(publicKey, auditAlpha(signed.message), { gamma, c, s })
  if (!result.valid) return undefined
  return vrfPublicKeyToAddress(publicKey).toLowerCase() === signed.signer.toLowerCase() ? result.beta : undefined
}

/**
 * Whether an audit draw calls for an audit: its output mod 10^6 < ratePpm. The executor cannot
 * foresee the verifier's VRF output on its commitment, and the verifier cannot choose it.
 */
export function isAudited(draw: Hex, ratePpm: number): boolean {
  return BigInt(draw) % 1_000_000n < BigInt(ratePpm)
}
