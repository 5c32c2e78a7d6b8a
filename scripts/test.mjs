#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's test runner and tsx.
// Node 20's runner has no glob support for .ts files, so the list is built here.
// Extra arguments are passed through: `npm test -- src/core` runs only the tests under src/core.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const args = process.argv.slice(2)
const flags = args.filter((a) => a.startsWith('--'))
const roots = args.filter((a) => !a.startsWith('--'))

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) collect(path, out)
    else if (name.endsWith('.test.ts')) out.push(relative(root, path))
  }
  return out
}

const files = []
for (const r of roots.length > 0 ? roots : ['src', 'test']) {
  const path = join(root, r)
  if (statSync(path).isDirectory()) collect(path, files)
  else files.push(relative(root, path))
}
if (files.length === 0) {
  console.error('no test files found')
  process.exit(1)
}

const result = spawnSync(
  process.execPath,
  // A hung test fails after 3 minutes instead of hanging the run.
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', ...flags, ...files],
  { cwd: root, stdio: 'inherit' },
)
process.exit(result.status ?? 1)
