import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { privateKeyToAccount } from 'viem/accounts'
import { PublicKey, SecretKey, Signature } from '@chainsafe/blst'
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve'
import { sha256 } from '@noble/hashes/sha256'
import { bytesToHex, concat, getAddress, getContract, hexToBytes, keccak256, pad, size, slice, stringToBytes, toHex, type Address, type Hex } from 'viem'
import { createTestChain, expectRevert, type TestChain } from '../../test/helpers/contractChain.ts'
import { BLS12381HarnessAbi, BLS12381HarnessBytecode } from '../chain/generated/contracts.ts'
import {
  aggregateBlsPublicKeys,
  aggregateBlsSignatures,
  blsPopMessage,
  blsSignatureToEip2537,
  deriveBlsKey,
  eip2537ToG1,
  g1ToEip2537,
  g2ToEip2537,
  isCanonicalG1,
  verifyBlsSignature,
} from './bls.ts'
import type { BlsKey } from './bls.ts'

const DST = stringToBytes('BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_')
const accounts = Array.from({ length: 5 }, (_, i) => privateKeyToAccount(keccak256(toHex(`bls-test-${i}`))))
let keys: BlsKey[] = []
const digest = keccak256(toHex('an epoch batch digest'))

/** EIP-2537 words of a point, as the harness's structs take them. */
const words = (point: Hex): Hex[] => Array.from({ length: size(point) / 32 }, (_, i) => slice(point, i * 32, (i + 1) * 32))
const g1 = (point: Hex) => {
  const [xHi, xLo, yHi, yLo] = words(point) as [Hex, Hex, Hex, Hex]
  return { xHi, xLo, yHi, yLo }
}
const g2 = (point: Hex) => {
  const [x0Hi, x0Lo, x1Hi, x1Lo, y0Hi, y0Lo, y1Hi, y1Lo] = words(point) as [Hex, Hex, Hex, Hex, Hex, Hex, Hex, Hex]
  return { x0Hi, x0Lo, x1Hi, x1Lo, y0Hi, y0Lo, y1Hi, y1Lo }
}
const fromG1 = (p: { xHi: Hex; xLo: Hex; yHi: Hex; yLo: Hex }): Hex => concat([p.xHi, p.xLo, p.yHi, p.yLo])
const fromG2 = (p: ReturnType<typeof g2>): Hex => concat([p.x0Hi, p.x0Lo, p.x1Hi, p.x1Lo, p.y0Hi, p.y0Lo, p.y1Hi, p.y1Lo])

before(async () => {
  keys = await Promise.all(accounts.map(deriveBlsKey))
})

describe('BLS keys and signatures (blst)', () => {
  it('derives one key per node account key, deterministically', async () => {
    const a = keys[0]!
    assert.equal((await deriveBlsKey(privateKeyToAccount(keccak256(toHex('bls-test-0'))))).publicKey, a.publicKey)
    assert.notEqual(keys[1]!.publicKey, a.publicKey)
    assert.equal(size(a.publicKey), 128)
    assert.equal(size(a.sign(digest)), 96)
    assert.equal(a.sign(digest), a.sign(digest)) // BLS signatures are unique
  })

  it('verifies its own signatures and nothing else', () => {
    const [a, b] = keys as [BlsKey, BlsKey]
    const signature = a.sign(digest)
    assert.equal(verifyBlsSignature(digest, signature, a.publicKey), true)
    assert.equal(verifyBlsSignature(keccak256(toHex('other')), signature, a.publicKey), false)
    assert.equal(verifyBlsSignature(digest, signature, b.publicKey), false)
    assert.equal(verifyBlsSignature(digest, '0x1234', a.publicKey), false)
    assert.equal(verifyBlsSignature(digest, signature, '0x00'), false)
  })

  it('aggregates: the sum of signatures verifies against the sum of keys', () => {
    const aggregate = aggregateBlsSignatures(keys.map((k) => k.sign(digest)))
    const publicKey = aggregateBlsPublicKeys(keys.map((k) => k.publicKey))
    assert.equal(verifyBlsSignature(digest, aggregate, publicKey), true)
    assert.equal(verifyBlsSignature(digest, aggregate, aggregateBlsPublicKeys(keys.slice(1).map((k) => k.publicKey))), false)
  })

  it('converts points to EIP-2537 and back without loss', () => {
    const key = keys[2]!
    const point = PublicKey.fromBytes(eip2537ToG1(key.publicKey), true)
    assert.equal(g1ToEip2537(point.toBytes(false)), key.publicKey)
    assert.throws(() => eip2537ToG1(concat(['0x01', slice(key.publicKey, 1)])), /padding/)
    assert.equal(isCanonicalG1(key.publicKey), true)
    assert.equal(isCanonicalG1(concat(['0x01', slice(key.publicKey, 1)])), false)
    assert.equal(isCanonicalG1(slice(key.publicKey, 1)), false)
    const sig = Signature.fromBytes(hexToBytes(key.sign(digest)))
    assert.equal(blsSignatureToEip2537(key.sign(digest)), g2ToEip2537(sig.toBytes(false)))
  })
})

const harnessAt = (c: TestChain, address: Address) => getContract({ address, abi: BLS12381HarnessAbi, client: c.publicClient })

