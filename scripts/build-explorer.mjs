#!/usr/bin/env node
// Builds the explorer's web app (src/explorer/) into dist/explorer/: one bundled, minified
// app.js, its page and its stylesheet. Everything comes from npm packages at install: nothing is
// fetched at run time, so the explorer works offline. `npm run build` (and `prepare`) runs it.
import { copyFile, mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
export const explorerOut = `${root}dist/explorer`

export async function buildExplorer() {
  await mkdir(explorerOut, { recursive: true })
  await build({
    entryPoints: [`${root}src/explorer/main.ts`],
    outfile: `${explorerOut}/app.js`,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  })
  await copyFile(`${root}src/explorer/index.html`, `${explorerOut}/index.html`)
  await copyFile(`${root}src/explorer/style.css`, `${explorerOut}/style.css`)
  return explorerOut
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildExplorer()
