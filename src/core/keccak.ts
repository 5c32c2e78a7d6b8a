import type { Hex } from './types.ts'

// keccak-256 (the Ethereum variant: 0x01 padding, not SHA3's 0x06) in plain JavaScript, pure and
// dependency-free. Every id, signature digest and sortition ticket goes through it, so it is
// written for speed: 64-bit lanes as pairs of 32-bit integers in local variables, and the
// permutation unrolled (generated code: theta, rho and pi, chi, iota per round). It is several
// times faster than the generic implementation viem uses, and byte-identical to it (see
// keccak.test.ts). Adapters may use a native implementation instead (src/crypto/keccak.ts).

/** Round constants of keccak-f[1600], as (low, high) 32-bit pairs. */
const ROUND_CONSTANTS = new Int32Array([1,0,32898,0,32906,-2147483648,-2147450880,-2147483648,32907,0,-2147483647,0,-2147450751,-2147483648,32777,-2147483648,138,0,136,0,-2147450871,0,-2147483638,0,-2147450741,0,139,-2147483648,32905,-2147483648,32771,-2147483648,32770,-2147483648,128,-2147483648,32778,0,-2147483638,-2147483648,-2147450751,-2147483648,32896,-2147483648,-2147483647,0,-2147450872,-2147483648])

