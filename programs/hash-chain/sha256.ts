// SHA-256 (FIPS 180-4) over linear memory.

const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]

const H0: StaticArray<u32> = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]

// Working buffers, allocated once per instance.
const W = new StaticArray<u32>(64)
const H = new StaticArray<u32>(8)
const BLOCK = new StaticArray<u8>(64)

@inline
function loadBE(ptr: usize): u32 {
  return bswap<u32>(load<u32>(ptr))
}

function compress(block: usize): void {
  for (let t = 0; t < 16; t++) unchecked((W[t] = loadBE(block + (<usize>t << 2))))
  for (let t = 16; t < 64; t++) {
    const w15 = unchecked(W[t - 15])
    const w2 = unchecked(W[t - 2])
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3)
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10)
    unchecked((W[t] = unchecked(W[t - 16]) + s0 + unchecked(W[t - 7]) + s1))
  }
  let a = unchecked(H[0])
  let b = unchecked(H[1])
  let c = unchecked(H[2])
  let d = unchecked(H[3])
  let e = unchecked(H[4])
  let f = unchecked(H[5])
  let g = unchecked(H[6])
  let h = unchecked(H[7])
  for (let t = 0; t < 64; t++) {
    const S1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)
    const ch = (e & f) ^ (~e & g)
    const t1 = h + S1 + ch + unchecked(K[t]) + unchecked(W[t])
    const S0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)
    const maj = (a & b) ^ (a & c) ^ (b & c)
    const t2 = S0 + maj
    h = g
    g = f
    f = e
    e = d + t1
    d = c
    c = b
    b = a
    a = t1 + t2
  }
  unchecked((H[0] += a))
  unchecked((H[1] += b))
  unchecked((H[2] += c))
  unchecked((H[3] += d))
  unchecked((H[4] += e))
  unchecked((H[5] += f))
  unchecked((H[6] += g))
  unchecked((H[7] += h))
}

/** Writes SHA-256(data[0..len)) to out[0..32). `out` may overlap `data`. */
export function sha256(data: usize, len: usize, out: usize): void {
  for (let i = 0; i < 8; i++) unchecked((H[i] = H0[i]))
  let offset: usize = 0
  while (len - offset >= 64) {
    compress(data + offset)
    offset += 64
  }
  // Padding: the remaining bytes, 0x80, zeros, and the bit length as a big-endian u64.
  const block = changetype<usize>(BLOCK)
  const rest = len - offset
  memory.copy(block, data + offset, rest)
  store<u8>(block + rest, 0x80)
  if (rest >= 56) {
    memory.fill(block + rest + 1, 0, 63 - rest)
    compress(block)
    memory.fill(block, 0, 56)
  } else {
    memory.fill(block + rest + 1, 0, 55 - rest)
  }
  store<u64>(block + 56, bswap<u64>(<u64>len << 3))
  compress(block)
  for (let i = 0; i < 8; i++) store<u32>(out + (<usize>i << 2), bswap<u32>(unchecked(H[i])))
}
