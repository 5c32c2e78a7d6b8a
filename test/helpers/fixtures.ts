import { keccak256, stringToBytes, zeroHash } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { LocalAccount, PrivateKeyAccount } from 'viem/accounts'
import { contentId } from '../../src/core/contentId.ts'
import { auditAlpha, createVrfKey } from '../../src/core/challenge.ts'
import type { VrfKey } from '../../src/core/challenge.ts'
import type { Address, Challenge, Hex, SignedChallenge, TaskSpec } from '../../src/core/types.ts'
import { deriveBlsKey } from '../../src/crypto/bls.ts'
import type { BlsKey } from '../../src/crypto/bls.ts'
import type { SettlementPort } from '../../src/ports/settlement.ts'
import type { TaskState } from '../../src/core/task.ts'

/** A fixed, test-only account: the key is derived from `label`. */
export function testAccount(label: string): PrivateKeyAccount {
  return privateKeyToAccount(keccak256(stringToBytes(`veritask-test:${label}`)))
}

const blsKeys = new Map<string, Promise<BlsKey>>()

/** The BLS key of an account (`deriveBlsKey`), derived once per address. */
export function blsKeyOf(account: Pick<LocalAccount, 'address' | 'sign'>): Promise<BlsKey> {
  const { address, sign } = account
  if (sign === undefined) throw new Error(`blsKeyOf: account ${address} cannot sign`)
  let key = blsKeys.get(address)
  if (key === undefined) blsKeys.set(address, (key = deriveBlsKey({ address, sign })))
  return key
}

/** Registers `account`'s BLS key with its proof of possession through `settlement` (a memory chain or a node's port). */
export async function registerBlsKey(settlement: Pick<SettlementPort, 'registerBlsKey'>, account: Pick<LocalAccount, 'address' | 'sign'>): Promise<void> {
  const key = await blsKeyOf(account)
  await settlement.registerBlsKey(account.address, key.publicKey, key.proofOfPossession(account.address))
}

/** The VRF key of `testAccount(label)`'s key: its audit draws verify for that account. */
export function testVrfKey(label: string): VrfKey {
  return createVrfKey(keccak256(stringToBytes(`veritask-test:${label}`)))
}

/** A challenge with the audit draw of `vrf` and a placeholder signature (core's state machine leaves signatures to the caller). */
export function drawnChallenge(vrf: VrfKey, signer: Address, message: Challenge, signature: Hex = `0x${'11'.repeat(65)}`): SignedChallenge {
  return { message, signer, signature, draw: { publicKey: vrf.publicKey, ...vrf.prove(auditAlpha(message)) } }
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
    drawBlock: 1n,
    deadline: 1_000_000n,
    ...overrides,
  }
}

export const seed = keccak256(stringToBytes('test-seed'))
export { zeroHash }

/**
 * Arbitration seats for a test (what `openArbitration` takes): one for each committer and one for
 * each of the first `count` of `nodes` that did not commit, so that every voter holds one vote.
 */
export function seatsAmong(state: Pick<TaskState, 'commits'>, nodes: readonly Address[], count: number): Address[] {
  const committed = new Set(state.commits.map((c) => c.executor))
  return [...nodes.filter((node) => committed.has(node)), ...nodes.filter((node) => !committed.has(node)).slice(0, count)]
}