/** keccak-f[1600] on a state of 25 lanes, each as (low, high) 32-bit words, in place. */
function permute(s: Int32Array): void {
  let a00l = s[0]!, a00h = s[1]!,
    a10l = s[2]!, a10h = s[3]!,
    a20l = s[4]!, a20h = s[5]!,
    a30l = s[6]!, a30h = s[7]!,
    a40l = s[8]!, a40h = s[9]!,
    a01l = s[10]!, a01h = s[11]!,
    a11l = s[12]!, a11h = s[13]!,
    a21l = s[14]!, a21h = s[15]!,
    a31l = s[16]!, a31h = s[17]!,
    a41l = s[18]!, a41h = s[19]!,
    a02l = s[20]!, a02h = s[21]!,
    a12l = s[22]!, a12h = s[23]!,
    a22l = s[24]!, a22h = s[25]!,
    a32l = s[26]!, a32h = s[27]!,
    a42l = s[28]!, a42h = s[29]!,
    a03l = s[30]!, a03h = s[31]!,
    a13l = s[32]!, a13h = s[33]!,
    a23l = s[34]!, a23h = s[35]!,
    a33l = s[36]!, a33h = s[37]!,
    a43l = s[38]!, a43h = s[39]!,
    a04l = s[40]!, a04h = s[41]!,
    a14l = s[42]!, a14h = s[43]!,
    a24l = s[44]!, a24h = s[45]!,
    a34l = s[46]!, a34h = s[47]!,
    a44l = s[48]!, a44h = s[49]!
  for (let round = 0; round < 48; round += 2) {
    const c0l = a00l ^ a01l ^ a02l ^ a03l ^ a04l
    const c0h = a00h ^ a01h ^ a02h ^ a03h ^ a04h
    const c1l = a10l ^ a11l ^ a12l ^ a13l ^ a14l
    const c1h = a10h ^ a11h ^ a12h ^ a13h ^ a14h
    const c2l = a20l ^ a21l ^ a22l ^ a23l ^ a24l
    const c2h = a20h ^ a21h ^ a22h ^ a23h ^ a24h
    const c3l = a30l ^ a31l ^ a32l ^ a33l ^ a34l
    const c3h = a30h ^ a31h ^ a32h ^ a33h ^ a34h
    const c4l = a40l ^ a41l ^ a42l ^ a43l ^ a44l
    const c4h = a40h ^ a41h ^ a42h ^ a43h ^ a44h
    const d0l = c4l ^ ((c1l << 1) | (c1h >>> 31))
    const d0h = c4h ^ ((c1h << 1) | (c1l >>> 31))
    const d1l = c0l ^ ((c2l << 1) | (c2h >>> 31))
    const d1h = c0h ^ ((c2h << 1) | (c2l >>> 31))
    const d2l = c1l ^ ((c3l << 1) | (c3h >>> 31))
    const d2h = c1h ^ ((c3h << 1) | (c3l >>> 31))
    const d3l = c2l ^ ((c4l << 1) | (c4h >>> 31))
    const d3h = c2h ^ ((c4h << 1) | (c4l >>> 31))
    const d4l = c3l ^ ((c0l << 1) | (c0h >>> 31))
    const d4h = c3h ^ ((c0h << 1) | (c0l >>> 31))
    const b00l = (a00l ^ d0l), b00h = (a00h ^ d0h)
    const t10l = (a10l ^ d1l), t10h = (a10h ^ d1h)
    const b02l = (t10l << 1) | (t10h >>> 31), b02h = (t10h << 1) | (t10l >>> 31)
    const t20l = (a20l ^ d2l), t20h = (a20h ^ d2h)
    const b04l = (t20h << 30) | (t20l >>> 2), b04h = (t20l << 30) | (t20h >>> 2)
    const t30l = (a30l ^ d3l), t30h = (a30h ^ d3h)
    const b01l = (t30l << 28) | (t30h >>> 4), b01h = (t30h << 28) | (t30l >>> 4)
    const t40l = (a40l ^ d4l), t40h = (a40h ^ d4h)
    const b03l = (t40l << 27) | (t40h >>> 5), b03h = (t40h << 27) | (t40l >>> 5)
    const t01l = (a01l ^ d0l), t01h = (a01h ^ d0h)
    const b13l = (t01h << 4) | (t01l >>> 28), b13h = (t01l << 4) | (t01h >>> 28)
    const t11l = (a11l ^ d1l), t11h = (a11h ^ d1h)
    const b10l = (t11h << 12) | (t11l >>> 20), b10h = (t11l << 12) | (t11h >>> 20)
    const t21l = (a21l ^ d2l), t21h = (a21h ^ d2h)
    const b12l = (t21l << 6) | (t21h >>> 26), b12h = (t21h << 6) | (t21l >>> 26)
    const t31l = (a31l ^ d3l), t31h = (a31h ^ d3h)
    const b14l = (t31h << 23) | (t31l >>> 9), b14h = (t31l << 23) | (t31h >>> 9)
    const t41l = (a41l ^ d4l), t41h = (a41h ^ d4h)
    const b11l = (t41l << 20) | (t41h >>> 12), b11h = (t41h << 20) | (t41l >>> 12)
    const t02l = (a02l ^ d0l), t02h = (a02h ^ d0h)
    const b21l = (t02l << 3) | (t02h >>> 29), b21h = (t02h << 3) | (t02l >>> 29)
    const t12l = (a12l ^ d1l), t12h = (a12h ^ d1h)
    const b23l = (t12l << 10) | (t12h >>> 22), b23h = (t12h << 10) | (t12l >>> 22)
    const t22l = (a22l ^ d2l), t22h = (a22h ^ d2h)
    const b20l = (t22h << 11) | (t22l >>> 21), b20h = (t22l << 11) | (t22h >>> 21)
    const t32l = (a32l ^ d3l), t32h = (a32h ^ d3h)
    const b22l = (t32l << 25) | (t32h >>> 7), b22h = (t32h << 25) | (t32l >>> 7)
    const t42l = (a42l ^ d4l), t42h = (a42h ^ d4h)
    const b24l = (t42h << 7) | (t42l >>> 25), b24h = (t42l << 7) | (t42h >>> 25)
    const t03l = (a03l ^ d0l), t03h = (a03h ^ d0h)
    const b34l = (t03h << 9) | (t03l >>> 23), b34h = (t03l << 9) | (t03h >>> 23)
    const t13l = (a13l ^ d1l), t13h = (a13h ^ d1h)
    const b31l = (t13h << 13) | (t13l >>> 19), b31h = (t13l << 13) | (t13h >>> 19)
    const t23l = (a23l ^ d2l), t23h = (a23h ^ d2h)
    const b33l = (t23l << 15) | (t23h >>> 17), b33h = (t23h << 15) | (t23l >>> 17)
    const t33l = (a33l ^ d3l), t33h = (a33h ^ d3h)
    const b30l = (t33l << 21) | (t33h >>> 11), b30h = (t33h << 21) | (t33l >>> 11)
    const t43l = (a43l ^ d4l), t43h = (a43h ^ d4h)
    const b32l = (t43l << 8) | (t43h >>> 24), b32h = (t43h << 8) | (t43l >>> 24)
    const t04l = (a04l ^ d0l), t04h = (a04h ^ d0h)
    const b42l = (t04l << 18) | (t04h >>> 14), b42h = (t04h << 18) | (t04l >>> 14)
    const t14l = (a14l ^ d1l), t14h = (a14h ^ d1h)
    const b44l = (t14l << 2) | (t14h >>> 30), b44h = (t14h << 2) | (t14l >>> 30)
    const t24l = (a24l ^ d2l), t24h = (a24h ^ d2h)
    const b41l = (t24h << 29) | (t24l >>> 3), b41h = (t24l << 29) | (t24h >>> 3)
    const t34l = (a34l ^ d3l), t34h = (a34h ^ d3h)
    const b43l = (t34h << 24) | (t34l >>> 8), b43h = (t34l << 24) | (t34h >>> 8)
    const t44l = (a44l ^ d4l), t44h = (a44h ^ d4h)
    const b40l = (t44l << 14) | (t44h >>> 18), b40h = (t44h << 14) | (t44l >>> 18)
    a00l = b00l ^ (~b10l & b20l)
    a00h = b00h ^ (~b10h & b20h)
    a10l = b10l ^ (~b20l & b30l)
    a10h = b10h ^ (~b20h & b30h)
    a20l = b20l ^ (~b30l & b40l)
    a20h = b20h ^ (~b30h & b40h)
    a30l = b30l ^ (~b40l & b00l)
    a30h = b30h ^ (~b40h & b00h)
    a40l = b40l ^ (~b00l & b10l)
    a40h = b40h ^ (~b00h & b10h)
    a01l = b01l ^ (~b11l & b21l)
    a01h = b01h ^ (~b11h & b21h)
    a11l = b11l ^ (~b21l & b31l)
    a11h = b11h ^ (~b21h & b31h)
    a21l = b21l ^ (~b31l & b41l)
    a21h = b21h ^ (~b31h & b41h)
    a31l = b31l ^ (~b41l & b01l)
    a31h = b31h ^ (~b41h & b01h)
    a41l = b41l ^ (~b01l & b11l)
    a41h = b41h ^ (~b01h & b11h)
    a02l = b02l ^ (~b12l & b22l)
    a02h = b02h ^ (~b12h & b22h)
    a12l = b12l ^ (~b22l & b32l)
    a12h = b12h ^ (~b22h & b32h)
    a22l = b22l ^ (~b32l & b42l)
    a22h = b22h ^ (~b32h & b42h)
    a32l = b32l ^ (~b42l & b02l)
    a32h = b32h ^ (~b42h & b02h)
    a42l = b42l ^ (~b02l & b12l)
    a42h = b42h ^ (~b02h & b12h)
    a03l = b03l ^ (~b13l & b23l)
    a03h = b03h ^ (~b13h & b23h)
    a13l = b13l ^ (~b23l & b33l)
    a13h = b13h ^ (~b23h & b33h)
    a23l = b23l ^ (~b33l & b43l)
    a23h = b23h ^ (~b33h & b43h)
    a33l = b33l ^ (~b43l & b03l)
    a33h = b33h ^ (~b43h & b03h)
    a43l = b43l ^ (~b03l & b13l)
    a43h = b43h ^ (~b03h & b13h)
    a04l = b04l ^ (~b14l & b24l)
    a04h = b04h ^ (~b14h & b24h)
    a14l = b14l ^ (~b24l & b34l)
    a14h = b14h ^ (~b24h & b34h)
    a24l = b24l ^ (~b34l & b44l)
    a24h = b24h ^ (~b34h & b44h)
    a34l = b34l ^ (~b44l & b04l)
    a34h = b34h ^ (~b44h & b04h)
    a44l = b44l ^ (~b04l & b14l)
    a44h = b44h ^ (~b04h & b14h)
    a00l ^= ROUND_CONSTANTS[round]!
    a00h ^= ROUND_CONSTANTS[round + 1]!
  }
  s[0] = a00l; s[1] = a00h
  s[2] = a10l; s[3] = a10h
  s[4] = a20l; s[5] = a20h
  s[6] = a30l; s[7] = a30h
  s[8] = a40l; s[9] = a40h
  s[10] = a01l; s[11] = a01h
  s[12] = a11l; s[13] = a11h
  s[14] = a21l; s[15] = a21h
  s[16] = a31l; s[17] = a31h
  s[18] = a41l; s[19] = a41h
  s[20] = a02l; s[21] = a02h
  s[22] = a12l; s[23] = a12h
  s[24] = a22l; s[25] = a22h
  s[26] = a32l; s[27] = a32h
  s[28] = a42l; s[29] = a42h
  s[30] = a03l; s[31] = a03h
  s[32] = a13l; s[33] = a13h
  s[34] = a23l; s[35] = a23h
  s[36] = a33l; s[37] = a33h
  s[38] = a43l; s[39] = a43h
  s[40] = a04l; s[41] = a04h
  s[42] = a14l; s[43] = a14h
  s[44] = a24l; s[45] = a24h
  s[46] = a34l; s[47] = a34h
  s[48] = a44l; s[49] = a44h
}

