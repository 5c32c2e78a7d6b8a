export interface ProgressBar {
  update(done: number, total: number, label?: string): void
  done(): void
}

/**
 * A one-line progress bar on stderr. Drawn only on a terminal, at most ten times a second, so
 * piped output and `--json` stay clean.
 */
export function createProgressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const enabled = stream.isTTY === true
  let last = 0
  let drawn = false
  return {
    update(done, total, label = '') {
      if (!enabled) return
      const now = performance.now()
      if (now - last < 100 && done < total) return
      last = now
      const width = 30
      const filled = total === 0 ? width : Math.round((done / total) * width)
      stream.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${label}\x1b[K`)
      drawn = true
    },
    done() {
      if (enabled && drawn) stream.write('\n')
    },
  }
}
