import { readFile } from 'node:fs/promises'
import type { Command} from 'commander';
import { InvalidArgumentError, Option } from 'commander'
import { parseUnits } from 'viem'
import { InputNotFoundError } from '../sdk/errors.ts'
import { formatTokens } from '../sdk/formatTokens.ts'
import type { TaskTerms } from '../sdk/actions/submitTask.ts'
import { defaultTaskTerms } from '../sdk/actions/submitTask.ts'
import { integerOption } from './options.ts'

/** Fee token amounts are written in tokens (18 decimals), as `0.001`. */
export function tokenAmountOption(raw: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(raw.trim())) throw new InvalidArgumentError(`expected an amount of tokens such as 0.5, got "${raw}".`)
  return parseUnits(raw.trim(), 18)
}

export { formatTokens }

export interface TermsFlags {
  fee: bigint
  k: number
  quorum?: number
  fuel: number
  memoryPages: number
  outputBytes: number
  deadline: number
}

/** Adds the flags of a task's terms: fee, replication, limits, deadline. */
export function withTermsOptions(command: Command): Command {
  const { limits } = defaultTaskTerms
  return command
    .addOption(new Option('--fee <tokens>', 'fee per task, in tokens').default(defaultTaskTerms.fee, formatTokens(defaultTaskTerms.fee)).argParser(tokenAmountOption))
    .addOption(new Option('--k <n>', 'executors per task').default(3).argParser(integerOption(1, 16)))
    .addOption(new Option('--quorum <n>', 'matching results to verify (default: majority of k)').argParser(integerOption(1, 16)))
    .addOption(new Option('--fuel <n>', 'fuel limit per task').default(Number(limits.fuel)).argParser(integerOption(1, Number.MAX_SAFE_INTEGER)))
    .addOption(new Option('--memory-pages <n>', 'memory limit per task, in 64 KiB pages').default(limits.memoryPages).argParser(integerOption(1, 65_536)))
    .addOption(new Option('--output-bytes <n>', 'largest output per task').default(limits.outputBytes).argParser(integerOption(0, 2 ** 32 - 1)))
    .addOption(new Option('--deadline <seconds>', 'time each task may take').default(defaultTaskTerms.deadlineMs / 1000).argParser(integerOption(8, 86_400)))
}

export function termsOf(flags: TermsFlags): TaskTerms {
  return {
    fee: flags.fee,
    policy: { kind: 'replicate', k: flags.k, quorum: flags.quorum ?? Math.floor(flags.k / 2) + 1 },
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
