import { Command, Option } from 'commander'
import type { CommandContext } from '../context.ts'
import { connectClient, toJson, withConnectionOptions } from '../connection.ts'
import type { ConnectionFlags } from '../connection.ts'
import { formatTokens, tokenAmountOption } from '../taskTerms.ts'

interface DepositFlags extends ConnectionFlags {
  json: boolean
}

export function depositCommand(context: CommandContext): Command {
  return withConnectionOptions(
    new Command('deposit')
      .description("Deposit fee tokens into the requester's escrow (key from $VERITASK_KEY).")
      .argument('<amount>', 'tokens to deposit, e.g. 0.5', tokenAmountOption),
  )
    .addOption(new Option('--json', 'print { hash, amount, deposited, spendable } as JSON').default(false))
    .addHelpText('after', '\nExample:\n  $ veritask devnet --serve &\n  $ VERITASK_KEY=0x… veritask deposit 1\n')
    .action(async (amount: bigint, flags: DepositFlags) => {
      const client = await connectClient(flags, context)
      const { hash, deposited } = await client.deposit({ amount })
      const { spendable } = await client.getEscrow()
      if (flags.json) context.stdout(toJson({ requester: client.account.address, hash, amount, deposited, spendable }))
      else {
        context.stdout(
          [
            `deposited ${formatTokens(amount)} for ${client.account.address} (tx ${hash})`,
            `  escrow     ${formatTokens(deposited)} deposited in all`,
            `  spendable  ${formatTokens(spendable)} (nodes count a deposit once they have seen it on-chain)`,
          ].join('\n'),
        )
      }
    })
}
