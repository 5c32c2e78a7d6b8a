import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let root: string | undefined

/**
 * The package's root directory, where the files it ships beside its code live: package.json, the
 * example programs, the model, the explorer's web app, the CLI's entry. The code runs from src/
 * (tsx), dist/ (tsc) or dist/bundle/ (the CLI's bundle, `scripts/build-cli.mjs`), each at another
 * depth, so the root is the first directory upwards that holds a package.json.
 */
export function packageRoot(): string {
  if (root !== undefined) return root
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`No package.json above ${fileURLToPath(import.meta.url)}: veritask's files are missing.`)
    dir = parent
  }
  return (root = dir)
}

/** The absolute path of a file the package ships, from its root: `packagePath('programs', 'build', 'echo.wasm')`. */
export function packagePath(...segments: string[]): string {
  return join(packageRoot(), ...segments)
}

/** The package's version, from its package.json; `unknown` if it cannot be read. */
export function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version?: unknown }
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}
