import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { getAddress, hashTypedData, keccak256, numberToHex, zeroAddress } from 'viem'
import { eip712Domain, eip712Types } from './eip712.ts'
import { createTypedDataHasher } from './typedDataHash.ts'

const hex32 = (i: number) => keccak256(numberToHex(i, { size: 32 }))
const address = (i: number) => getAddress(`0x${hex32(i).slice(26)}`)
const domains = [
  eip712Domain({ chainId: 31337, verifyingContract: zeroAddress }),
  eip712Domain({ chainId: 1, verifyingContract: address(7) }),
]

/** A value of `type` for the i-th sample, covering the types veritask's messages use. */
function sample(type: string, i: number, types: Record<string, readonly { name: string; type: string }[]>): unknown {
  if (type.endsWith('[]')) return Array.from({ length: i % 4 }, (_, j) => sample(type.slice(0, -2), i * 7 + j, types))
  const struct = types[type]
  if (struct !== undefined) return Object.fromEntries(struct.map((f, j) => [f.name, sample(f.type, i * 31 + j, types)]))
  if (type === 'address') return address(i)
  if (type === 'bytes32') return hex32(i)
  if (type === 'bytes') return ['0x', '0x01', hex32(i), `${hex32(i)}${hex32(i + 1).slice(2)}`][i % 4]
  if (type === 'string') return ['wasm', '', 'onnx', 'ünïcødé'][i % 4]
  if (type === 'bool') return i % 2 === 0
  const bits = Number(/^uint(\d+)$/.exec(type)?.[1])
  const max = (1n << BigInt(bits)) - 1n
  const values = [0n, 1n, max, BigInt(hex32(i)) & max]
  const value = values[i % values.length]!
  return bits <= 32 ? Number(value) : value
}

describe('createTypedDataHasher', () => {
  const hasher = createTypedDataHasher(eip712Types)

  it("gives viem's hashTypedData digest for every veritask message type, domain and edge value", () => {
    for (const primaryType of Object.keys(eip712Types) as (keyof typeof eip712Types)[]) {
      for (let i = 0; i < 12; i++) {
        const message = sample(primaryType, i, eip712Types) as Record<string, unknown>
        for (const domain of domains) {
          const want = hashTypedData({ domain, types: eip712Types, primaryType, message } as Parameters<typeof hashTypedData>[0])
          assert.equal(hasher.hash(domain, primaryType, message), want, `${primaryType} #${i}`)
        }
      }
    }
  })

  it('handles nested structs, arrays of structs, bools, signed integers and dynamic bytes like viem', () => {
    const types = {
      Inner: [
        { name: 'flag', type: 'bool' },
        { name: 'delta', type: 'int64' },
        { name: 'data', type: 'bytes' },
      ],
      Outer: [
        { name: 'inners', type: 'Inner[]' },
        { name: 'inner', type: 'Inner' },
        { name: 'tag', type: 'bytes4' },
      ],
    } as const
    const inner = (i: number) => ({ flag: i % 2 === 1, delta: BigInt(i) - 5n, data: i === 0 ? '0x' : hex32(i) })
    const message = { inners: [inner(0), inner(1), inner(9)], inner: inner(2), tag: '0xdeadbeef' as const }
    const domain = { name: 'x', chainId: 5 }
    assert.equal(createTypedDataHasher(types).hash(domain, 'Outer', message), hashTypedData({ domain, types, primaryType: 'Outer', message }))
  })

  it('rejects values that do not fit their type instead of hashing something else', () => {
    const good = { taskId: hex32(1), commitment: hex32(2) }
    const domain = domains[0]!
    assert.throws(() => hasher.hash(domain, 'Commit', { ...good, taskId: '0x1234' }), TypeError)
    assert.throws(() => hasher.hash(domain, 'Commit', { ...good, commitment: `0x${'zz'.repeat(32)}` }), TypeError)
    assert.throws(() => hasher.hash(domain, 'Commit', { taskId: hex32(1) }), TypeError)
    const reveal = { taskId: hex32(1), status: 256, resultHash: hex32(2), salt: hex32(3) }
    assert.throws(() => hasher.hash(domain, 'Reveal', reveal), RangeError)
    assert.throws(() => hasher.hash(domain, 'Reveal', { ...reveal, status: -1 }), RangeError)
    assert.throws(() => hasher.hash(domain, 'Reveal', { ...reveal, status: 1.5 }), TypeError)
    assert.throws(() => hasher.hash(domain, 'Nope', {}), TypeError)
    const spec = sample('TaskSpec', 1, eip712Types) as Record<string, unknown>
    assert.throws(() => hasher.hash(domain, 'TaskSpec', { ...spec, runtime: undefined }), TypeError)
  })
})
