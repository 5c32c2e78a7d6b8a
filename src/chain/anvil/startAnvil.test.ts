import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { StartAnvilError, resolveAnvilBinary, startAnvil } from './startAnvil.ts'

/** Whether a process with this id exists (a reaped child no longer does). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  return ((await response.json()) as { result: unknown }).result
}

describe('startAnvil', () => {
  it('resolves the binary of the platform package', () => {
    assert.match(resolveAnvilBinary(), /@foundry-rs[\\/]anvil-[a-z0-9]+-[a-z0-9]+[\\/]bin[\\/]anvil(\.exe)?$/)
  })

  it('serves JSON-RPC on a free loopback port and leaves no process after stop()', async () => {
    const anvil = await startAnvil({ chainId: 4242 })
    assert.ok(anvil.port > 0)
    assert.equal(anvil.rpcUrl, `http://127.0.0.1:${anvil.port}`)
    assert.equal(await rpc(anvil.rpcUrl, 'eth_chainId'), '0x1092')
    assert.ok(isAlive(anvil.pid))
    await anvil.stop()
    assert.equal(isAlive(anvil.pid), false)
    await anvil.stop() // idempotent
  })

  it('runs two instances side by side', async () => {
    const [a, b] = await Promise.all([startAnvil(), startAnvil({ accounts: 2 })])
    assert.notEqual(a.port, b.port)
    assert.equal(((await rpc(b.rpcUrl, 'eth_accounts')) as string[]).length, 2)
    await Promise.all([a.stop(), b.stop()])
    assert.equal(isAlive(a.pid) || isAlive(b.pid), false)
  })

  it('stops when its abort signal fires', async () => {
    const controller = new AbortController()
    const anvil = await startAnvil({ signal: controller.signal })
    controller.abort()
    await anvil.stop() // resolves once the abort-triggered stop has finished
    assert.equal(isAlive(anvil.pid), false)
  })

  it('rejects with a typed error and the output tail when anvil exits early', async () => {
    await assert.rejects(startAnvil({ mnemonic: 'not a valid mnemonic' }), (error: unknown) => {
      assert.ok(error instanceof StartAnvilError)
      assert.equal(error.code, 'EXITED')
      assert.notEqual(error.stderrTail, '')
      return true
    })
  })

  it('rejects an aborted start', async () => {
    await assert.rejects(startAnvil({ signal: AbortSignal.abort() }), { name: 'StartAnvilError', code: 'ABORTED' })
  })
})

describe('startAnvil in a process that ends without stop()', () => {
  const script = (ending: string): string =>
    `import { startAnvil } from ${JSON.stringify(new URL('./startAnvil.ts', import.meta.url).href)}\n` +
    `const anvil = await startAnvil()\nconsole.log(anvil.pid)\n${ending}\n`

  async function runChild(ending: string, signal?: NodeJS.Signals): Promise<number> {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(ending)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const pid = await new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim())))
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)))
    })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    if (signal) child.kill(signal)
    await exited
    return pid
  }

  /**
   * Whether `pid` has terminated. A killed orphan is reparented to PID 1, which reaps it, or, in a container whose
   * PID 1 does not reap, leaves a zombie (state Z): dead all the same.
   */
  function isTerminated(pid: number): boolean {
    if (!isAlive(pid)) return true
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
    } catch {
      return !isAlive(pid)
    }
  }

  async function waitGone(pid: number): Promise<boolean> {
    for (let i = 0; i < 1000 && !isTerminated(pid); i++) await new Promise((resolve) => setImmediate(resolve))
    return isTerminated(pid)
  }

  it('kills anvil on process.exit()', async () => {
    assert.ok(await waitGone(await runChild('process.exit(0)')))
  })

  it('kills anvil on SIGTERM', async () => {
    assert.ok(await waitGone(await runChild('setInterval(() => {}, 1000)', 'SIGTERM')))
  })

  it('kills anvil on SIGINT', async () => {
    assert.ok(await waitGone(await runChild('setInterval(() => {}, 1000)', 'SIGINT')))
  })
})
