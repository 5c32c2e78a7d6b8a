#!/usr/bin/env node
// Bundles the command line (src/cli/main.ts) and the WebAssembly worker into dist/bundle/, which
// bin/veritask.js runs. Node 20 resolves, reads and compiles each ES module on its own: the CLI
// and what a node loads are some 1,400 modules, and loading them was most of a node's start
// (1.4 s of it, bench/results/performance.md). As one bundle, split at the CLI's lazy imports so
// that `--help` still loads no command's dependencies, a node serves in about half the time.
// Packages with native parts stay outside and load from node_modules. `npm run build:ts` runs it
// after tsc, whose dist/ is what the package exports as a library.
import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
export const cliOut = `${root}dist/bundle`

export async function buildCli() {
  await rm(cliOut, { recursive: true, force: true })
  await build({
    // `worker` sits beside the entry: createWasmRuntime starts `./worker.js` next to its own code.
    entryPoints: { veritask: `${root}src/cli/main.ts`, worker: `${root}src/exec/wasm/worker.ts` },
    outdir: cliOut,
    chunkNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['better-sqlite3', 'secp256k1', '@chainsafe/blst', 'onnxruntime-node', '@foundry-rs/*'],
    // Bundled CommonJS packages call `require` for Node's built-ins.
    banner: { js: "import { createRequire as veritaskCreateRequire } from 'node:module'; const require = veritaskCreateRequire(import.meta.url);" },
    sourcemap: true,
    logLevel: 'warning',
  })
  return cliOut
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildCli()
