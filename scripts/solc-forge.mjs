#!/usr/bin/env node
// A `solc` command line for forge, backed by the solc npm package (solc-js), so that forge builds
// and fuzzes the contracts offline with the same compiler the project ships (`forge --use` this
// file; see foundry.toml and src/chain/forge.test.ts). Forge needs two things of a solc binary:
//   solc --version                 prints "Version: <semver>+commit.<hash>..."
//   solc --standard-json [...]     reads standard JSON input on stdin, writes the output on stdout
// Other flags forge passes (--allow-paths, --base-path, --include-path) name where sources may be
// read from; forge inlines every source into the JSON, so they only guide the import callback.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, join, resolve } from 'node:path'

const require = createRequire(import.meta.url)
const solc = require('solc')
const args = process.argv.slice(2)

if (args.includes('--version') || args.includes('-v')) {
  // solc-js reports "0.8.28+commit.7893614a.Emscripten.clang"; forge reads the semver and commit.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`)
  process.exit(0)
}

if (!args.includes('--standard-json')) {
  process.stderr.write(`solc-forge: only --version and --standard-json are supported (got: ${args.join(' ')})\n`)
  process.exit(2)
}

/** Directories a relative import may be read from: the working directory, then every path flag's value. */
const roots = [process.cwd()]
for (let i = 0; i < args.length; i++) {
  if (['--allow-paths', '--base-path', '--include-path'].includes(args[i]) && args[i + 1] !== undefined) {
    roots.push(...args[i + 1].split(',').map((path) => resolve(path)))
  }
}

function findImports(path) {
  for (const candidate of isAbsolute(path) ? [path] : roots.map((root) => join(root, path))) {
    try {
      return { contents: readFileSync(candidate, 'utf8') }
    } catch {
      // try the next root
    }
  }
  return { error: `solc-forge: file not found: ${path}` }
}

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
process.stdout.write(solc.compile(Buffer.concat(chunks).toString('utf8'), { import: findImports }))
