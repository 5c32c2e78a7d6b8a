import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { secp256k1 } from '@noble/curves/secp256k1'
import { bytesToHex, hexToBytes, keccak256, stringToBytes } from 'viem'
import { privateKeyToAddress } from 'viem/accounts'
import type { Hex } from './types.ts'
import {
  decodeVrfProof,
  encodeVrfProof,
  p256Sha256Tai,
  proveVrf,
  secp256k1Sha256Tai,
  verifyVrf,
  vrfOutput,
  vrfPublicKeyToAddress,
  VrfError,
} from './vrf.ts'
import type { VrfProof } from './vrf.ts'
import { encodeProof, encodeToCurveTai, pointToBytes, proveWithNonce } from './vrf/ecvrf.ts'

const N = secp256k1.CURVE.n
const P = secp256k1.CURVE.Fp.ORDER
const text = (value: string): Uint8Array => stringToBytes(value)
const scalarHex = (value: bigint, bytes = 32): Hex => `0x${value.toString(16).padStart(bytes * 2, '0')}`
const privateKey = (label: string): Hex => keccak256(stringToBytes(`veritask-test:vrf:${label}`))
const publicKey = (key: Hex, compressed = true): Hex => bytesToHex(secp256k1.getPublicKey(key.slice(2), compressed))
const reason = (result: ReturnType<typeof verifyVrf>): string => (result.valid ? 'valid' : result.reason)

// RFC 9381 Appendix B.1, ECVRF-P256-SHA256-TAI, Examples 10-12: SK, PK, alpha, pi, beta.
const RFC9381_P256_TAI = [
  {
    sk: '0xc9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721',
    pk: '0x0360fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6',
    alpha: '0x73616d706c65',
    pi: '0x035b5c726e8c0e2c488a107c600578ee75cb702343c153cb1eb8dec77f4b5071b4a53f0a46f018bc2c56e58d383f2305e0975972c26feea0eb122fe7893c15af376b33edf7de17c6ea056d4d82de6bc02f',
    beta: '0xa3ad7b0ef73d8fc6655053ea22f9bede8c743f08bbed3d38821f0e16474b505e',
  },
  {
    sk: '0xc9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721',
    pk: '0x0360fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6',
    alpha: '0x74657374',
    pi: '0x034dac60aba508ba0c01aa9be80377ebd7562c4a52d74722e0abae7dc3080ddb56c19e067b15a8a8174905b13617804534214f935b94c2287f797e393eb0816969d864f37625b443f30f1a5a33f2b3c854',
    beta: '0xa284f94ceec2ff4b3794629da7cbafa49121972671b466cab4ce170aa365f26d',
  },
  {
    sk: '0x2ca1411a41b17b24cc8c3b089cfd033f1920202a6c0de8abb97df1498d50d2c8',
    pk: '0x03596375e6ce57e0f20294fc46bdfcfd19a39f8161b58695b3ec5b3d16427c274d',
    alpha: '0x4578616d706c65207573696e67204543445341206b65792066726f6d20417070656e646978204c2e342e32206f6620414e53492e58392d36322d32303035',
    pi: '0x03d03398bf53aa23831d7d1b2937e005fb0062cbefa06796579f2a1fc7e7b8c667d091c00b0f5c3619d10ecea44363b5a599cadc5b2957e223fec62e81f7b4825fc799a771a3d7334b9186bdbee87316b1',
    beta: '0x90871e06da5caa39a3c61578ebb844de8635e27ac0b13e829997d0d95dd98c19',
  },
] as const

describe('ECVRF-P256-SHA256-TAI (RFC 9381 Appendix B.1)', () => {
  for (const [i, vector] of RFC9381_P256_TAI.entries()) {
    it(`reproduces example ${10 + i}: pi and beta, and verifies`, () => {
      const alpha = hexToBytes(vector.alpha)
      const proof = proveVrf(vector.sk, alpha, p256Sha256Tai)
      assert.equal(encodeVrfProof(proof, p256Sha256Tai), vector.pi)
      assert.equal(vrfOutput(proof, p256Sha256Tai), vector.beta)
      const decoded = decodeVrfProof(vector.pi, p256Sha256Tai)
      assert.ok(decoded)
      assert.deepEqual(verifyVrf(vector.pk, alpha, decoded, p256Sha256Tai), { valid: true, beta: vector.beta })
      assert.equal(reason(verifyVrf(vector.pk, text('other'), decoded, p256Sha256Tai)), 'VRF_INVALID')
    })
  }
})