/** Bytes absorbed per block: 1088 bits for a 256-bit output. */
const RATE = 136
const state = new Int32Array(50)
const lastBlock = new Uint8Array(RATE)

function absorbBlock(bytes: Uint8Array, offset: number): void {
  for (let i = 0; i < 34; i++, offset += 4) {
    state[i] = state[i]! ^ (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24))
  }
  permute(state)
}

/** keccak256 of `bytes`, as 32 bytes. */
export function keccak256Bytes(bytes: Uint8Array): Uint8Array {
  state.fill(0)
  const full = bytes.byteLength - (bytes.byteLength % RATE)
  for (let offset = 0; offset < full; offset += RATE) absorbBlock(bytes, offset)
  lastBlock.fill(0)
  lastBlock.set(bytes.subarray(full))
  lastBlock[bytes.byteLength - full] = 0x01
  lastBlock[RATE - 1] = lastBlock[RATE - 1]! | 0x80
  absorbBlock(lastBlock, 0)
  const out = new Uint8Array(32)
  for (let i = 0; i < 8; i++) {
    const word = state[i]!
    out[i * 4] = word
    out[i * 4 + 1] = word >>> 8
    out[i * 4 + 2] = word >>> 16
    out[i * 4 + 3] = word >>> 24
  }
  return out
}

const HEX_BYTES = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Lowercase 0x-prefixed hex of `bytes`. */
export function toHex(bytes: Uint8Array): Hex {
  let hex = '0x'
  for (let i = 0; i < bytes.length; i++) hex += HEX_BYTES[bytes[i]!]
  return hex as Hex
}

/** keccak256 of `bytes`, as lowercase 0x-prefixed hex (what viem's `keccak256` returns). */
export function keccak256Hex(bytes: Uint8Array): Hex {
  return toHex(keccak256Bytes(bytes))
}
