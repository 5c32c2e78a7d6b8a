// Plain local computations the network's answer is checked against: word frequencies of a
// folder of text files, the same way the word-count program counts (docs in programs/word-count).

/** Word → count over every file: a word is a maximal run of ASCII letters and digits, lowercased. */
export function countWordsLocally(texts: Iterable<Uint8Array>): Map<string, number> {
  const counts = new Map<string, number>()
  for (const bytes of texts) {
    // latin1 maps each byte to one char, so non-ASCII bytes stay separators (as in the program).
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1')
    for (const [word] of text.matchAll(/[A-Za-z0-9]+/g)) {
      const lower = word.toLowerCase()
      counts.set(lower, (counts.get(lower) ?? 0) + 1)
    }
  }
  return counts
}

/** Parses the programs' output format, one `word\tcount\n` line per word. */
export function parseWordCounts(output: Uint8Array): Map<string, number> {
  const counts = new Map<string, number>()
  for (const line of new TextDecoder().decode(output).split('\n')) {
    if (line === '') continue
    const [word, count] = line.split('\t')
    counts.set(word!, (counts.get(word!) ?? 0) + Number(count))
  }
  return counts
}

/** The output format for `counts`: sorted by word, as word-count and word-count-merge write it. */
export function formatWordCounts(counts: ReadonlyMap<string, number>): Uint8Array {
  const words = [...counts.keys()].sort()
  return new TextEncoder().encode(words.map((w) => `${w}\t${counts.get(w)}\n`).join(''))
}

/** What word-count-merge outputs for a framed input (`[u32 LE length][bytes]` per output). */
export function mergeWordCountsReference(framed: Uint8Array): Uint8Array {
  const total = new Map<string, number>()
  const view = new DataView(framed.buffer, framed.byteOffset, framed.byteLength)
  for (let offset = 0; offset < framed.length; ) {
    const length = view.getUint32(offset, true)
    for (const [word, count] of parseWordCounts(framed.subarray(offset + 4, offset + 4 + length))) total.set(word, (total.get(word) ?? 0) + count)
    offset += 4 + length
  }
  return formatWordCounts(total)
}