// ECVRF-SECP256K1-SHA256-TAI has no RFC vectors; these are vrf-rs's (an independent Rust
// implementation of the same suite, suite_string 0xFE), so the two agree byte for byte.
describe('ECVRF-SECP256K1-SHA256-TAI interoperability (vrf-rs vectors)', () => {
  it('encodes to the same curve point', () => {
    const h = encodeToCurveTai(secp256k1Sha256Tai, hexToBytes('0x032c8c31fc9f990c6b55e3865a184a4ce50e09481f2eaeb3e60ec1cea13a6ae645'), text('sample'))
    assert.ok(h)
    assert.equal(bytesToHex(pointToBytes(h)), '0x0221ceb1ce22cd34d8b73a619164ed64e917ca31fd454075d02e4bdfa9c5ce0b48')
  })

  it('proves the same pi for sk = n - 1', () => {
    const proof = proveVrf(scalarHex(N - 1n), text('sample'))
    assert.equal(
      encodeVrfProof(proof),
      '0x03cc8a4f11c8dde5cbaad50f523c43389aa9eb407288570cf2bcd2e524ac0cbf88123d52707735b2ecff030dbdd71ac3a20166e4fb77f254dae61c6a35c694e539ae2d51e2ffce166cc455386aadb28bad',
    )
  })

  it('verifies its proof with the same beta', () => {
    const pi = '0x0338ec99b5d0f94ebcc2c704c04af3de8b4289df8798e5fb9f920d7f5d77ac03d7718b9677d1c9348649ac2ec4f7ecbe519b30dd10c4eb5efc21dd5944709f2f3b7e97a25f6f095334593502d05103bc5b'
    const beta = '0xd466c22e14dc3b7fd169668dd3ee9ac6351429a24aebc5e8af61a0f0de89b65a'
    const pk = '0x032c8c31fc9f990c6b55e3865a184a4ce50e09481f2eaeb3e60ec1cea13a6ae645'
    assert.deepEqual(verifyVrf(pk, text('sample'), decodeVrfProof(pi)!), { valid: true, beta })
    // The key behind it is RFC 6979's test key; our prover gives the same pi.
    assert.equal(publicKey(RFC9381_P256_TAI[0].sk), pk)
    assert.equal(encodeVrfProof(proveVrf(RFC9381_P256_TAI[0].sk, text('sample'))), pi)
  })
})

