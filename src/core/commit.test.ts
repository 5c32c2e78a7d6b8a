import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeAbiParameters, getAddress, hashTypedData, keccak256, numberToHex } from 'viem'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { computeCommitment, isValidCommitBatchSignature, signCommitBatch } from './commit.ts'
import { devnetDomain, eip712Domain, eip712Types, hashRevealBatch } from './eip712.ts'
import { isValidRevealBatchSignature, signRevealBatch } from './reveal.ts'

const hex32 = (i: number) => keccak256(numberToHex(i, { size: 32 }))

describe('computeCommitment', () => {
  it('is keccak256(abi.encode(taskId, status, resultHash, salt, executor)), as the contracts compute it', () => {
    for (const [i, status] of [[1, 'ok'], [2, 'failed']] as const) {
      const params = { taskId: hex32(i), status, resultHash: hex32(i + 10), salt: hex32(i + 20), executor: getAddress(hex32(i + 30).slice(0, 42)) }
      const want = keccak256(
        encodeAbiParameters(
          [{ type: 'bytes32' }, { type: 'uint8' }, { type: 'bytes32' }, { type: 'bytes32' }, { type: 'address' }],
          [params.taskId, status === 'ok' ? 0 : 1, params.resultHash, params.salt, params.executor],
        ),
      )
      assert.equal(computeCommitment(params), want)
    }
  })

  it('throws on a malformed id instead of committing to something else', () => {
    assert.throws(() => computeCommitment({ taskId: '0x12', status: 'ok', resultHash: hex32(1), salt: hex32(2), executor: getAddress(hex32(3).slice(0, 42)) }), TypeError)
  })
})

describe('commit and reveal batches', () => {
  const executor = testAccount('batch-executor')
  const commits = [1, 2, 3].map((i) => ({ taskId: hex32(i), commitment: hex32(i + 100) }))
  const reveals = [1, 2].map((i) => ({ taskId: hex32(i), status: i === 1 ? ('ok' as const) : ('failed' as const), resultHash: hex32(i + 10), salt: hex32(i + 20) }))

  it('signs one EIP-712 digest over the whole list, the one viem computes', async () => {
    const signed = await signCommitBatch(executor, commits, devnetDomain)
    assert.deepEqual(signed.message.commits, commits)
    assert.equal(await isValidCommitBatchSignature(signed, devnetDomain), true)
    const viemDigest = hashTypedData({
      domain: eip712Domain(devnetDomain),
      types: eip712Types,
      primaryType: 'RevealBatch',
      message: { reveals: reveals.map((r) => ({ ...r, status: r.status === 'ok' ? 0 : 1 })) },
    })
    assert.equal(hashRevealBatch({ reveals }, devnetDomain), viemDigest)
    assert.equal(await isValidRevealBatchSignature(await signRevealBatch(executor, reveals, devnetDomain), devnetDomain), true)
  })

  it('is invalid once any item is changed, dropped or moved, or the signer is swapped', async () => {
    const signed = await signCommitBatch(executor, commits, devnetDomain)
    const variants = [
      { ...signed, message: { commits: [{ ...commits[0]!, commitment: hex32(999) }, ...commits.slice(1)] } },
      { ...signed, message: { commits: commits.slice(1) } },
      { ...signed, message: { commits: [commits[1]!, commits[0]!, commits[2]!] } },
      { ...signed, signer: testAccount('someone-else').address },
    ]
    for (const variant of variants) assert.equal(await isValidCommitBatchSignature(variant, devnetDomain), false)
    const reveal = await signRevealBatch(executor, reveals, devnetDomain)
    const flipped = { ...reveal, message: { reveals: [{ ...reveals[0]!, status: 'failed' as const }, reveals[1]!] } }
    assert.equal(await isValidRevealBatchSignature(flipped, devnetDomain), false)
  })
})
