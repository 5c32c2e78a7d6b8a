// word-count: input = UTF-8 text; output = one line `word\tcount\n` per distinct word, sorted by
// the word's bytes. A word is a maximal run of ASCII letters and digits, lowercased; every other
// byte (including all non-ASCII bytes) separates words.
import { allocOutput, outputData } from '../shared/abi'

export { alloc } from '../shared/abi'

@inline
function isWordByte(c: u32): bool {
  return c - 0x30 < 10 || (c | 0x20) - 0x61 < 26
}

/** Compares two words of the lowercased text, bytewise; shorter prefixes first. */
function compareWords(text: usize, starts: usize, lens: usize, x: u32, y: u32): i32 {
  const xs = text + <usize>load<u32>(starts + (<usize>x << 2))
  const ys = text + <usize>load<u32>(starts + (<usize>y << 2))
  const xl = load<u32>(lens + (<usize>x << 2))
  const yl = load<u32>(lens + (<usize>y << 2))
  const n = min(xl, yl)
  for (let i: u32 = 0; i < n; i++) {
    const d = <i32>load<u8>(xs + i) - <i32>load<u8>(ys + i)
    if (d != 0) return d
  }
  return <i32>xl - <i32>yl
}

/** Stable bottom-up merge sort of word indices `order[0..count)`, using `scratch`. */
function sortWords(text: usize, starts: usize, lens: usize, order: usize, scratch: usize, count: u32): usize {
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
          const x = load<u32>(src + (<usize>i << 2))
          const y = load<u32>(src + (<usize>j << 2))
          takeLeft = compareWords(text, starts, lens, x, y) <= 0
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

function decimalDigits(value: u32): u32 {
  let digits: u32 = 1
  while (value >= 10) {
    value /= 10
    digits++
  }
  return digits
}

export function run(input: i32, len: i32): i32 {
  const size = <u32>len
  const text = heap.alloc(<usize>size)
  // At most one word per two bytes, rounded up.
  const maxWords = (size + 1) >>> 1
  const starts = heap.alloc(<usize>maxWords << 2)
  const lens = heap.alloc(<usize>maxWords << 2)
  let count: u32 = 0
  let i: u32 = 0
  while (i < size) {
    let c = <u32>load<u8>(<usize>input + i)
    if (!isWordByte(c)) {
      i++
      continue
    }
    const start = i
    while (i < size) {
      c = <u32>load<u8>(<usize>input + i)
      if (!isWordByte(c)) break
      store<u8>(text + i, c - 0x41 < 26 ? c | 0x20 : c)
      i++
    }
    store<u32>(starts + (<usize>count << 2), start)
    store<u32>(lens + (<usize>count << 2), i - start)
    count++
  }

  const order = heap.alloc(<usize>count << 2)
  const scratch = heap.alloc(<usize>count << 2)
  for (let w: u32 = 0; w < count; w++) store<u32>(order + (<usize>w << 2), w)
  const sorted = sortWords(text, starts, lens, order, scratch, count)

  // First pass sizes the output, second pass writes it.
  let outputLen: u32 = 0
  for (let pass = 0; pass < 2; pass++) {
    const output = pass == 0 ? 0 : allocOutput(<i32>outputLen)
    let out = outputData(output)
    let w: u32 = 0
    while (w < count) {
      const first = load<u32>(sorted + (<usize>w << 2))
      let run: u32 = 1
      while (w + run < count && compareWords(text, starts, lens, first, load<u32>(sorted + (<usize>(w + run) << 2))) == 0) run++
      const wordLen = load<u32>(lens + (<usize>first << 2))
      const digits = decimalDigits(run)
      if (pass == 0) {
        outputLen += wordLen + digits + 2
      } else {
        memory.copy(out, text + <usize>load<u32>(starts + (<usize>first << 2)), wordLen)
        out += wordLen
        store<u8>(out++, 0x09)
        let value = run
        for (let d = digits; d > 0; d--) {
          store<u8>(out + d - 1, 0x30 + (value % 10))
          value /= 10
        }
        out += digits
        store<u8>(out++, 0x0a)
      }
      w += run
    }
    if (pass == 1) return <i32>output
  }
  return 0
}
