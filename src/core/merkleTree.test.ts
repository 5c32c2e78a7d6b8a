import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { StandardMerkleTree } from '@openzeppelin/merkle-tree'
import fc from 'fast-check'
import { getAddress } from 'viem'
import { balanceLeafEncoding, outcomeLeafEncoding } from './epochBatch.ts'
import type { BalanceLeaf, OutcomeLeaf } from './epochBatch.ts'
import { toHex } from './keccak.ts'
import { createMerkleTree, hashMerkleLeaf, MerkleTreeError, verifyMerkleProof } from './merkleTree.ts'
import type { Address, Hex } from './types.ts'

// OpenZeppelin's StandardMerkleTree is the reference: what it builds is what the contracts'
// MerkleProof.verify accepts. Comparing the root and the proof of every leaf compares every node.

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length }).map(toHex)
const bytes32 = bytes(32)
// Lowercase and checksummed, as both reach the tree.
const address = fc.tuple(bytes(20), fc.boolean()).map(([hex, checksummed]) => (checksummed ? getAddress(hex) : hex) as Address)
const outcome: fc.Arbitrary<OutcomeLeaf> = fc.tuple(bytes32, bytes32, fc.integer({ min: 0, max: 255 }), fc.array(address, { maxLength: 4 }))
const balance: fc.Arbitrary<BalanceLeaf> = fc.tuple(address, fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 128n }))
const keyOf = (value: readonly unknown[]): string => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
/** 1 to 40 distinct values, every size equally likely (fast-check's default size would stop near 10). */
const leafSets = <T extends unknown[]>(leaf: fc.Arbitrary<T>) =>
  fc.integer({ min: 1, max: 40 }).chain((n) => fc.uniqueArray(leaf, { minLength: n, maxLength: n, selector: keyOf }))

/** Values given twice are proved by value as their last copy, so their proofs by value are asked of the reference too. */
function assertSameAsOpenZeppelin<T extends unknown[]>(values: readonly T[], encoding: readonly string[], unique = true): void {
  const ours = createMerkleTree(values, encoding)
  const reference = StandardMerkleTree.of([...values], [...encoding])
  assert.equal(ours.root, reference.root)
  assert.equal(ours.length, values.length)
  for (const [i, value] of values.entries()) {
    const expected = reference.getProof(i) as Hex[]
    assert.deepEqual(ours.getProof(i), expected, `proof of value ${i} by index`)
    assert.deepEqual(ours.getProof(value), unique ? expected : reference.getProof(value), `proof of value ${i} by value`)
    assert.equal(ours.leafHash(value), reference.leafHash(value))
    assert.equal(verifyMerkleProof(ours.root, encoding, value, expected), true)
  }
}

describe('createMerkleTree', () => {
  const runs = { numRuns: 20, seed: 20_240_917 }

  it("builds OpenZeppelin's root and proofs for outcome leaves", () => {
    fc.assert(
      fc.property(leafSets(outcome), (values) => {
        assertSameAsOpenZeppelin(values, outcomeLeafEncoding)
      }),
      runs,
    )
  })

  it("builds OpenZeppelin's root and proofs for balance leaves", () => {
    fc.assert(
      fc.property(leafSets(balance), (values) => {
        assertSameAsOpenZeppelin(values, balanceLeafEncoding)
      }),
      runs,
    )
  })

  it('proves a value given twice as OpenZeppelin does, by index and by value', () => {
    const leaf = (i: number): BalanceLeaf => [toHex(new Uint8Array(20).fill(i)) as Address, BigInt(i), 0n]
    assertSameAsOpenZeppelin([leaf(1), leaf(2), leaf(1), leaf(3), leaf(2)], balanceLeafEncoding, false)
  })

  it('keeps the values in the order given, apart from the sorted leaves', () => {
    const values: BalanceLeaf[] = [3, 1, 2].map((i) => [toHex(new Uint8Array(20).fill(i)) as Address, 0n, BigInt(i)])
    const tree = createMerkleTree(values, balanceLeafEncoding)
    assert.deepEqual([...tree.entries()], values.map((v, i) => [i, v]))
    assert.equal(tree.at(1), values[1])
    assert.equal(tree.at(3), undefined)
    assert.equal(tree.leafHash(values[0]!), hashMerkleLeaf(balanceLeafEncoding, values[0]!))
  })

  it('refuses a proof of a value it does not hold, with a typed error', () => {
    const values: OutcomeLeaf[] = [
      [`0x${'11'.repeat(32)}`, `0x${'22'.repeat(32)}`, 0, []],
      [`0x${'33'.repeat(32)}`, `0x${'44'.repeat(32)}`, 1, []],
    ]
    const tree = createMerkleTree(values, outcomeLeafEncoding)
    const missing: OutcomeLeaf = [values[0]![0], values[0]![1], 2, []]
    assert.throws(
      () => tree.getProof(missing),
      (error: unknown) =>
        error instanceof MerkleTreeError &&
        error.code === 'MERKLE_NOT_IN_TREE' &&
        error.details.leafHash === hashMerkleLeaf(outcomeLeafEncoding, missing) &&
        error.details.root === tree.root,
    )
    for (const index of [-1, 2, 0.5]) {
      assert.throws(() => tree.getProof(index), (error: unknown) => error instanceof MerkleTreeError && error.code === 'MERKLE_INDEX_OUT_OF_RANGE')
    }
    assert.throws(() => createMerkleTree([], outcomeLeafEncoding), (error: unknown) => error instanceof MerkleTreeError && error.code === 'MERKLE_EMPTY')
  })

  it('verifies only the value and root a proof was made for', () => {
    const values: BalanceLeaf[] = [1, 2, 3, 4, 5].map((i) => [toHex(new Uint8Array(20).fill(i)) as Address, BigInt(i), 0n])
    const tree = createMerkleTree(values, balanceLeafEncoding)
    const proof = tree.getProof(2)
    assert.equal(verifyMerkleProof(tree.root, balanceLeafEncoding, values[2]!, proof), true)
    assert.equal(verifyMerkleProof(tree.root.toUpperCase().replace('0X', '0x') as Hex, balanceLeafEncoding, values[2]!, proof), true)
    assert.equal(verifyMerkleProof(tree.root, balanceLeafEncoding, [values[2]![0], 4n, 0n], proof), false)
    assert.equal(verifyMerkleProof(tree.root, balanceLeafEncoding, values[3]!, proof), false)
    assert.equal(verifyMerkleProof(tree.root, balanceLeafEncoding, values[2]!, proof.slice(1)), false)
    assert.throws(() => verifyMerkleProof(tree.root, balanceLeafEncoding, values[2]!, ['0x12']), TypeError)
  })
})
