import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { makeSpec, requester, testAccount } from '../../test/helpers/fixtures.ts'
import { devnetDomain, hashTaskSpec } from './eip712.ts'
import { SpecRejectedError } from './errors.ts'
import { MAX_DRAW_LEAD_BLOCKS, defaultParams } from './params.ts'
import { checkDrawBlock, checkTaskSpec, signTaskSpec } from './taskSpec.ts'
import type { TaskSpec } from './types.ts'

const now = 0
const check = (signed: Parameters<typeof checkTaskSpec>[0]['signed']) =>
  checkTaskSpec({ signed, domain: devnetDomain, params: defaultParams, now })

async function rejectsWith(promise: Promise<unknown>, code: string) {
  await assert.rejects(promise, (error: unknown) => error instanceof SpecRejectedError && error.code === code)
}

describe('TaskSpec signing', () => {
  it('accepts a spec signed by its requester and returns the task id', async () => {
    const spec = makeSpec()
    const signed = await signTaskSpec(requester, spec, devnetDomain)
    assert.equal(await check(signed), hashTaskSpec(spec, devnetDomain))
  })

  it('gives different task ids to specs that differ in any field, and under another domain', () => {
    const base = hashTaskSpec(makeSpec(), devnetDomain)
    const variants: Partial<TaskSpec>[] = [
      { nonce: 2n },
      { fee: 1_001n },
      { deadline: 1_000_001n },
      { drawBlock: 2n },
      { runtime: 'onnx' },
      { input: keccak256(stringToBytes('other')) },
      { limits: { fuel: 1_000_001n, memoryPages: 16, outputBytes: 1024 } },
      { policy: { kind: 'replicate', k: 5, quorum: 3 } },
    ]
    const ids = new Set([base, ...variants.map((v) => hashTaskSpec(makeSpec(v), devnetDomain))])
    assert.equal(ids.size, variants.length + 1)
    assert.notEqual(hashTaskSpec(makeSpec(), { ...devnetDomain, chainId: 1 }), base)
  })

  it('rejects a spec tampered with after signing', async () => {
    const signed = await signTaskSpec(requester, makeSpec(), devnetDomain)
    for (const tampered of [
      { ...signed.message, fee: 2_000n },
      { ...signed.message, program: keccak256(stringToBytes('evil')) },
      { ...signed.message, policy: { kind: 'replicate' as const, k: 1, quorum: 1 } },
    ]) {
      await rejectsWith(check({ ...signed, message: tampered }), 'SPEC_BAD_SIGNATURE')
    }
  })

  it('rejects a signature by someone else, a flipped signature byte and garbage', async () => {
    const spec = makeSpec()
    const signed = await signTaskSpec(requester, spec, devnetDomain)
    const mallory = testAccount('mallory')
    const forged = await mallory.sign({ hash: hashTaskSpec(spec, devnetDomain) })
    await rejectsWith(check({ ...signed, signature: forged }), 'SPEC_BAD_SIGNATURE')
    const flipped = (signed.signature.slice(0, 10) + (signed.signature[10] === 'a' ? 'b' : 'a') + signed.signature.slice(11)) as `0x${string}`
    await rejectsWith(check({ ...signed, signature: flipped }), 'SPEC_BAD_SIGNATURE')
    await rejectsWith(check({ ...signed, signature: `0x${'00'.repeat(65)}` }), 'SPEC_BAD_SIGNATURE')
    // Claiming another signer does not help either.
    await rejectsWith(check({ ...signed, signer: mallory.address }), 'SPEC_BAD_SIGNATURE')
  })

  it('refuses to sign for another requester', async () => {
    await assert.rejects(signTaskSpec(testAccount('mallory'), makeSpec(), devnetDomain), SpecRejectedError)
  })

  it('rejects bad policies, limits, runtimes and deadlines with their own codes', async () => {
    const cases: Array<[Partial<TaskSpec>, string]> = [
      [{ policy: { kind: 'replicate', k: 3, quorum: 1 } }, 'SPEC_INVALID_POLICY'],
      [{ policy: { kind: 'replicate', k: 4, quorum: 2 } }, 'SPEC_INVALID_POLICY'],
      [{ policy: { kind: 'replicate', k: 3, quorum: 4 } }, 'SPEC_INVALID_POLICY'],
      [{ policy: { kind: 'replicate', k: 0, quorum: 0 } }, 'SPEC_INVALID_POLICY'],
      [{ policy: { kind: 'replicate', k: 99, quorum: 50 } }, 'SPEC_INVALID_POLICY'],
      [{ limits: { fuel: defaultParams.maxFuel + 1n, memoryPages: 16, outputBytes: 1 } }, 'SPEC_LIMITS_EXCEEDED'],
      [{ limits: { fuel: 0n, memoryPages: 16, outputBytes: 1 } }, 'SPEC_LIMITS_EXCEEDED'],
      [{ limits: { fuel: 1n, memoryPages: defaultParams.maxMemoryPages + 1, outputBytes: 1 } }, 'SPEC_LIMITS_EXCEEDED'],
      [{ runtime: 'python' }, 'SPEC_UNSUPPORTED_RUNTIME'],
      [{ deadline: 10n }, 'SPEC_EXPIRED'],
      [{ fee: 0n }, 'SPEC_FEE_TOO_LOW'],
    ]
    for (const [override, code] of cases) {
      const signed = await signTaskSpec(requester, makeSpec(override), devnetDomain)
      await rejectsWith(check(signed), code)
    }
  })
})

describe('checkDrawBlock', () => {
  it('takes a draw block up to MAX_DRAW_LEAD_BLOCKS ahead, mined or not, and refuses one further', () => {
    const head = 100n
    for (const drawBlock of [0n, head, head + 1n, head + MAX_DRAW_LEAD_BLOCKS]) checkDrawBlock(makeSpec({ drawBlock }), head)
    for (const [drawBlock, code] of [[head + MAX_DRAW_LEAD_BLOCKS + 1n, 'SPEC_DRAW_TOO_FAR']] as const) {
      assert.throws(
        () => checkDrawBlock(makeSpec({ drawBlock }), head),
        (error: unknown) => error instanceof SpecRejectedError && error.code === code && error.hint !== undefined,
      )
    }
  })
})
