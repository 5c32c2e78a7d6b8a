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
  receipt: boolean
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
    .option('--receipt', "also wait for the task's receipt (its epoch settled) and verify it on-chain", false)
    .addOption(new Option('--out <file>', 'write the output to this file'))
    .addOption(new Option('--json', 'print { taskId, outcome, resultHash, output (base64) } as JSON').default(false))
    .addHelpText('after', '\nExample:\n  $ veritask result 0x5f3c…e1 --out counts.tsv --receipt\n')
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
      const receipt = flags.receipt ? await client.getReceipt({ taskId, wait: true, signal: context.signal }) : undefined
      const check = receipt === undefined ? undefined : await client.verifyReceipt({ receipt, taskId, resultHash: result.verdict.resultHash })
      if (flags.json) {
        const { receiptToJson } = await import('../../core/receipt.ts')
        context.stdout(
          toJson({
            taskId,
            outcome: result.outcome,
            resultHash: result.verdict.resultHash,
            output: result.output ?? null,
            ...(receipt === undefined ? {} : { receipt: receiptToJson(receipt), receiptValid: check!.valid }),
          }),
        )
      }
      else {
        const text = result.output === undefined || flags.out !== undefined ? undefined : printable(result.output)
        context.stdout(
          [
            `task ${taskId}: ${result.outcome}`,
            `  result  ${result.verdict.resultHash}`,
            ...(receipt === undefined ? [] : [`  receipt epoch ${receipt.epoch}: ${check!.valid ? 'valid on-chain' : 'INVALID'} (proof of ${receipt.proof.length} hashes)`]),
            ...(flags.out !== undefined && result.output !== undefined ? [`  output  written to ${flags.out}`] : []),
            ...(text !== undefined ? ['', text.trimEnd()] : []),
          ].join('\n'),
        )
      }
      context.setExitCode(result.outcome === 'verified' && check?.valid !== false ? exitCodes.ok : exitCodes.failure)
    })
}
