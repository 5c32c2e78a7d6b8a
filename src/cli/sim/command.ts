import { Command, InvalidArgumentError, Option } from 'commander'
import { fractionOption, integerOption } from '../options.ts'
import type { CommandContext } from '../context.ts'

export interface SimFlags {
  nodes: number[]
  tasksPerNode: number
  taskMs: number
  k: number
  epochMs: number
  seed: string
  churn: number
  partition?: { fromMs: number; toMs: number }
  adversary: string
  stakes?: StakeGroup[]
  out?: string
  json: boolean
}

/** `--nodes 10,100,1000`: network sizes, each from 4 to 10,000, in increasing order. */
function nodeCounts(raw: string): number[] {
  const counts = raw.split(',').map((part) => integerOption(4, 10_000)(part.trim()))
  if (counts.some((n, i) => i > 0 && n <= counts[i - 1]!)) throw new InvalidArgumentError(`expected increasing node counts, got "${raw}".`)
  return counts
}

/** `count` nodes with `vtt` each, in node order (`--stakes`). */
export interface StakeGroup {
  vtt: bigint
  count: number
}

/** `--stakes 3000x4,500x12`: whole VTT per node in node order, a group of equal nodes as `<amount>x<count>`. */
function stakeGroups(raw: string): StakeGroup[] {
  return raw.split(',').map((part) => {
    const match = /^(\d{1,12})(?:x(\d{1,5}))?$/.exec(part.trim())
    if (match === null || BigInt(match[1]!) === 0n || match[2] === '0') {
      throw new InvalidArgumentError(`expected whole VTT per node, in node order, as <amount> or <amount>x<count> (e.g. 3000x4,500x12), each above zero, got "${raw}".`)
    }
    return { vtt: BigInt(match[1]!), count: Number(match[2] ?? 1) }
  })
}

/** `--partition 2000-6000`: a window of simulated ms. */
function partitionWindow(raw: string): { fromMs: number; toMs: number } {
  const match = /^(\d{1,9})-(\d{1,9})$/.exec(raw.trim())
  if (match === null || Number(match[1]) >= Number(match[2])) throw new InvalidArgumentError(`expected <from>-<to> in simulated ms with from < to, got "${raw}".`)
  return { fromMs: Number(match[1]), toMs: Number(match[2]) }
}

/** `veritask sim`: the definition only; the simulator loads when it runs (`run.ts`). */
export function simCommand(context: CommandContext): Command {
  return new Command('sim')
    .description('Simulate a network: the real node and settler code on a simulated clock, network and runtime (docs/simulator.md).')
    .addOption(new Option('--nodes <list>', 'network sizes to simulate, comma-separated').default([20], '20').argParser(nodeCounts))
    .addOption(new Option('--tasks-per-node <n>', 'tasks per node at each size: the load per node is the same').default(10).argParser(integerOption(1, 100_000)))
    .addOption(new Option('--task-ms <ms>', 'simulated execution time of one task on a speed-1 node').default(5).argParser(integerOption(1, 3_600_000)))
    .addOption(new Option('--k <n>', 'executors per task (replication)').default(3).argParser(integerOption(1, 16)))
    .addOption(new Option('--epoch-ms <ms>', 'simulated epoch length').default(10_000).argParser(integerOption(100, 86_400_000)))
    .addOption(new Option('--seed <text>', 'seed for accounts, latencies and epochs').default('veritask-sim'))
    .addOption(new Option('--churn <p>', 'share of nodes offline in each epoch (a new set each epoch)').default(0).argParser(fractionOption(0, 0.500001)))
    .addOption(new Option('--partition <from-to>', 'odd and even nodes cannot reach each other in this window of simulated ms').argParser(partitionWindow))
    .addOption(new Option('--adversary <spec>', 'adversarial nodes at each size as name:count or name:percent of the nodes, the devnet’s behaviours the simulator models (docs/simulator.md)').default(''))
    .addOption(new Option('--stakes <list>', 'each node’s stake in VTT, in node order, as <amount> or <amount>x<count>, e.g. 3000x4,500x12 (1000 each by default); must name every node').argParser(stakeGroups))
    .addOption(new Option('--out <dir>', 'write sim.json and SVG charts here'))
    .option('--json', 'print the reports as JSON instead of a table', false)
    .addHelpText(
      'after',
      '\nExamples:\n  $ veritask sim --nodes 20 --tasks-per-node 10\n  $ veritask sim --nodes 10,30,100 --tasks-per-node 10 --out bench/results/sim\n  $ veritask sim --nodes 30 --churn 0.2 --partition 2000-4000\n  $ veritask sim --nodes 9 --tasks-per-node 100 --k 2 --adversary strategic-colluder:3\n  $ veritask sim --nodes 9,30,90 --tasks-per-node 30 --adversary strategic-colluder:33% --out sim-out\n  $ veritask sim --nodes 16 --tasks-per-node 3 --stakes 3000x4,500x12 --adversary colluder:12\n',
    )
    .action(async (flags: SimFlags) => {
      const { runSimCommand } = await import('./run.ts')
      await runSimCommand(context, flags)
    })
}
