import { Command, Option } from 'commander'
import { behaviours } from '../../devnet/behaviours.ts'
import { checkDevnetFlags } from './checkFlags.ts'
import { fractionOption, integerOption } from '../options.ts'
import type { CommandContext } from '../context.ts'

export interface DevnetFlags {
  nodes: number
  tasks: number
  k: number
  quorum?: number
  seed: string
  concurrency: number
  latency: number
  dropRate: number
  threads?: number
  chain: boolean
  epochTasks: number
  receipts: string
  rpcUrl?: string
  addresses: string
  adversary: string
  sample?: number
  audit?: number
  inference: boolean
  json: boolean
  verbose: boolean
  serve: boolean
  networkFile: string
  processes: boolean
}

/** `veritask devnet`: the definition only; the network's modules load when it runs (`run.ts`). */
export function devnetCommand(context: CommandContext): Command {
  return new Command('devnet')
    .description('Run a local network in one process and push a workload through it.')
    .addOption(new Option('--nodes <n>', 'number of staked nodes').default(5).argParser(integerOption(1, 200)))
    .addOption(new Option('--tasks <n>', 'tasks in the workload').default(200).argParser(integerOption(1, 1_000_000)))
    .addOption(new Option('--k <n>', 'executors per task (replication)').default(3).argParser(integerOption(1, 16)))
    .addOption(new Option('--quorum <n>', 'matching reveals to verify (default: majority of k)').argParser(integerOption(1, 16)))
    .addOption(new Option('--seed <text>', 'seed for accounts, sortition and workload').default('veritask'))
    .addOption(new Option('--concurrency <n>', 'tasks in flight at once').default(24).argParser(integerOption(1, 10_000)))
    .addOption(new Option('--latency <ms>', 'one-way network latency').default(0).argParser(integerOption(0, 10_000)))
    .addOption(new Option('--drop-rate <p>', 'probability a gossip delivery is lost').default(0).argParser(fractionOption(0, 1)))
    .addOption(new Option('--threads <n>', 'WebAssembly worker threads (default: one per core)').argParser(integerOption(1, 256)))
    .option('--no-chain', 'run without a chain: no anvil, no settlement')
    .addOption(new Option('--epoch-tasks <n>', 'tasks settled per epoch').default(50).argParser(integerOption(1, 1_000_000)))
    .addOption(new Option('--receipts <file>', 'where to write every task receipt').default('.devnet/receipts.json'))
    .addOption(
      new Option('--rpc-url <url>', 'settle on this EVM chain instead of a spawned anvil (deployer key: $VERITASK_DEPLOYER_KEY)'),
    )
    .addOption(new Option('--addresses <file>', 'where to write the deployed contract addresses').default('.devnet/addresses.json'))
    .addOption(
      new Option('--sample <p>', 'verify by sampling: one executor, audited with probability p (instead of --k)').argParser(
        fractionOption(0.000001, 1.000001),
      ),
    )
    .addOption(
      new Option('--audit <p>', 'with replication: audit the seats’ results with probability p (default 0.1)').argParser(fractionOption(0, 1.000001)),
    )
    .addOption(
      new Option('--adversary <spec>', `adversarial nodes as name:count (${behaviours.filter((b) => b !== 'honest').join(', ')})`).default(''),
    )
    .option('--inference', 'run inference tasks on the shipped classifier (runtime onnx, maxError 1e-4) instead of WebAssembly programs', false)
    .option('--serve', 'keep a live network running (anvil, nodes with HTTP APIs, epochs settled by the nodes) until Ctrl-C', false)
    .option('--processes', 'run every node as its own `veritask node` process over libp2p on loopback', false)
    .addOption(new Option('--network-file <file>', 'with --serve: where to write the network description').default('.devnet/network.json'))
    .option('--json', 'print one JSON object (fields in docs/devnet.md) instead of the summary', false)
    .option('-v, --verbose', 'log protocol events to stderr', false)
    .addHelpText('after', '\nExamples:\n  $ veritask devnet --nodes 7 --tasks 100 --k 3 --json\n  $ veritask devnet --inference --tasks 40 --adversary noisy:1\n  $ veritask devnet --serve          # a live network for the SDK and CLI\n  $ veritask devnet --processes --tasks 30   # nodes as separate processes over libp2p\n')
    .action(async (flags: DevnetFlags) => {
      // A contradiction in the flags is reported before the network's modules load.
      if (!flags.serve) checkDevnetFlags(flags, context.env)
      const { runDevnetCommand } = await import('./run.ts')
      await runDevnetCommand(context, flags)
    })
}
