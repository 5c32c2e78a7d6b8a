import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import type { InputFile } from './chunking.ts'
import { InputNotFoundError } from './errors.ts'

/**
 * Reads a job's input: one file, or every file under a directory (recursively, in sorted path
 * order, dot-files skipped). Paths are relative to `path`, with `/` separators, so a job names its
 * chunks the same way on every machine. Throws `InputNotFoundError` for a path that does not exist
 * or cannot be read.
 */
export async function readJobInput(path: string): Promise<InputFile[]> {
  let info
  try {
    info = await stat(path)
  } catch (cause) {
    throw new InputNotFoundError('SDK_INPUT_NOT_FOUND', `The input ${path} does not exist.`, {
      cause,
      details: { path },
      hint: 'Pass an existing file or directory with --input.',
    })
  }
  if (!info.isDirectory()) return [{ path: path.split(sep).at(-1) ?? path, bytes: await readBytes(path) }]
  const files: InputFile[] = []
  async function walk(dir: string): Promise<void> {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue
      const full = join(dir, entry.name)
      if (entry.isDirectory()) await walk(full)
      else if (entry.isFile()) files.push({ path: relative(path, full).split(sep).join('/'), bytes: await readBytes(full) })
    }
  }
  await walk(path)
  return files
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path))
  } catch (cause) {
    throw new InputNotFoundError('SDK_INPUT_NOT_FOUND', `Cannot read ${path}.`, { cause, details: { path }, hint: 'Check the file exists and is readable.' })
  }
}
