#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's test runner and tsx.
// Node 20's runner has no glob support for .ts files, so the list is built here.
// Extra arguments are passed through: `npm test -- src/core` runs only the tests under src/core.
//
// The runner starts a process per file, and a process costs about 1 s of tsx's start and 1-2 s of
// loading the modules a test imports (viem alone is over a thousand) before a unit test's few
// milliseconds run. So the unit tests of each folder under src/ share one process: an entry that
// imports them all. The end-to-end tests under test/ (each starts its own chain and network) and
// the tests that watch what a fresh process loads keep a process each.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, sep } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = new URL('..', import.meta.url).pathname
const args = process.argv.slice(2)
const flags = args.filter((a) => a.startsWith('--'))
const roots = args.filter((a) => !a.startsWith('--'))
/** Tests that must run alone in a fresh process. */
const isolated = new Set(['src/cli/lazyImports.test.ts'])

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

/** The process a test file runs in: its folder under src/ (`src/core`), or its own. */
function groupOf(file) {
  const parts = file.split(sep)
  if (parts[0] !== 'src' || isolated.has(file)) return file
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0]
}

const groups = new Map()
for (const file of files) groups.set(groupOf(file), [...(groups.get(groupOf(file)) ?? []), file])
const entriesDir = mkdtempSync(join(tmpdir(), 'veritask-test-'))
const entries = [...groups].map(([group, members]) => {
  if (members.length === 1) return members[0]
  const entry = join(entriesDir, `${group.replaceAll('/', '-')}.test.mjs`)
  writeFileSync(entry, members.map((file) => `import ${JSON.stringify(pathToFileURL(join(root, file)).href)}\n`).join(''))
  return entry
})

const result = spawnSync(
  process.execPath,
  // A hung test fails after 3 minutes instead of hanging the run.
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=180000', ...flags, ...entries],
  { cwd: root, stdio: 'inherit' },
)
rmSync(entriesDir, { recursive: true, force: true })
process.exit(result.status ?? 1)
