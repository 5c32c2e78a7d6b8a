import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  EXAMPLE_PROGRAMS,
  exampleProgramPath,
  hashChainInput,
  hashChainReference,
  isExampleProgramName,
  matmulInput,
  matmulReference,
  wordCountInput,
  wordCountReference,
} from './index.ts'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

describe('example program references', () => {
  it('hash-chain iterates SHA-256 over the seed', () => {
    const zero = new Uint8Array(32)
    assert.equal(hex(hashChainReference(hashChainInput(zero, 0))), hex(zero))
    // SHA-256 of 32 zero bytes.
    assert.equal(hex(hashChainReference(hashChainInput(zero, 1))), '66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925')
    assert.throws(() => hashChainInput(new Uint8Array(31), 1), RangeError)
  })

  it('matmul multiplies the LCG matrices', () => {
    // A = [[-68, -34], [1, 52]], B = [[-116, -34], [70, 14]] from seed 1; C = A·B.
    const c = matmulReference(matmulInput(2, 1))
    const view = new DataView(c.buffer)
    assert.deepEqual([0, 1, 2, 3].map((i) => view.getInt32(4 * i, true)), [5508, 1836, 3524, 694])
    assert.equal(matmulReference(matmulInput(0, 5)).length, 0)
  })

  it('word-count counts lowercased ASCII alphanumeric runs, sorted', () => {
    const output = new TextDecoder().decode(wordCountReference(wordCountInput('b A a, Ünï 9 b_c a')))
    assert.equal(output, '9\t1\na\t3\nb\t2\nc\t1\nn\t1\n')
  })

  it('names and locates the programs', () => {
    assert.deepEqual([...EXAMPLE_PROGRAMS], ['hash-chain', 'matmul', 'word-count'])
    assert.ok(isExampleProgramName('matmul'))
    assert.ok(!isExampleProgramName('nope'))
    assert.match(exampleProgramPath('word-count'), /programs\/build\/word-count\.wasm$/)
  })
})
