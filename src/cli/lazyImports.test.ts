import assert from 'node:assert/strict'
import { register } from 'node:module'
import { describe, it } from 'node:test'
import { MessageChannel } from 'node:worker_threads'

/**
 * A module hook that notes every module the process resolves, and lists them when asked. Each test
 * file runs in its own process, and this one imports the CLI only after registering the hook.
 */
const hook = `
let seen = new Set()
export function initialize({ port }) {
  port.on('message', () => port.postMessage([...seen]))
  port.unref()
}
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  seen.add(resolved.url)
  return resolved
}
`
const { port1, port2 } = new MessageChannel()
register(`data:text/javascript,${encodeURIComponent(hook)}`, { data: { port: port2 }, transferList: [port2] })

/** Every module resolved so far: the hook answers after the resolutions it has done. */
function loadedModules(): Promise<string[]> {
  return new Promise((resolve) => {
    port1.once('message', (urls: string[]) => resolve(urls))
    port1.postMessage('list')
  })
}

/** What a command runs, never what defines it: networking, chain clients, storage, runtimes, schemas. */
const heavy = /node_modules\/(viem|ox|abitype|@noble|@scure|libp2p|@libp2p|@chainsafe|@multiformats|onnxruntime-node|better-sqlite3|@foundry-rs|zod|secp256k1)\//

describe('veritask CLI start-up', () => {
  it('defines every command, prints --version and --help without loading what the commands run', async () => {
    const { main } = await import('./main.ts')
    const out: string[] = []
    const run = (...args: string[]) =>
      main(['node', 'veritask', ...args], { stdout: (t) => out.push(t), stderr: (t) => out.push(t), signal: new AbortController().signal, env: {} })
    assert.equal(await run('--version'), 0)
    assert.match(out.join('\n'), /^\d+\.\d+\.\d+/)
    for (const command of ['devnet', 'node', 'receipt', 'gov', 'deposit', 'submit', 'job', 'status', 'result', 'sim']) {
      assert.equal(await run(command, '--help'), 0, command)
    }
    assert.equal(await run('gov', 'vote', '--help'), 0)
    // A contradiction in the flags is reported before anything heavy loads, too.
    assert.equal(await run('devnet', '--k', '5', '--nodes', '3'), 2)
    const loaded = (await loadedModules()).filter((url) => heavy.test(url))
    assert.deepEqual(loaded, [])
  })
})
