import { writeFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import { VeritaskError } from '../../core/errors.ts'
import type { CommandContext } from '../context.ts'
import { connectClient, parseTaskId, toJson, withConnectionOptions } from '../connection.ts'
import type { ConnectionFlags } from '../connection.ts'
import { exitCodes } from '../options.ts'
import { printable } from '../submit/command.ts'

interface ResultFlags extends ConnectionFlags {
  wait: boolean
  out?: string
  json: boolean
}

export function resultCommand(context: CommandContext): Command {
  return withConnectionOptions(
    new Command('result')
      .description("Fetch a task's verified output, checked against its result hash.")
      .argument('<taskId>', 'a task id (0x + 64 hex digits)'),
  )
    .option('--wait', 'wait for the verdict if the task is not decided yet', false)
    .addOption(new Option('--out <file>', 'write the output to this file'))
    .addOption(new Option('--json', 'print { taskId, outcome, resultHash, output (base64) } as JSON').default(false))
    .addHelpText('after', '\nExample:\n  $ veritask result 0x5f3c…e1 --out counts.tsv\n')
    .action(async (rawTaskId: string, flags: ResultFlags) => {
      const taskId = parseTaskId(rawTaskId)
      const client = await connectClient(flags, context)
      if (!flags.wait) {
        const task = await client.getTask({ taskId, signal: context.signal })
        if (task.verdict === null) {
          throw new VeritaskError('TASK_NOT_DECIDED', `Task ${taskId} has no verdict yet (phase ${task.phase}).`, {
            hint: 'Pass --wait to wait for it.',
          })
        }
      }
      const result = await client.waitForResult({ taskId, signal: context.signal })
      if (flags.out !== undefined && result.output !== undefined) await writeFile(flags.out, result.output)
      if (flags.json) context.stdout(toJson({ taskId, outcome: result.outcome, resultHash: result.verdict.resultHash, output: result.output ?? null }))
      else {
        const text = result.output === undefined || flags.out !== undefined ? undefined : printable(result.output)
        context.stdout(
          [
            `task ${taskId}: ${result.outcome}`,
            `  result  ${result.verdict.resultHash}`,
            ...(flags.out !== undefined && result.output !== undefined ? [`  output  written to ${flags.out}`] : []),
            ...(text !== undefined ? ['', text.trimEnd()] : []),
          ].join('\n'),
        )
      }
      context.setExitCode(result.outcome === 'verified' ? exitCodes.ok : exitCodes.failure)
    })
}
