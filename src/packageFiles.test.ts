import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { packagePath, packageRoot, packageVersion } from './packageFiles.ts'

describe('packageFiles', () => {
  it('finds the package root, whose package.json names veritask', () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { name: string; version: string }
    assert.equal(pkg.name, 'veritask')
    assert.equal(packageVersion(), pkg.version)
  })

  it('resolves the files the package ships from its root', () => {
    assert.equal(packagePath('bin', 'veritask.js'), join(packageRoot(), 'bin', 'veritask.js'))
    assert.ok(existsSync(packagePath('bin', 'veritask.js')))
    assert.ok(existsSync(packagePath('programs', 'build', 'hash-chain.wasm')), 'the example programs are built by npm install')
  })
})