describe('proveVrf / verifyVrf on secp256k1', () => {
  const key = privateKey('node-1')
  const pk = publicKey(key)
  const alpha = text('epoch 7 / task 0x42')
  const proof = proveVrf(key, alpha)

  it('round-trips, for compressed and uncompressed keys and any alpha', () => {
    const result = verifyVrf(pk, alpha, proof)
    assert.equal(result.valid, true)
    assert.deepEqual(verifyVrf(publicKey(key, false), alpha, proof), result)
    assert.equal(result.valid && result.beta, vrfOutput(proof))
    assert.match(proof.gamma, /^0x0[23][0-9a-f]{64}$/)
    assert.match(proof.c, /^0x[0-9a-f]{32}$/)
    assert.match(proof.s, /^0x[0-9a-f]{64}$/)
    for (const other of [new Uint8Array(0), new Uint8Array(1024).fill(7), text('a')]) {
      assert.equal(verifyVrf(pk, other, proveVrf(key, other)).valid, true)
    }
    for (let i = 0; i < 16; i++) {
      const k = privateKey(`many-${i}`)
      const a = text(`alpha-${i}`)
      assert.equal(verifyVrf(publicKey(k), a, proveVrf(k, a)).valid, true, `key ${i}`)
    }
  })

  it('is deterministic: same key and alpha, same proof; other alpha, other beta', () => {
    assert.deepEqual(proveVrf(key, alpha), proof)
    const other = proveVrf(key, text('epoch 8 / task 0x42'))
    assert.notEqual(other.gamma, proof.gamma)
    assert.notEqual(vrfOutput(other), vrfOutput(proof))
  })

  it('gives the same beta for proofs made with different nonces', () => {
    const withNonce = (nonce?: bigint): VrfProof =>
      decodeVrfProof(bytesToHex(encodeProof(secp256k1Sha256Tai, proveWithNonce(secp256k1Sha256Tai, BigInt(key), alpha, nonce))))!
    assert.deepEqual(withNonce(), proof, 'no nonce: the RFC 6979 one')
    const a = withNonce(12345n)
    const b = withNonce(N - 2n)
    assert.equal(a.gamma, proof.gamma)
    assert.equal(b.gamma, proof.gamma)
    assert.notEqual(a.c, b.c)
    assert.notEqual(a.s, b.s)
    const beta = vrfOutput(proof)
    assert.deepEqual(verifyVrf(pk, alpha, a), { valid: true, beta })
    assert.deepEqual(verifyVrf(pk, alpha, b), { valid: true, beta })
  })

  it('rejects a proof for another alpha, another key or another suite', () => {
    assert.equal(reason(verifyVrf(pk, text('epoch 7 / task 0x43'), proof)), 'VRF_INVALID')
    assert.equal(reason(verifyVrf(publicKey(privateKey('node-2')), alpha, proof)), 'VRF_INVALID')
    assert.equal(reason(verifyVrf(pk, alpha, proof, { ...secp256k1Sha256Tai, suiteString: 0xff })), 'VRF_INVALID')
  })

  it('rejects tampered gamma, c and s', () => {
    const other = proveVrf(key, text('something else'))
    const negated: Hex = `0x0${proof.gamma[3] === '2' ? '3' : '2'}${proof.gamma.slice(4)}`
    assert.equal(reason(verifyVrf(pk, alpha, { ...proof, gamma: other.gamma })), 'VRF_INVALID')
    assert.equal(reason(verifyVrf(pk, alpha, { ...proof, gamma: negated })), 'VRF_INVALID', '-Gamma')
    assert.equal(reason(verifyVrf(pk, alpha, { ...proof, c: scalarHex((BigInt(proof.c) + 1n) % 2n ** 128n, 16) })), 'VRF_INVALID')
    assert.equal(reason(verifyVrf(pk, alpha, { ...proof, s: scalarHex((BigInt(proof.s) + 1n) % N) })), 'VRF_INVALID')
    assert.equal(reason(verifyVrf(pk, alpha, { ...proof, s: scalarHex(N - BigInt(proof.s)) })), 'VRF_INVALID', 'high/low-s flip')
    assert.equal(reason(verifyVrf(pk, alpha, { ...proof, s: scalarHex(0n) })), 'VRF_INVALID')
    assert.equal(reason(verifyVrf(pk, alpha, { ...proof, c: scalarHex(0n, 16) })), 'VRF_INVALID')
  })

  it('accepts no other encoding: a one-bit change in any byte of pi fails', () => {
    const pi = hexToBytes(encodeVrfProof(proof))
    for (let i = 0; i < pi.length; i++) {
      const changed = pi.slice()
      changed[i] = changed[i]! ^ (1 << (i % 8))
      assert.equal(verifyVrf(pk, alpha, decodeVrfProof(bytesToHex(changed))!).valid, false, `byte ${i}`)
    }
  })

  it('rejects s ≥ n and non-canonical or malformed fields as VRF_BAD_ENCODING', () => {
    const bad = (change: Partial<Record<keyof VrfProof, string>>): string => reason(verifyVrf(pk, alpha, { ...proof, ...change } as VrfProof))
    assert.equal(bad({ s: scalarHex(N) }), 'VRF_BAD_ENCODING')
    assert.equal(bad({ s: scalarHex(N + 1n) }), 'VRF_BAD_ENCODING')
    assert.equal(bad({ s: scalarHex(2n ** 256n - 1n) }), 'VRF_BAD_ENCODING')
    // gamma: uncompressed form of the same point, x ≥ p, a bad tag, not on the curve.
    const gammaPoint = secp256k1.ProjectivePoint.fromHex(proof.gamma.slice(2))
    assert.equal(bad({ gamma: `0x${gammaPoint.toHex(false)}` }), 'VRF_BAD_ENCODING')
    assert.equal(bad({ gamma: `0x02${P.toString(16)}` }), 'VRF_BAD_ENCODING')
    assert.equal(bad({ gamma: `0x04${proof.gamma.slice(4)}` }), 'VRF_BAD_ENCODING')
    assert.equal(bad({ gamma: `0x00${proof.gamma.slice(4)}` }), 'VRF_BAD_ENCODING')
    assert.equal(bad({ gamma: `0x02${'00'.repeat(31)}05` }), 'VRF_BAD_ENCODING', 'x = 5 is not on secp256k1')
    // lengths, case and shape
    assert.equal(bad({ c: `0x00${proof.c.slice(2)}` }), 'VRF_BAD_ENCODING')
    assert.equal(bad({ s: proof.s.slice(0, -2) }), 'VRF_BAD_ENCODING')
    assert.equal(bad({ gamma: `0x${proof.gamma.slice(2).toUpperCase()}` }), 'VRF_BAD_ENCODING', 'proof hex is lowercase')
    assert.equal(bad({ s: `0x${proof.s.slice(2).replace(/[0-9]/, 'g')}` }), 'VRF_BAD_ENCODING')
    assert.equal(reason(verifyVrf(pk, alpha, null as unknown as VrfProof)), 'VRF_BAD_ENCODING')
  })

  it('rejects keys that are not canonical points as VRF_BAD_KEY', () => {
    const uncompressed = publicKey(key, false)
    const y = BigInt(`0x${uncompressed.slice(68)}`)
    const yOff = scalarHex((y + 1n) % P)
    // (x, p - y) is a point, -Y: a valid key, just another one.
    assert.equal(reason(verifyVrf(`0x${uncompressed.slice(2, 68)}${scalarHex(P - y).slice(2)}`, alpha, proof)), 'VRF_INVALID')
    for (const bad of [
      '0x',
      pk.slice(0, -2),
      `0x04${pk.slice(4)}`,
      `0x${uncompressed.slice(2, 68)}${yOff.slice(2)}`,
      `0x02${'00'.repeat(31)}05`,
      `0x02${P.toString(16)}`,
      'not hex',
    ]) {
      assert.equal(reason(verifyVrf(bad as Hex, alpha, proof)), 'VRF_BAD_KEY', bad)
    }
  })
})

