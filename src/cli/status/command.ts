import { Command, Option } from 'commander'
import type { CommandContext } from '../context.ts'
import { connectClient, parseTaskId, toJson, withConnectionOptions } from '../connection.ts'
import type { ConnectionFlags } from '../connection.ts'
import { formatTokens } from '../taskTerms.ts'

interface StatusFlags extends ConnectionFlags {
  json: boolean
}

interface NodeStatus {
  address?: string
  version?: string
  epoch?: string | number
  stats?: { openTasks?: number; verdicts?: Record<string, number> }
}

export function statusCommand(context: CommandContext): Command {
  return withConnectionOptions(
    new Command('status')
      .description("Show a task's phase and verdict; without a task id, the node's status and the requester's escrow.")
      .argument('[taskId]', 'a task id (0x + 64 hex digits)'),
  )
    .addOption(new Option('--json', 'print the status as JSON').default(false))
    .addHelpText('after', '\nExamples:\n  $ veritask status\n  $ veritask status 0x5f3c…e1 --json\n')
    .action(async (rawTaskId: string | undefined, flags: StatusFlags) => {
      const client = await connectClient(flags, context)
      if (rawTaskId !== undefined) {
        const task = await client.getTask({ taskId: parseTaskId(rawTaskId), signal: context.signal })
        if (flags.json) context.stdout(toJson(task))
        else {
          context.stdout(
            [
              `task ${task.taskId}`,
              `  phase      ${task.phase}`,
              `  committed  ${task.committed.length} of ${task.seats.length} seats`,
              ...(task.verdict ? [`  outcome    ${task.verdict.outcome}`, `  result     ${task.verdict.resultHash}`] : []),
            ].join('\n'),
          )
        }
        return
      }
      const node = await client.api.json<NodeStatus>('/v1/status', { signal: context.signal })
      const escrow = await client.getEscrow()
      if (flags.json) context.stdout(toJson({ nodeApiUrl: client.api.preferredUrl, node, escrow }))
      else {
        context.stdout(
          [
            `node ${node.address ?? '?'} at ${client.api.preferredUrl} (veritask ${node.version ?? '?'})`,
            `  epoch       ${node.epoch ?? '?'}`,
            `  open tasks  ${node.stats?.openTasks ?? '?'}`,
            `requester ${escrow.requester}`,
            `  deposited   ${formatTokens(escrow.deposited)}`,
            `  spendable   ${formatTokens(escrow.spendable)}${escrow.source === 'client' ? ' (deposits less withdrawals: this node does not report settled charges)' : ''}`,
          ].join('\n'),
        )
      }
    })
}
