import { Command, CommanderError } from 'commander'
import { VeritaskError } from '../core/errors.ts'
import { packageVersion } from '../packageFiles.ts'
import type { CommandContext } from './context.ts'
import { devnetCommand } from './devnet/command.ts'
import { nodeCommand } from './node/command.ts'
import { exitCodeForError, exitCodes } from './options.ts'
import { govCommand } from './gov/command.ts'
import { receiptCommand } from './receipt/command.ts'
import { depositCommand } from './deposit/command.ts'
import { jobCommand } from './job/command.ts'
import { resultCommand } from './result/command.ts'
import { simCommand } from './sim/command.ts'
import { statusCommand } from './status/command.ts'
import { submitCommand } from './submit/command.ts'

export interface MainOptions {
  stdout?: (text: string) => void
  stderr?: (text: string) => void
  signal?: AbortSignal
  env?: Readonly<Record<string, string | undefined>>
}

/** Runs the `veritask` command line; resolves with the process exit code (docs/cli.md). */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const stdout = options.stdout ?? ((text) => process.stdout.write(`${text}\n`))
  const stderr = options.stderr ?? ((text) => process.stderr.write(`${text}\n`))
  let exitCode: number = exitCodes.ok
  const controller = new AbortController()
  const onSigint = () => controller.abort(new Error('interrupted'))
  // A daemon stops gracefully on Ctrl-C and on SIGTERM (what service managers send).
  if (options.signal === undefined) {
    process.once('SIGINT', onSigint)
    process.once('SIGTERM', onSigint)
  }
  const context: CommandContext = {
    stdout,
    stderr,
    setExitCode: (code) => (exitCode = code),
    signal: options.signal ?? controller.signal,
    env: options.env ?? process.env,
  }

  // Every command's definition is light (flags, help text); what a command runs (libp2p, viem,
  // SQLite, the runtimes, anvil) is imported inside its action, so that `--version` and `--help`
  // return at once. `lazyImports.test.ts` pins which modules load.
  const program = new Command('veritask')
    .description('veritask: verified off-chain computation on a staked peer-to-peer network.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => stdout(s.trimEnd()), writeErr: (s) => stderr(s.trimEnd()) })
    .showHelpAfterError('(run with --help for usage)')
    .addCommand(devnetCommand(context))
    .addCommand(nodeCommand(context))
    .addCommand(receiptCommand(context))
    .addCommand(govCommand(context))
    .addCommand(depositCommand(context))
    .addCommand(submitCommand(context))
    .addCommand(jobCommand(context))
    .addCommand(statusCommand(context))
    .addCommand(resultCommand(context))
    .addCommand(simCommand(context))
  for (const command of program.commands) command.exitOverride().configureOutput(program.configureOutput())

  try {
    await program.parseAsync(argv)
    return exitCode
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successful exits; everything else commander raises is a usage error.
      return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage
    }
    if (context.signal.aborted) {
      stderr('interrupted')
      return exitCodes.interrupted
    }
    if (error instanceof VeritaskError) {
      stderr(`error: ${error.describe()}`)
      return exitCodeForError(error.code)
    }
    stderr(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    return exitCodes.failure
  } finally {
    process.off('SIGINT', onSigint)
    process.off('SIGTERM', onSigint)
  }
}
