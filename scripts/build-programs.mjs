#!/usr/bin/env node
// Compiles the example programs (programs/<name>/index.ts, AssemblyScript) to
// programs/build/<name>.wasm with the local compiler: optimised, stub runtime, no custom sections,
// so the bytes — and therefore the program ids — are the same on every machine.
// Usage: node scripts/build-programs.mjs [--if-stale] [name ...]   (default: every program)
//   --if-stale  only rebuild programs whose .wasm is missing or older than their sources
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const programsDir = join(root, 'programs')
const buildDir = join(programsDir, 'build')

const ASC_FLAGS = [
  '--optimizeLevel', '3',
  '--shrinkLevel', '0',
  '--runtime', 'stub',
  // SIMD, threads and reference types stay off (the runtime refuses the first two anyway).
  '--noColors',
]

// A program is a folder with an index.ts; shared/ holds helpers, build/ the output.
const available = readdirSync(programsDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && entry.name !== 'build' && entry.name !== 'shared')
  .map((entry) => entry.name)
  .filter((name) => existsSync(join(programsDir, name, 'index.ts')))
  .sort()
const args = process.argv.slice(2)
const ifStale = args.includes('--if-stale')
const requested = args.filter((arg) => !arg.startsWith('--'))
for (const name of requested) {
  if (!available.includes(name)) {
    console.error(`unknown program '${name}'; available: ${available.join(', ')}`)
    process.exit(2)
  }
}

/** Newest modification time of the .ts files under `dir`. */
function newestSource(dir) {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path))
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

function isStale(name) {
  const output = statSync(join(buildDir, `${name}.wasm`), { throwIfNoEntry: false })
  if (output === undefined) return true
  const sources = Math.max(newestSource(join(programsDir, name)), newestSource(join(programsDir, 'shared')))
  return sources > output.mtimeMs
}

const selected = (requested.length > 0 ? requested : available).filter((name) => !ifStale || isStale(name))
if (selected.length === 0) process.exit(0)
// Loaded only when there is something to compile: importing the compiler takes a while.
const { default: asc } = await import('assemblyscript/asc')

mkdirSync(buildDir, { recursive: true })
let failed = false
for (const name of selected) {
  let binary
  const stderr = []
  const { error } = await asc.main([join(programsDir, name, 'index.ts'), '--outFile', `${name}.wasm`, ...ASC_FLAGS], {
    stdout: { write: () => true },
    stderr: { write: (chunk) => (stderr.push(String(chunk)), true) },
    // Keep the output in memory; it is written below in one atomic rename.
    writeFile: (file, contents) => {
      if (file.endsWith('.wasm')) binary = contents
    },
  })
  if (error || binary === undefined) {
    console.error(`${name}: ${error?.message ?? 'no output'}\n${stderr.join('')}`)
    failed = true
    continue
  }
  const target = join(buildDir, `${name}.wasm`)
  const temporary = `${target}.${process.pid}.tmp`
  writeFileSync(temporary, binary)
  renameSync(temporary, target) // concurrent builds never expose a half-written file
  console.log(`programs/build/${name}.wasm  ${binary.length} bytes`)
}
process.exit(failed ? 1 : 0)
