// VRF micro-benchmark: proveVrf and verifyVrf (src/core/vrf.ts), ECVRF-SECP256K1-SHA256-TAI and
// ECVRF-P256-SHA256-TAI, median µs per call over many calls, each on its own key and alpha.
//
// Usage: npx tsx bench/vrf.ts [--quick]
// Prints a table; writes nothing.
import { p256 } from '@noble/curves/nist'
import { secp256k1 } from '@noble/curves/secp256k1'
import { bytesToHex, keccak256, stringToBytes } from 'viem'
import { p256Sha256Tai, proveVrf, secp256k1Sha256Tai, verifyVrf } from '../src/core/vrf.ts'
import type { VrfProof, VrfSuite } from '../src/core/vrf.ts'
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

function measure(suite: VrfSuite, publicKeyOf: (key: Hex) => Hex): { prove: number; verify: number } {
  const cases: Case[] = Array.from({ length: CALLS + WARMUP }, (_, i) => {
    const key = keccak256(stringToBytes(`bench vrf key ${i}`))
    return { key, publicKey: publicKeyOf(key), alpha: stringToBytes(`epoch 1 / task ${i}`) }
  })
  const prove: number[] = []
  const verify: number[] = []
  for (const [i, c] of cases.entries()) {
    const start = performance.now()
    c.proof = proveVrf(c.key, c.alpha, suite)
    if (i >= WARMUP) prove.push((performance.now() - start) * 1000)
  }
  for (const [i, c] of cases.entries()) {
    const start = performance.now()
    const result = verifyVrf(c.publicKey, c.alpha, c.proof!, suite)
    if (i >= WARMUP) verify.push((performance.now() - start) * 1000)
    if (!result.valid) throw new Error(`case ${i} did not verify: ${result.reason}`)
  }
  return { prove: median(prove), verify: median(verify) }
}

console.log(`VRF micro-benchmark, median of ${CALLS} calls (${WARMUP} warm-up), ${machine()}`)
console.log('suite                          prove µs   verify µs')
for (const [suite, publicKeyOf] of [
  [secp256k1Sha256Tai, (key: Hex) => bytesToHex(secp256k1.getPublicKey(key.slice(2), true))],
  [p256Sha256Tai, (key: Hex) => bytesToHex(p256.getPublicKey(key.slice(2), true))],
] as const) {
  const { prove, verify } = measure(suite, publicKeyOf)
  console.log(`${suite.name.padEnd(30)} ${prove.toFixed(0).padStart(8)}   ${verify.toFixed(0).padStart(9)}`)
}
