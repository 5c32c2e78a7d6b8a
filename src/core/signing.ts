import { isAddressEqual, recoverAddress } from 'viem'
import type { LocalAccount } from 'viem'
import type { Address, Hex, Signed } from './types.ts'

/** Anything that can sign a 32-byte EIP-712 digest: a viem local account. */
export type Signer = Pick<LocalAccount, 'address'> & Required<Pick<LocalAccount, 'sign'>>

/** Signs an EIP-712 digest (no message prefix) and wraps the message with its signer. */
export async function signDigest<T>(signer: Signer, message: T, digest: Hex): Promise<Signed<T>> {
  const signature = await signer.sign({ hash: digest })
  return { message, signer: signer.address, signature }
}

/**
 * Checks that `signature` over the EIP-712 `digest` was made by `expected`. A port: the default
 * below is viem's pure-JS recovery; a node can pass a native implementation (same answers, faster).
 */
export type SignatureVerifier = (digest: Hex, signature: Hex, expected: Address) => boolean | Promise<boolean>

/**
 * Whether `signature` over `digest` was made by `expected`. Malformed signatures count as
 * invalid rather than throwing: they come from peers.
 */
export const isSignedBy: SignatureVerifier = async (digest, signature, expected) => {
  try {
    const recovered = await recoverAddress({ hash: digest, signature })
    return isAddressEqual(recovered, expected)
  } catch {
    return false
  }
}

/** Half the secp256k1 group order: OpenZeppelin's ECDSA rejects larger `s` (malleable signatures). */
export const SECP256K1_HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

/**
 * Whether a 65-byte signature has the one form `ECDSA.recover` accepts: low `s`, `v` of 27 or 28.
 * A recovery library also accepts the mirror form (s → n − s, or v of 0 / 1) of the same
 * signature; a batch signature in that form would pass a node's check and revert on-chain.
 */
export function isCanonicalSignature(signature: Hex): boolean {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return false
  const s = BigInt(`0x${signature.slice(66, 130)}`)
  const v = Number.parseInt(signature.slice(130, 132), 16)
  return s <= SECP256K1_HALF_ORDER && (v === 27 || v === 28)
}
