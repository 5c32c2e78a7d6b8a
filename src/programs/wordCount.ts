/** The word-count example program: distinct words and their counts, sorted. */

export function wordCountInput(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}

/**
 * What the program outputs for `input`: a line `word\tcount\n` per distinct word, sorted by the
 * word's bytes. A word is a maximal run of ASCII letters and digits, lowercased; any other byte,
 * including every byte of a non-ASCII character, separates words.
 */
export function wordCountReference(input: Uint8Array): Uint8Array {
  // latin1 maps each byte to one char, so non-ASCII bytes stay separators.
  const text = Buffer.from(input.buffer, input.byteOffset, input.length).toString('latin1')
  const counts = new Map<string, number>()
  for (const [word] of text.matchAll(/[A-Za-z0-9]+/g)) {
    const lower = word.toLowerCase()
    counts.set(lower, (counts.get(lower) ?? 0) + 1)
  }
  // Words are ASCII, so UTF-16 code unit order (the default sort) is byte order.
  const lines = [...counts.keys()].sort().map((word) => `${word}\t${counts.get(word)}\n`)
  return new TextEncoder().encode(lines.join(''))
}
