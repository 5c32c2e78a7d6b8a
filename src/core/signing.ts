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
