import { bytesToHex, getAddress, hashTypedData, hexToBytes } from 'viem'
import { eip712Domain } from '../../core/eip712.ts'
import type { SignatureVerifier, Signer } from '../../core/signing.ts'
import type { Address, Hex, ProtocolDomain } from '../../core/types.ts'

/**
 * A peer binding ties a libp2p peer id to the Ethereum account that stakes for it: the account
 * signs the EIP-712 message `PeerBinding { peerId }` under the protocol domain. On the wire it is
 * 85 bytes: the 20-byte account, then the 65-byte signature (r ‖ s ‖ v).
 *
 * The peer id itself is not in the record: the receiver takes it from the connection, which Noise
 * authenticates with the peer's libp2p key. A record copied by another peer is therefore useless
 * to it, and a record for one network (domain) is useless on another.
 */
export interface PeerBinding {
  account: Address
  signature: Hex
}

export const peerBindingBytes = 20 + 65

export const peerBindingTypes = {
  PeerBinding: [{ name: 'peerId', type: 'string' }],
} as const

/** The EIP-712 digest an account signs to bind `peerId` to itself. */
export function hashPeerBinding(domain: ProtocolDomain, peerId: string): Hex {
  return hashTypedData({ domain: eip712Domain(domain), types: peerBindingTypes, primaryType: 'PeerBinding', message: { peerId } })
}

export async function signPeerBinding(signer: Signer, domain: ProtocolDomain, peerId: string): Promise<PeerBinding> {
  return { account: signer.address, signature: await signer.sign({ hash: hashPeerBinding(domain, peerId) }) }
}

/** Whether `binding` was signed by its account for `peerId`. Malformed signatures are invalid, not errors. */
export async function isValidPeerBinding(
  binding: PeerBinding,
  domain: ProtocolDomain,
  peerId: string,
  verify: SignatureVerifier,
): Promise<boolean> {
  try {
    return await verify(hashPeerBinding(domain, peerId), binding.signature, binding.account)
  } catch {
    return false
  }
}

export function encodePeerBinding(binding: PeerBinding): Uint8Array {
  const signature = hexToBytes(binding.signature)
  if (signature.byteLength !== 65) throw new RangeError('a peer binding signature is 65 bytes')
  const out = new Uint8Array(peerBindingBytes)
  out.set(hexToBytes(binding.account), 0)
  out.set(signature, 20)
  return out
}

/** Decodes the wire form; `undefined` when it is not exactly 85 bytes. */
export function decodePeerBinding(bytes: Uint8Array): PeerBinding | undefined {
  if (bytes.byteLength !== peerBindingBytes) return undefined
  return { account: getAddress(bytesToHex(bytes.subarray(0, 20))), signature: bytesToHex(bytes.subarray(20)) }
}
