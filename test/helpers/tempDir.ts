import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh temporary directory whose name starts with `prefix`. */
export function tempDir(prefix = 'veritask-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Runs `fn` with a fresh directory that is removed afterwards. */
export async function withTempDir(fn: (dir: string) => Promise<void> | void, prefix?: string): Promise<void> {
  const dir = tempDir(prefix)
  try {
    await fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
