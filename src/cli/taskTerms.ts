import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { InvalidArgumentError, Option } from 'commander'
import { InputNotFoundError } from '../sdk/errors.ts'
import { formatTokens } from '../sdk/formatTokens.ts'
import type { TaskTerms } from '../sdk/actions/submitTask.ts'
import { fractionOption, integerOption } from './options.ts'

/** Fee token amounts are written in tokens (18 decimals), as `0.001`; parsed exactly, without floats. */
export function tokenAmountOption(raw: string): bigint {
  const match = /^(\d+)(?:\.(\d{1,18}))?$/.exec(raw.trim())
  if (match === null) throw new InvalidArgumentError(`expected an amount of tokens such as 0.5, got "${raw}".`)
  return BigInt(match[1]!) * 10n ** 18n + BigInt((match[2] ?? '').padEnd(18, '0'))
}

/**
 * The SDK's `defaultTaskTerms`, copied here so that `--help` does not load the SDK's signing code
 * (and viem) to print them; `taskTerms.test.ts` pins the copy to the SDK's values.
 */
export const cliDefaultTaskTerms = {
  fee: 10n ** 15n,
  limits: { fuel: 2_000_000_000n, memoryPages: 64, outputBytes: 1 << 20 },
  policy: { kind: 'replicate', k: 3, quorum: 2, auditPpm: 100_000 },
  deadlineMs: 120_000,
} as const

export { formatTokens }

export interface TermsFlags {
  fee: bigint
  k: number
  quorum?: number
  audit: number
  security?: number
  fuel: number
  memoryPages: number
  outputBytes: number
  deadline: number
}

/** Adds the flags of a task's terms: fee, replication, limits, deadline. */
export function withTermsOptions(command: Command): Command {
  const { limits } = cliDefaultTaskTerms
  return command
    .addOption(new Option('--fee <tokens>', 'fee per task, in tokens').default(cliDefaultTaskTerms.fee, formatTokens(cliDefaultTaskTerms.fee)).argParser(tokenAmountOption))
    .addOption(new Option('--k <n>', 'executors per task').default(cliDefaultTaskTerms.policy.k).argParser(integerOption(1, 16)))
    .addOption(new Option('--quorum <n>', 'matching results to verify (default: majority of k)').argParser(integerOption(1, 16)))
    .addOption(
      new Option('--audit <p>', 'probability that the seats’ results are re-executed by a verifier drawn after their commits')
        .default(cliDefaultTaskTerms.policy.auditPpm / 1_000_000)
        .argParser(fractionOption(0, 1.000001)),
    )
    .addOption(
      new Option('--security <level>', 'instead of --k, --quorum and --audit: the probability you accept that a wrong result is verified against a third of the stake (from 1e-6)')
        .argParser(fractionOption(1e-6, 1))
        .conflicts(['k', 'quorum', 'audit']),
    )
    .addOption(new Option('--fuel <n>', 'fuel limit per task').default(Number(limits.fuel)).argParser(integerOption(1, Number.MAX_SAFE_INTEGER)))
    .addOption(new Option('--memory-pages <n>', 'memory limit per task, in 64 KiB pages').default(limits.memoryPages).argParser(integerOption(1, 65_536)))
    .addOption(new Option('--output-bytes <n>', 'largest output per task').default(limits.outputBytes).argParser(integerOption(0, 2 ** 32 - 1)))
    .addOption(new Option('--deadline <seconds>', 'time each task may take').default(cliDefaultTaskTerms.deadlineMs / 1000).argParser(integerOption(8, 86_400)))
}

export function termsOf(flags: TermsFlags): TaskTerms {
  return {
    fee: flags.fee,
    ...(flags.security === undefined
      ? { policy: { kind: 'replicate', k: flags.k, quorum: flags.quorum ?? Math.floor(flags.k / 2) + 1, auditPpm: Math.round(flags.audit * 1_000_000) } }
      : { securityLevel: flags.security }),
    limits: { fuel: BigInt(flags.fuel), memoryPages: flags.memoryPages, outputBytes: flags.outputBytes },
    deadlineMs: flags.deadline * 1000,
  }
}

/** Reads a file named on the command line; a missing one is an `InputNotFoundError` (exit code 3). */
export async function readInputFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path))
  } catch (cause) {
    throw new InputNotFoundError('SDK_INPUT_NOT_FOUND', `Cannot read ${what} ${path}.`, { cause, details: { path }, hint: 'Check the path.' })
  }
}
