import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { UsageError } from '../../core/errors.ts'

/**
 * Reads a secret key file, or creates it with `create()` when absent: written with mode 0600,
 * never printed. An existing file readable by group or others is refused, as ssh does.
 */
export async function loadOrCreateKeyFile(path: string, create: () => Uint8Array | Promise<Uint8Array>): Promise<{ bytes: Uint8Array; created: boolean }> {
  try {
    const info = await stat(path)
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      throw new UsageError('USAGE_INSECURE_KEY_FILE', `The key file ${path} can be read by other users.`, {
        hint: `Run: chmod 600 ${path}`,
      })
    }
    return { bytes: new Uint8Array(await readFile(path)), created: false }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const bytes = await create()
  // 'wx': never overwrite a key another process just created.
  const file = await open(path, 'wx', 0o600)
  try {
    await file.writeFile(bytes)
    await file.sync()
  } finally {
    await file.close()
  }
  await chmod(path, 0o600)
  return { bytes, created: true }
}

/** A fresh secp256k1 private key as 32 bytes (any 32 random bytes below the curve order; retried otherwise). */
export function randomPrivateKey(): Uint8Array {
  const order = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
  for (;;) {
    const bytes = new Uint8Array(randomBytes(32))
    const value = BigInt(`0x${Buffer.from(bytes).toString('hex')}`)
    if (value > 0n && value < order) return bytes
  }
}
