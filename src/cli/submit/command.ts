import { writeFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import { EmptyInputError } from '../../sdk/errors.ts'
import { assertWasmProgram } from '../../sdk/program.ts'
import type { CommandContext } from '../context.ts'
import { connectClient, toJson, withConnectionOptions } from '../connection.ts'
import type { ConnectionFlags } from '../connection.ts'
import { exitCodes } from '../options.ts'
import { readInputFile, termsOf, withTermsOptions } from '../taskTerms.ts'
import type { TermsFlags } from '../taskTerms.ts'

interface SubmitFlags extends ConnectionFlags, TermsFlags {
  input: string
  wait: boolean
  out?: string
  json: boolean
}

/** Output bytes as text when they are UTF-8, else nothing (use --out). */
export function printable(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return undefined
  }
}

export function submitCommand(context: CommandContext): Command {
  return withTermsOptions(
    withConnectionOptions(
      new Command('submit')
        .description('Submit one task — a WebAssembly program over an input file — and wait for its verified result.')
        .argument('<program>', 'the compiled program (.wasm)')
        .requiredOption('--input <file>', 'the input bytes'),
    ),
  )
    .option('--no-wait', 'print the task id once a node accepted the task, without waiting for the verdict')
    .addOption(new Option('--out <file>', 'write the verified output to this file'))
    .addOption(new Option('--json', 'print { taskId, outcome, resultHash, executors, output (base64) } as JSON').default(false))
    .addHelpText('after', '\nExample:\n  $ veritask submit programs/build/word-count.wasm --input README.md --out counts.tsv\n')
    .action(async (programPath: string, flags: SubmitFlags) => {
      const program = await readInputFile(programPath, 'the program')
      assertWasmProgram(program, programPath)
      const input = await readInputFile(flags.input, 'the input')
      if (input.length === 0) {
        throw new EmptyInputError('SDK_INPUT_EMPTY', `The input ${flags.input} is empty.`, { hint: 'Pass a file with the bytes the program should compute on.' })
      }
      const client = await connectClient(flags, context)
      const { taskId } = await client.submitTask({ program, input, ...termsOf(flags), signal: context.signal })
      if (!flags.wait) {
        context.stdout(flags.json ? toJson({ taskId }) : taskId)
        return
      }
      const result = await client.waitForResult({ taskId, timeoutMs: flags.deadline * 1000 + 30_000, signal: context.signal })
      if (flags.out !== undefined && result.output !== undefined) await writeFile(flags.out, result.output)
      const { outcome, verdict } = result
      if (flags.json) {
        context.stdout(toJson({ taskId, outcome, resultHash: verdict.resultHash, executors: verdict.executors, output: result.output ?? null }))
      } else {
        const text = result.output === undefined || flags.out !== undefined ? undefined : printable(result.output)
        context.stdout(
          [
            `task ${taskId}`,
            `  outcome    ${outcome}`,
            `  result     ${verdict.resultHash}`,
            `  executors  ${verdict.executors.join(', ') || '(none)'}`,
            ...(flags.out !== undefined && result.output !== undefined ? [`  output     written to ${flags.out} (${result.output.length} bytes)`] : []),
            ...(text !== undefined ? ['', text.trimEnd()] : []),
          ].join('\n'),
        )
      }
      context.setExitCode(outcome === 'verified' ? exitCodes.ok : exitCodes.failure)
    })
}
