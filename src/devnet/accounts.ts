import { keccak256, stringToBytes } from 'viem'
import type { Hex } from 'viem'
import type { Signer } from '../core/signing.ts'
import { createNativeSigner } from '../crypto/secp256k1.ts'

/**
 * Devnet accounts, derived from the devnet seed so a run can be repeated. The keys are public
 * knowledge: never use them outside a local devnet.
 */
export function devnetPrivateKey(seed: string, role: 'node' | 'requester' | 'treasury', index = 0): Hex {
  return keccak256(stringToBytes(`veritask-devnet/${seed}/${role}/${index}`))
}

export function devnetAccount(seed: string, role: 'node' | 'requester' | 'treasury', index = 0): Signer {
  return createNativeSigner(devnetPrivateKey(seed, role, index))
}
