import { Command, Option } from 'commander'
import type { CommandContext } from '../context.ts'

export interface ReceiptFlags {
  receipts: string
  rpcUrl?: string
  json: boolean
}

/** `veritask receipt`: the definition only; the receipt checks load when it runs (`run.ts`). */
export function receiptCommand(context: CommandContext): Command {
  return new Command('receipt')
    .description('Print a task receipt and verify it against its epoch root (and on-chain with --rpc-url).')
    .argument('<taskId>', 'the task id (0x + 64 hex digits)')
    .addOption(new Option('--receipts <file>', 'receipts written by `veritask devnet`').default('.devnet/receipts.json'))
    .addOption(new Option('--rpc-url <url>', 'also check with Settlement.verifyReceipt on this chain'))
    .option('--json', 'print the receipt and the checks as one JSON object', false)
    .addHelpText('after', '\nExample:\n  $ veritask devnet && veritask receipt 0x5f3c…e1 --json\n')
    .action(async (taskId: string, flags: ReceiptFlags) => {
      const { runReceiptCommand } = await import('./run.ts')
      await runReceiptCommand(context, taskId, flags)
    })
}
