import assert from 'node:assert/strict'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { runCli } from '../../../test/helpers/cli.ts'
import { withTempDir } from '../../../test/helpers/tempDir.ts'

describe('veritask node: bad input', () => {
  it('needs --rpc-url', async () => {
    const { code, stderr } = await runCli('node')
    assert.equal(code, 2)
    assert.match(stderr, /--rpc-url/)
  })

  it('refuses a key file other users can read, and leaves it as it was', async () => {
    await withTempDir(async (dir) => {
      const key = join(dir, 'node.key')
      const contents = `0x${'11'.repeat(32)}\n`
      writeFileSync(key, contents, { mode: 0o644 })
      const { code, stderr } = await runCli('node', '--data-dir', dir, '--rpc-url', 'http://127.0.0.1:9', '--addresses', join(dir, 'none.json'))
      assert.equal(code, 2)
      assert.match(stderr, /chmod 600/)
      assert.doesNotMatch(stderr, /11111111/, 'the key never appears in output')
      assert.equal(readFileSync(key, 'utf8'), contents)
    })
  })

  it('creates a private key file on first start, then reports an unusable addresses file', async () => {
    await withTempDir(async (dir) => {
      const { code, stderr } = await runCli('node', '--data-dir', dir, '--rpc-url', 'http://127.0.0.1:9', '--addresses', join(dir, 'none.json'))
      assert.equal(code, 1)
      assert.match(stderr, /addresses file/)
      const key = join(dir, 'node.key')
      assert.equal(statSync(key).mode & 0o777, 0o600)
      assert.match(readFileSync(key, 'utf8'), /^0x[0-9a-f]{64}\n$/)
      assert.doesNotMatch(stderr, new RegExp(readFileSync(key, 'utf8').trim().slice(2)), 'the key never appears in output')
    })
  })

  it('refuses a key file that holds no key', async () => {
    await withTempDir(async (dir) => {
      writeFileSync(join(dir, 'node.key'), 'not a key\n', { mode: 0o600 })
      const { code, stderr } = await runCli('node', '--data-dir', dir, '--rpc-url', 'http://127.0.0.1:9')
      assert.equal(code, 2)
      assert.match(stderr, /does not hold a private key/)
    })
  })
})
