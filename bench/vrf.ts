// VRF micro-benchmark: proveVrf and verifyVrf (src/core/vrf.ts), ECVRF-SECP256K1-SHA256-TAI and
// ECVRF-P256-SHA256-TAI, median µs per call over many calls, each on its own key and alpha.
//
// Usage: npx tsx bench/vrf.ts [--quick]
// Prints a table; writes nothing.
import { p256 } from '@noble/curves/nist'
import { secp256k1 } from '@noble/curves/secp256k1'
import { bytesToHex, keccak256, stringToBytes } from 'viem'
import { p256Sha256Tai, proveVrf, secp256k1Sha256Tai, verifyVrf } from '../src/core/vrf.ts'
import type { VrfProof } from '../src/core/vrf.ts'
import { proveVrfNative, verifyVrfNative } from '../src/crypto/vrf.ts'
import type { Hex } from '../src/core/types.ts'
import { machine, median, quickFlag } from './lib/report.ts'

const quick = quickFlag('npx tsx bench/vrf.ts [--quick]')
const CALLS = quick ? 100 : 1_000
const WARMUP = 50

interface Case {
  key: Hex
  publicKey: Hex
  alpha: Uint8Array
  proof?: VrfProof
}

interface Backend {
  name: string
  prove(key: Hex, alpha: Uint8Array): VrfProof
  verify(publicKey: Hex, alpha: Uint8Array, proof: VrfProof): ReturnType<typeof verifyVrf>
  publicKeyOf(key: Hex): Hex
}

function measure({ prove: proveWith, verify: verifyWith, publicKeyOf }: Backend): { prove: number; verify: number } {
  const cases: Case[] = Array.from({ length: CALLS + WARMUP }, (_, i) => {
    const key = keccak256(stringToBytes(`bench vrf key ${i}`))
    return { key, publicKey: publicKeyOf(key), alpha: stringToBytes(`epoch 1 / task ${i}`) }
  })
  const prove: number[] = []
  const verify: number[] = []
  for (const [i, c] of cases.entries()) {
    const start = performance.now()
    c.proof = proveWith(c.key, c.alpha)
    if (i >= WARMUP) prove.push((performance.now() - start) * 1000)
  }
  for (const [i, c] of cases.entries()) {
    const start = performance.now()
    const result = verifyWith(c.publicKey, c.alpha, c.proof!)
    if (i >= WARMUP) verify.push((performance.now() - start) * 1000)
    if (!result.valid) throw new Error(`case ${i} did not verify: ${result.reason}`)
  }
  return { prove: median(prove), verify: median(verify) }
}

console.log(`VRF micro-benchmark, median of ${CALLS} calls (${WARMUP} warm-up), ${machine()}`)
console.log('backend                                        prove µs   verify µs')
const secpKey = (key: Hex) => bytesToHex(secp256k1.getPublicKey(key.slice(2), true))
const backends: Backend[] = [
  { name: `${secp256k1Sha256Tai.name} (pure JS)`, prove: (k, a) => proveVrf(k, a, secp256k1Sha256Tai), verify: (p, a, pr) => verifyVrf(p, a, pr, secp256k1Sha256Tai), publicKeyOf: secpKey },
  { name: `${secp256k1Sha256Tai.name} (libsecp256k1)`, prove: proveVrfNative, verify: verifyVrfNative, publicKeyOf: secpKey },
  {
    name: `${p256Sha256Tai.name} (pure JS)`,
    prove: (k, a) => proveVrf(k, a, p256Sha256Tai),
    verify: (p, a, pr) => verifyVrf(p, a, pr, p256Sha256Tai),
    publicKeyOf: (key) => bytesToHex(p256.getPublicKey(key.slice(2), true)),
  },
]
for (const backend of backends) {
  const { prove, verify } = measure(backend)
  console.log(`${backend.name.padEnd(46)} ${prove.toFixed(0).padStart(8)}   ${verify.toFixed(0).padStart(9)}`)
}
