import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { keccak256, numberToHex } from 'viem'
import { anchorLeaf, buildAnchorTree, checkTaskAnchor, depthOf, provesTaskId } from './taskAnchor.ts'
import type { Hex } from './types.ts'

const idOf = (i: number): Hex => keccak256(numberToHex(i, { size: 32 }))
const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => idOf(from + i))

describe('task anchors', () => {
  it('proves every id of a tree, as the leaf it is, for any number of leaves', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 1_000 }), (count, from) => {
        const tree = buildAnchorTree(ids(count, from))
        assert.equal(tree.count, count)
        tree.anchors.forEach((anchor, index) => {
          assert.equal(anchor.index, index)
          assert.equal(anchor.proof.length, depthOf(count))
          assert.ok(provesTaskId(idOf(from + index), anchor, count))
          // The same proof does not prove a neighbour, nor the id at another index.
          assert.ok(!provesTaskId(idOf(from + index + count), anchor, count))
          if (count > 1) assert.ok(!provesTaskId(idOf(from + index), { ...anchor, index: (index + 1) % count }, count))
        })
      }),
      { numRuns: 60 },
    )
  })

  it('a root anchored with count n proves at most n ids: a padded or undeclared leaf, or a proof of another depth, does not pass', () => {
    // Four ids in the tree, three declared (and paid for): the fourth is not provable.
    const four = buildAnchorTree(ids(4))
    assert.ok(provesTaskId(idOf(2), four.anchors[2]!, 3))
    assert.ok(!provesTaskId(idOf(3), four.anchors[3]!, 3), 'index 3 is past the count')
    // Three ids: position 3 holds the zero hash; it proves nothing.
    const three = buildAnchorTree(ids(3))
    assert.ok(!provesTaskId(`0x${'0'.repeat(64)}`, { root: three.root, index: 3, proof: three.anchors[2]!.proof }, 3))
    // Declaring one leaf of a larger tree: a proof with siblings is refused, and the root is no leaf.
    assert.ok(!provesTaskId(idOf(0), four.anchors[0]!, 1))
    assert.ok(!provesTaskId(idOf(0), { root: four.root, index: 0, proof: [] }, 1))
    // A longer proof (the tree as a subtree of a deeper one) is refused for a smaller count.
    assert.ok(!provesTaskId(idOf(0), { ...four.anchors[0]!, proof: [...four.anchors[0]!.proof, keccak256('0x01')] }, 4))
    // A root of one id is that id's leaf.
    assert.equal(buildAnchorTree([idOf(7)]).root, anchorLeaf(idOf(7)))
    assert.throws(() => buildAnchorTree([]), RangeError)
  })

  it('says why a task is not anchored before its draw, as data', () => {
    const tree = buildAnchorTree(ids(5))
    const anchor = tree.anchors[4]!
    const spec = { drawBlock: 100n }
    assert.equal(checkTaskAnchor(idOf(4), spec, anchor, { block: 99n, count: 5 }).kind, 'anchored')
    const codeOf = (...args: Parameters<typeof checkTaskAnchor>) => {
      const check = checkTaskAnchor(...args)
      return check.kind === 'reject' ? check.code : check.kind
    }
    assert.equal(codeOf(idOf(4), spec, undefined, { block: 99n, count: 5 }), 'ANCHOR_MISSING')
    assert.equal(codeOf(idOf(4), spec, anchor, undefined), 'ANCHOR_UNKNOWN')
    assert.equal(codeOf(idOf(4), spec, anchor, { block: 100n, count: 5 }), 'ANCHOR_TOO_LATE')
    assert.equal(codeOf(idOf(4), spec, anchor, { block: 99n, count: 4 }), 'ANCHOR_BAD_PROOF')
    assert.equal(codeOf(idOf(3), spec, anchor, { block: 99n, count: 5 }), 'ANCHOR_BAD_PROOF')
  })
})
