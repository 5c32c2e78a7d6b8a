import { keccak256, stringToBytes } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { PrivateKeyAccount } from 'viem/accounts'

/**
 * Devnet accounts, derived from the devnet seed so a run can be repeated. The keys are public
 * knowledge: never use them outside a local devnet.
 */
export function devnetAccount(seed: string, role: 'node' | 'requester', index = 0): PrivateKeyAccount {
  return privateKeyToAccount(keccak256(stringToBytes(`veritask-devnet/${seed}/${role}/${index}`)))
}
