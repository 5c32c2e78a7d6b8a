// word-count-merge: the reduce of word-count. Input = word-count outputs framed as
// `[u32 little-endian length][bytes]`, one after another (a job's reduce input, see
// src/sdk/chunkOutputs.ts frameOutputs). Each output is lines `word\tcount\n`. Output = the same
// format for all of them together: one line per distinct word with the summed count, sorted by
// the word's bytes. Merging merged outputs again gives the same answer, so it reduces in levels.
import { allocOutput, outputData, readU32 } from '../shared/abi'

export { alloc } from '../shared/abi'

/** Compares words x and y (byte ranges of the input); shorter prefixes first. */
function compareWords(input: usize, starts: usize, lens: usize, x: u32, y: u32): i32 {
  const xs = input + <usize>load<u32>(starts + (<usize>x << 2))
  const ys = input + <usize>load<u32>(starts + (<usize>y << 2))
  const xl = load<u32>(lens + (<usize>x << 2))
  const yl = load<u32>(lens + (<usize>y << 2))
  const n = min(xl, yl)
  for (let i: u32 = 0; i < n; i++) {
    const d = <i32>load<u8>(xs + i) - <i32>load<u8>(ys + i)
    if (d != 0) return d
  }
  return <i32>xl - <i32>yl
}

/** Stable bottom-up merge sort of entry indices `order[0..count)`, using `scratch`. */
function sortEntries(input: usize, starts: usize, lens: usize, order: usize, scratch: usize, count: u32): usize {
  let src = order
  let dst = scratch
  for (let width: u32 = 1; width < count; width <<= 1) {
    for (let lo: u32 = 0; lo < count; lo += width << 1) {
      const mid = min(lo + width, count)
      const hi = min(lo + (width << 1), count)
      let i = lo
      let j = mid
      for (let k = lo; k < hi; k++) {
        let takeLeft = i < mid
        if (takeLeft && j < hi) {
          takeLeft = compareWords(input, starts, lens, load<u32>(src + (<usize>i << 2)), load<u32>(src + (<usize>j << 2))) <= 0
        }
        const from = takeLeft ? i++ : j++
        store<u32>(dst + (<usize>k << 2), load<u32>(src + (<usize>from << 2)))
      }
    }
    const t = src
    src = dst
    dst = t
  }
  return src
}

function decimalDigits(value: u64): u32 {
  let digits: u32 = 1
  while (value >= 10) {
    value /= 10
    digits++
  }
  return digits
}

export function run(input: i32, len: i32): i32 {
  const base = <usize>input
  // Every line has at least 4 bytes ("w\t1\n"), so at most len / 4 entries.
  const maxEntries = (<u32>len >>> 2) + 1
  const starts = heap.alloc(<usize>maxEntries << 2)
  const lens = heap.alloc(<usize>maxEntries << 2)
  const counts = heap.alloc(<usize>maxEntries << 3)
  let count: u32 = 0
  let offset: i32 = 0
  while (offset < len) {
    const frameLen = <i32>readU32(base, len, offset)
    offset += 4
    const end = offset + frameLen
    if (frameLen < 0 || end > len) abort('frame past the end of the input')
    while (offset < end) {
      const start = offset
      while (offset < end && load<u8>(base + <usize>offset) != 0x09) offset++
      if (offset >= end || offset == start) abort('expected word\\tcount')
      const wordLen = offset - start
      offset++
      let value: u64 = 0
      let digits = 0
      while (offset < end && load<u8>(base + <usize>offset) != 0x0a) {
        const d = <u32>load<u8>(base + <usize>offset) - 0x30
        if (d > 9) abort('count is not a decimal number')
        value = value * 10 + <u64>d
        digits++
        offset++
      }
      if (offset >= end || digits == 0) abort('expected a count and a newline')
      offset++
      store<u32>(starts + (<usize>count << 2), <u32>start)
      store<u32>(lens + (<usize>count << 2), <u32>wordLen)
      store<u64>(counts + (<usize>count << 3), value)
      count++
    }
  }

  const order = heap.alloc(<usize>count << 2)
  const scratch = heap.alloc(<usize>count << 2)
  for (let e: u32 = 0; e < count; e++) store<u32>(order + (<usize>e << 2), e)
  const sorted = sortEntries(base, starts, lens, order, scratch, count)

  // First pass sizes the output, second pass writes it.
  let outputLen: u32 = 0
  for (let pass = 0; pass < 2; pass++) {
    const output = pass == 0 ? 0 : allocOutput(<i32>outputLen)
    let out = outputData(output)
    let e: u32 = 0
    while (e < count) {
      const first = load<u32>(sorted + (<usize>e << 2))
      let total: u64 = 0
      let run: u32 = 0
      while (e + run < count) {
        const next = load<u32>(sorted + (<usize>(e + run) << 2))
        if (run > 0 && compareWords(base, starts, lens, first, next) != 0) break
        total += load<u64>(counts + (<usize>next << 3))
        run++
      }
      const wordLen = load<u32>(lens + (<usize>first << 2))
      const digits = decimalDigits(total)
      if (pass == 0) {
        outputLen += wordLen + digits + 2
      } else {
        memory.copy(out, base + <usize>load<u32>(starts + (<usize>first << 2)), wordLen)
        out += wordLen
        store<u8>(out++, 0x09)
        let value = total
        for (let d = digits; d > 0; d--) {
          store<u8>(out + d - 1, 0x30 + <u8>(value % 10))
          value /= 10
        }
        out += digits
        store<u8>(out++, 0x0a)
      }
      e += run
    }
    if (pass == 1) return <i32>output
  }
  return 0
}