describe('keys, encodings and addresses', () => {
  it('refuses private keys outside [1, n)', () => {
    for (const bad of [scalarHex(0n), scalarHex(N), scalarHex(2n ** 256n - 1n), '0x1234'] as Hex[]) {
      assert.throws(() => proveVrf(bad, text('x')), (error: unknown) => error instanceof VrfError && error.code === 'VRF_BAD_PRIVATE_KEY')
    }
  })

  it('encodes to an 81-byte pi and back', () => {
    const proof = proveVrf(privateKey('node-1'), text('x'))
    const pi = encodeVrfProof(proof)
    assert.equal(pi.length, 2 + 81 * 2)
    assert.deepEqual(decodeVrfProof(pi), proof)
    assert.equal(decodeVrfProof(pi.slice(0, -2) as Hex), undefined)
    assert.equal(decodeVrfProof(`${pi}00`), undefined)
    assert.throws(() => encodeVrfProof({ ...proof, s: scalarHex(N) }), (error: unknown) => error instanceof VrfError && error.code === 'VRF_BAD_ENCODING')
    assert.throws(() => vrfOutput({ ...proof, gamma: `0x04${proof.gamma.slice(4)}` }), VrfError)
  })

  it("binds a VRF key to the node's Ethereum address", () => {
    const key = privateKey('node-1')
    const address = privateKeyToAddress(key)
    assert.equal(vrfPublicKeyToAddress(publicKey(key)), address)
    assert.equal(vrfPublicKeyToAddress(publicKey(key, false)), address)
    assert.notEqual(vrfPublicKeyToAddress(publicKey(privateKey('node-2'))), address)
    assert.throws(() => vrfPublicKeyToAddress(`0x02${'00'.repeat(31)}05`), (error: unknown) => error instanceof VrfError && error.code === 'VRF_BAD_KEY')
  })
})
