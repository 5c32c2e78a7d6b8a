import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'

export interface StartAnvilOptions {
  /** TCP port on 127.0.0.1; default 0 (anvil picks a free one). */
  port?: number
  /** Chain id; default 31337. */
  chainId?: number
  /** Seconds between blocks; default: mine one block per transaction (automine). */
  blockTime?: number
  /** Number of funded dev accounts; default anvil's (10). */
  accounts?: number
  /** BIP-39 mnemonic of the dev accounts; default anvil's ("test test … junk"). */
  mnemonic?: string
  /** Aborting stops anvil, or cancels a start in progress. */
  signal?: AbortSignal
  /** How long to wait for anvil to listen, in milliseconds; default 15 000. */
  startTimeoutMs?: number
}

export interface StartedAnvil {
  /** `http://127.0.0.1:<port>`. */
  rpcUrl: string
  port: number
  /** The anvil process id. */
  pid: number
  /** Stops anvil: SIGTERM, then SIGKILL after a grace period. Resolves once the process has exited. Idempotent. */
  stop(): Promise<void>
}

export type StartAnvilErrorCode = 'BINARY_NOT_FOUND' | 'SPAWN_FAILED' | 'EXITED' | 'TIMEOUT' | 'ABORTED'

/** Anvil could not be started; `stderrTail` holds the end of its output. */
export class StartAnvilError extends Error {
  override readonly name = 'StartAnvilError'
  readonly code: StartAnvilErrorCode
  readonly stderrTail: string

  constructor(code: StartAnvilErrorCode, message: string, stderrTail = '', options?: { cause?: unknown }) {
    super(stderrTail === '' ? message : `${message}\n--- anvil output (tail) ---\n${stderrTail}`, options)
    this.code = code
    this.stderrTail = stderrTail
  }
}

const STOP_GRACE_MS = 2_000
const OUTPUT_TAIL_CHARS = 4_000
const LISTENING = /Listening on ([^\s:]+|\[[^\]]+\]):(\d+)/

/** Anvil processes started by this module and still running; killed when this process exits. */
const running = new Set<ChildProcess>()
let exitHandlersInstalled = false

/**
 * The path of the anvil binary shipped by `@foundry-rs/anvil`'s platform package
 * (`@foundry-rs/anvil-<platform>-<arch>`), for this process's platform and architecture.
 */
export function resolveAnvilBinary(): string {
  const arch = ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string | undefined>)[process.arch]
  const binary = process.platform === 'win32' ? 'anvil.exe' : 'anvil'
  const packageName = `@foundry-rs/anvil-${process.platform}-${arch ?? process.arch}`
  try {
    return createRequire(import.meta.url).resolve(`${packageName}/bin/${binary}`)
  } catch (error) {
    throw new StartAnvilError(
      'BINARY_NOT_FOUND',
      `anvil binary not found: ${packageName} is not installed for ${process.platform}/${process.arch}. ` +
        'Reinstall dependencies (npm ci) so that the optional platform package of @foundry-rs/anvil is installed.',
      '',
      { cause: error },
    )
  }
}

/**
 * Starts a local anvil bound to 127.0.0.1 and resolves once it accepts JSON-RPC. The process never outlives
 * this one: `stop()` ends it, and exit/SIGINT/SIGTERM handlers (installed once) kill any anvil still running.
 * Only a SIGKILL of this process can leave one behind.
 */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<StartedAnvil> {
  const { signal } = options
  if (signal?.aborted) throw new StartAnvilError('ABORTED', 'anvil start aborted')
  const binary = resolveAnvilBinary()
  const args = ['--host', '127.0.0.1', '--port', String(options.port ?? 0), '--chain-id', String(options.chainId ?? 31337)]
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime))
  if (options.accounts !== undefined) args.push('--accounts', String(options.accounts))
  if (options.mnemonic !== undefined) args.push('--mnemonic', options.mnemonic)
  // Not --silent: with it, anvil prints nothing at all (not even "Listening on") when stdout is a pipe.
  // Its banner and one line per request are drained below, keeping only a short tail.

  installExitHandlers()
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true })
  running.add(child)
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child)
      resolve()
    })
  })

  let output = ''
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS)
  }
  child.stderr?.on('data', append)

  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      signal?.removeEventListener('abort', onAbort)
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
        await exited
        clearTimeout(timer)
      }
      // Stop reading its pipes so that nothing keeps this process alive.
      child.stdout?.destroy()
      child.stderr?.destroy()
    })()
    return stopping
  }
  const onAbort = (): void => void stop()
  signal?.addEventListener('abort', onAbort, { once: true })

  const timeoutMs = options.startTimeoutMs ?? 15_000
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new StartAnvilError('TIMEOUT', `anvil did not listen within ${timeoutMs} ms`, output.trim())),
        timeoutMs,
      )
      const settle = (fn: () => void): void => {
        clearTimeout(timer)
        child.stdout?.off('data', onStdout)
        signal?.removeEventListener('abort', onStartAbort)
        fn()
      }
      const onStdout = (chunk: Buffer): void => {
        append(chunk)
        const match = LISTENING.exec(output)
        if (match) settle(() => resolve(Number(match[2])))
      }
      const onStartAbort = (): void => settle(() => reject(new StartAnvilError('ABORTED', 'anvil start aborted')))
      child.stdout?.on('data', onStdout)
      signal?.addEventListener('abort', onStartAbort, { once: true })
      child.once('error', (error) =>
        settle(() => reject(new StartAnvilError('SPAWN_FAILED', `cannot run ${binary}: ${error.message}`, '', { cause: error }))),
      )
      child.once('exit', (code, exitSignal) =>
        settle(() =>
          reject(
            new StartAnvilError(
              'EXITED',
              `anvil exited before listening (${exitSignal ?? `code ${code}`}); arguments: ${args.join(' ')}`,
              output.trim(),
            ),
          ),
        ),
      )
    })
    // Keep draining stdout (anvil may still write to it) without keeping an unbounded copy.
    child.stdout?.on('data', append)
    return { rpcUrl: `http://127.0.0.1:${port}`, port, pid: child.pid ?? -1, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

function installExitHandlers(): void {
  if (exitHandlersInstalled) return
  exitHandlersInstalled = true
  const killAll = (): void => {
    for (const child of running) child.kill('SIGKILL')
  }
  process.once('exit', killAll)
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      killAll()
      // If nobody else handles the signal, keep Node's default behaviour: die of it.
      if (process.listenerCount(name) === 1) {
        process.off(name, onSignal)
        process.kill(process.pid, name)
      }
    }
    process.on(name, onSignal)
  }
}
