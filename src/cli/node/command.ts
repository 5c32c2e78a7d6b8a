import { readFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import { UsageError } from '../../core/errors.ts'
import { createLogger } from '../../node/logger.ts'
import type { CommandContext } from '../context.ts'
import { integerOption } from '../options.ts'

interface NodeFlags {
  dataDir: string
  keyFile?: string
  rpcUrl: string
  addresses: string
  listen: string[]
  bootstrap: string[]
  apiHost: string
  apiPort: number
  waitPeers: number
  threads?: number
  gossipDegree?: number
  model: string[]
  json: boolean
  verbose: boolean
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

async function readModels(paths: readonly string[]): Promise<Uint8Array[]> {
  return Promise.all(
    paths.map((path) =>
      readFile(path).catch((cause: unknown) => {
        throw new UsageError('USAGE_INVALID_OPTION', `The model file ${path} cannot be read.`, { cause, hint: 'Pass --model the path of an .onnx file.' })
      }),
    ),
  )
}

export function nodeCommand(context: CommandContext): Command {
  return new Command('node')
    .description('Run a node: execute and verify tasks, settle epochs, serve the HTTP API. Stops on Ctrl-C or SIGTERM.')
    .addOption(new Option('--data-dir <dir>', 'node state: key, SQLite database, blobs').default('.veritask/node'))
    .addOption(new Option('--key-file <file>', 'the account key (created with mode 0600 if absent; default <data-dir>/node.key)'))
    .requiredOption('--rpc-url <url>', 'EVM JSON-RPC endpoint of the chain the contracts live on')
    .addOption(new Option('--addresses <file>', 'contract addresses (JSON, as `veritask devnet` writes them)').default('.devnet/addresses.json'))
    .addOption(new Option('--listen <multiaddr>', 'libp2p listen address (repeatable)').argParser(collect).default(['/ip4/127.0.0.1/tcp/0']))
    .addOption(new Option('--bootstrap <multiaddr>', 'peer to dial, with /p2p/<peer id> (repeatable)').argParser(collect).default([]))
    .addOption(new Option('--api-host <host>', 'interface of the HTTP API').default('127.0.0.1'))
    .addOption(new Option('--api-port <port>', 'port of the HTTP API (0: any free port)').default(7470).argParser(integerOption(0, 65535)))
    .addOption(new Option('--wait-peers <n>', 'serve only once this many trusted peers share every gossip topic').default(0).argParser(integerOption(0, 1_000)))
    .addOption(new Option('--threads <n>', 'worker threads that execute tasks (default: the machine’s cores; nodes sharing a machine share them)').argParser(integerOption(1, 1_024)))
    .addOption(
      new Option('--gossip-degree <n>', 'gossipsub mesh degree (default 6); a small network where every node dials every other wants 2').argParser(integerOption(1, 64)),
    )
    .addOption(new Option('--model <file>', 'an ONNX model this node runs (repeatable); advertised on-chain as onnx:<model id>').argParser(collect).default([]))
    .option('--json', 'print the ready line as JSON', false)
    .option('-v, --verbose', 'log protocol events to stderr', false)
    .addHelpText(
      'after',
      '\nThe admin token for /v1/admin/* comes from $VERITASK_ADMIN_TOKEN.\n\nExample:\n  $ veritask node --rpc-url http://127.0.0.1:8545 --addresses addresses.json \\\n      --bootstrap /ip4/10.0.0.2/tcp/4001/p2p/12D3KooW…\n',
    )
    .action(async (flags: NodeFlags) => {
      // libp2p, viem, SQLite and the runtimes load only when a node starts, not for --help.
      const { startNodeDaemon } = await import('./runNode.ts')
      const logger = createLogger({ level: flags.verbose ? 'debug' : 'info' })
      const adminToken = context.env.VERITASK_ADMIN_TOKEN
      const node = await startNodeDaemon({
        dataDir: flags.dataDir,
        ...(flags.keyFile === undefined ? {} : { keyFile: flags.keyFile }),
        rpcUrl: flags.rpcUrl,
        addressesFile: flags.addresses,
        listen: flags.listen,
        bootstrap: flags.bootstrap,
        apiHost: flags.apiHost,
        apiPort: flags.apiPort,
        ...(adminToken === undefined || adminToken === '' ? {} : { adminToken }),
        waitPeers: flags.waitPeers,
        ...(flags.threads === undefined ? {} : { threads: flags.threads }),
        ...(flags.gossipDegree === undefined ? {} : { gossipDegree: flags.gossipDegree }),
        models: await readModels(flags.model),
        logger,
        signal: context.signal,
      })
      try {
        const r = node.ready
        context.stdout(
          flags.json
            ? JSON.stringify(r)
            : [`veritask node ${r.address} serving (epoch ${r.epoch}${r.resumed ? ', resumed stored tasks' : ''})`, `  api   ${r.api}`, ...r.multiaddrs.map((m) => `  p2p   ${m}`)].join('\n'),
        )
        await new Promise<void>((resolve) => {
          if (context.signal.aborted) return resolve()
          context.signal.addEventListener('abort', () => resolve(), { once: true })
        })
      } finally {
        await node.stop()
      }
    })
}