describe('BLS12381.sol against blst (anvil, EIP-2537)', () => {
  let c: TestChain
  let harness: ReturnType<typeof harnessAt>

  before(async () => {
    c = await createTestChain()
    const receipt = await c.send(c.wallet(c.deployer).deployContract({ abi: BLS12381HarnessAbi, bytecode: BLS12381HarnessBytecode }))
    harness = harnessAt(c, getAddress(receipt.contractAddress!))
  })
  after(() => c?.stop())

  it('expands messages like RFC 9380 expand_message_xmd (noble)', async () => {
    for (const message of ['0x', '0x61', digest, bytesToHex(new Uint8Array(300).fill(7))] as Hex[]) {
      const expected = bytesToHex(expand_message_xmd(hexToBytes(message), DST, 256, sha256))
      assert.equal(await harness.read.expandMessageXmd([message, bytesToHex(DST)]), expected)
    }
  })

  it('hashes to G2 exactly as blst signs: the signature of the secret key 1 is H(m)', async () => {
    const one = SecretKey.fromBytes(hexToBytes(pad('0x01', { size: 32 })))
    for (const message of ['0x', digest, keccak256('0x00'), toHex('veritask')] as Hex[]) {
      const expected = g2ToEip2537(one.sign(hexToBytes(message)).toBytes(false))
      assert.equal(fromG2(await harness.read.hashToG2([message, bytesToHex(DST)])), expected)
    }
  })

  it('verifies blst signatures, single and aggregate, and refuses wrong ones', async () => {
    const one = keys[0]!
    assert.equal(await harness.read.verify([g1(one.publicKey), digest, g2(blsSignatureToEip2537(one.sign(digest)))]), true)
    assert.equal(await harness.read.verify([g1(one.publicKey), keccak256(digest), g2(blsSignatureToEip2537(one.sign(digest)))]), false)
    assert.equal(await harness.read.verify([g1(keys[1]!.publicKey), digest, g2(blsSignatureToEip2537(one.sign(digest)))]), false)
    const aggregate = blsSignatureToEip2537(aggregateBlsSignatures(keys.map((k) => k.sign(digest))))
    assert.equal(await harness.read.verify([g1(aggregateBlsPublicKeys(keys.map((k) => k.publicKey))), digest, g2(aggregate)]), true)
    // A proof of possession is a signature of its own message, which blst verifies too.
    const node = c.deployer.address
    const pop = one.proofOfPossession(node)
    assert.equal(await harness.read.verify([g1(one.publicKey), blsPopMessage(node, one.publicKey), g2(pop)]), true)
    const popMessage = blsPopMessage(node, one.publicKey)
    assert.equal(pop, blsSignatureToEip2537(one.sign(popMessage)))
    assert.equal(verifyBlsSignature(popMessage, one.sign(popMessage), one.publicKey), true)
    assert.equal(await harness.read.verify([g1(one.publicKey), blsPopMessage(c.contracts.token, one.publicKey), g2(pop)]), false)
  })

  it('adds and negates G1 points like blst aggregates them', async () => {
    let sum = g1(bytesToHex(new Uint8Array(128)))
    for (const key of keys) sum = await harness.read.add([sum, g1(key.publicKey)])
    assert.equal(fromG1(sum), aggregateBlsPublicKeys(keys.map((k) => k.publicKey)))
    // Subtracting a key (adding its negation) leaves the others' aggregate; subtracting all leaves infinity.
    const rest = await harness.read.add([sum, await harness.read.negate([g1(keys[0]!.publicKey)])])
    assert.equal(fromG1(rest), aggregateBlsPublicKeys(keys.slice(1).map((k) => k.publicKey)))
    const zero = await harness.read.add([g1(keys[0]!.publicKey), await harness.read.negate([g1(keys[0]!.publicKey)])])
    assert.equal(fromG1(zero), bytesToHex(new Uint8Array(128)))
  })

  it('refuses malformed points: non-canonical encodings, points off the curve', async () => {
    const key = keys[3]!
    const p = g1(key.publicKey)
    assert.equal(await harness.read.isCanonical([p]), true)
    const padded = { ...p, xHi: concat(['0x01', slice(p.xHi, 1)]) }
    assert.equal(await harness.read.isCanonical([padded]), false)
    const prime = { ...p, yHi: pad('0x1a0111ea397fe69a4b1ba7b6434bacd7', { size: 32 }), yLo: '0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab' as Hex }
    assert.equal(await harness.read.isCanonical([prime]), false)
    const offCurve = { ...p, yLo: toHex(BigInt(p.yLo) ^ 1n, { size: 32 }) }
    assert.equal(await harness.read.isCanonical([offCurve]), true)
    await expectRevert(harness.read.add([offCurve, p]), 'BLS12381PrecompileFailed')
    const signature = g2(blsSignatureToEip2537(key.sign(digest)))
    assert.equal(await harness.read.verify([offCurve, digest, signature]), false)
    assert.equal(await harness.read.verify([p, digest, { ...signature, y1Lo: toHex(BigInt(signature.y1Lo) ^ 1n, { size: 32 }) }]), false)
  })
})
