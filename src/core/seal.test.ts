import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { bytesToHex } from 'viem'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { signCommitBatch } from './commit.ts'
import { devnetDomain, hashCommitBatch, hashRevealBatch } from './eip712.ts'
import { signRevealBatch } from './reveal.ts'
import { isValidSealedItem, itemHashesOf, sealCommits, sealDigest, sealReveals } from './seal.ts'
import { isSignedBy } from './signing.ts'
import type { Commit, Reveal } from './types.ts'

const executor = testAccount('sealer')
const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b))
const commit = fc.record({ taskId: hex32, commitment: hex32 })
const reveal = fc.record({ taskId: hex32, status: fc.constantFrom('ok' as const, 'failed' as const), resultHash: hex32, salt: hex32 })

describe('batch seals', () => {
  it('give the digest of the whole batch from its item hashes', () => {
    fc.assert(
      fc.property(fc.array(commit, { minLength: 1, maxLength: 48 }), fc.array(reveal, { minLength: 1, maxLength: 48 }), (commits, reveals) => {
        const c = sealDigest({ kind: 'commits', signer: executor.address, signature: '0x', itemHashes: itemHashesOf('commits', commits) }, devnetDomain)
        const r = sealDigest({ kind: 'reveals', signer: executor.address, signature: '0x', itemHashes: itemHashesOf('reveals', reveals) }, devnetDomain)
        assert.equal(c, hashCommitBatch({ commits }, devnetDomain))
        assert.equal(r, hashRevealBatch({ reveals }, devnetDomain))
      }),
      { numRuns: 100 },
    )
  })

  it('check each item on its own, once per seal, and refuse an altered item, place or signer', async () => {
    const commits: Commit[] = Array.from({ length: 5 }, (_, i) => ({ taskId: `0x${String(i).padStart(64, '0')}`, commitment: `0x${'ab'.repeat(32)}` }))
    const items = sealCommits(await signCommitBatch(executor, commits, devnetDomain))
    let checks = 0
    const counting: typeof isSignedBy = async (...args) => {
      checks++
      return isSignedBy(...args)
    }
    const verified = new Map()
    for (const item of items) assert.equal(await isValidSealedItem(item, 'commits', devnetDomain, counting, verified), true)
    assert.equal(checks, 1, 'one signature check for the batch')
    const first = items[0]!
    assert.equal(await isValidSealedItem({ ...first, message: { ...first.message, commitment: `0x${'cd'.repeat(32)}` } }, 'commits', devnetDomain, isSignedBy), false)
    assert.equal(await isValidSealedItem({ ...first, index: 1 }, 'commits', devnetDomain, isSignedBy), false)
    assert.equal(await isValidSealedItem({ ...first, index: 9 }, 'commits', devnetDomain, isSignedBy), false)
    assert.equal(await isValidSealedItem({ ...first, signer: testAccount('other').address }, 'commits', devnetDomain, isSignedBy), false)
    assert.equal(await isValidSealedItem(first, 'reveals', devnetDomain, isSignedBy), false)
    // A seal whose item hashes were changed no longer matches its signature.
    const forged = { ...first.seal, itemHashes: [first.seal.itemHashes[0]!] }
    assert.equal(await isValidSealedItem({ ...first, seal: forged }, 'commits', devnetDomain, isSignedBy), false)
    const reveals: Reveal[] = [{ taskId: commits[0]!.taskId, status: 'ok', resultHash: commits[0]!.commitment, salt: commits[0]!.commitment }]
    const [sealed] = sealReveals(await signRevealBatch(executor, reveals, devnetDomain))
    assert.equal(await isValidSealedItem(sealed!, 'reveals', devnetDomain, isSignedBy), true)
  })
})
