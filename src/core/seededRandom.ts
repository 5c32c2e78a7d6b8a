/**
 * mulberry32: a small, fast, seedable PRNG, identical on every machine. For simulation, fuzzing
 * and data sets that must be reproduced from their seed; never for anything that must be
 * unpredictable. Yields floats in [0, 1).
 */
export function createSeededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
