import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import type { Hex } from '../core/types.ts'
import { buildChunkOutputTree, frameOutputs, groupForReduce, isChunkOutputInRoot } from './chunkOutputs.ts'

const cid = (s: string): Hex => keccak256(stringToBytes(s))
const outputs = Array.from({ length: 5 }, (_, i) => ({ index: i, input: cid(`in ${i}`), resultHash: cid(`out ${i}`) }))

describe('sdk chunk outputs', () => {
  it('builds a root that proves each chunk and rejects a changed result or position', () => {
    const tree = buildChunkOutputTree(outputs)
    const root = tree.root as Hex
    for (const [i, o] of outputs.entries()) {
      const proof = tree.getProof(i) as Hex[]
      assert.ok(isChunkOutputInRoot(root, o, proof))
      assert.equal(isChunkOutputInRoot(root, { ...o, resultHash: cid('tampered') }, proof), false)
      assert.equal(isChunkOutputInRoot(root, { ...o, index: o.index + 1 }, proof), false)
    }
    // The root depends on the chunks and results only, not on the order they were finished in.
    assert.equal(buildChunkOutputTree([...outputs].reverse()).root, root)
    assert.notEqual(buildChunkOutputTree(outputs.slice(1)).root, root)
  })

  it('frames outputs with little-endian lengths', () => {
    const framed = frameOutputs([stringToBytes('ab'), new Uint8Array(), stringToBytes('c')])
    assert.deepEqual([...framed], [2, 0, 0, 0, 0x61, 0x62, 0, 0, 0, 0, 1, 0, 0, 0, 0x63])
  })

  it('groups outputs under the reduce input limit and refuses one that cannot fit', () => {
    assert.deepEqual(groupForReduce([10, 10, 10, 10, 10], 30), [[0, 2], [2, 4], [4, 5]])
    assert.deepEqual(groupForReduce([1, 2, 3], 1_000), [[0, 3]])
    assert.throws(() => groupForReduce([10, 100], 50), RangeError)
  })
})
