import { keccak256, stringToBytes, zeroHash } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { PrivateKeyAccount } from 'viem/accounts'
import { contentId } from '../../src/core/contentId.ts'
import type { TaskSpec } from '../../src/core/types.ts'

/** A fixed, test-only account: the key is derived from `label`. */
export function testAccount(label: string): PrivateKeyAccount {
  return privateKeyToAccount(keccak256(stringToBytes(`veritask-test:${label}`)))
}

export const requester = testAccount('requester')

export function makeSpec(overrides: Partial<TaskSpec> = {}): TaskSpec {
  return {
    requester: requester.address,
    nonce: 1n,
    runtime: 'wasm',
    program: contentId(stringToBytes('program')),
    input: contentId(stringToBytes('input')),
    limits: { fuel: 1_000_000n, memoryPages: 16, outputBytes: 1024 },
    policy: { kind: 'replicate', k: 3, quorum: 2 },
    fee: 1_000n,
    epoch: 0n,
    deadline: 1_000_000n,
    ...overrides,
  }
}

export const seed = keccak256(stringToBytes('test-seed'))
export { zeroHash }
