import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command, Option } from 'commander'
import { UsageError } from '../../core/errors.ts'
import { behaviours, parseAdversaries } from '../../devnet/adversaries.ts'
import { runDevnet } from '../../devnet/runDevnet.ts'
import type { DevnetReport } from '../../devnet/runDevnet.ts'
import { createLogger } from '../../node/logger.ts'
import { formatTokens } from '../../sdk/formatTokens.ts'
import { exitCodes, fractionOption, integerOption } from '../options.ts'
import { createProgressBar } from '../progress.ts'
import { formatProcessesReport, runProcessDevnet } from './processes.ts'
import { serveDevnet } from './serve.ts'
import type { CommandContext } from '../context.ts'

interface DevnetFlags {
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
  inference: boolean
  json: boolean
  verbose: boolean
  serve: boolean
  networkFile: string
  processes: boolean
}

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
      const logger = createLogger({ level: flags.verbose ? 'debug' : 'warn' })
      if (flags.serve) {
        return serveDevnet(context, { nodes: flags.nodes, seed: flags.seed, json: flags.json, logger, networkFile: flags.networkFile, addressesFile: flags.addresses })
      }
      if (flags.sample !== undefined && flags.nodes < 2) {
        throw new UsageError('USAGE_INVALID_OPTION', '--sample needs at least 2 nodes: an executor and a verifier.', {
          hint: 'Use --nodes 5 or more, so that arbitration has three arbiters.',
        })
      }
      if (flags.k > flags.nodes) {
        throw new UsageError('USAGE_INVALID_OPTION', `--k ${flags.k} needs at least ${flags.k} nodes, but --nodes is ${flags.nodes}.`, {
          hint: `Use --nodes ${flags.k} or more, or a smaller --k.`,
        })
      }
      const quorum = flags.quorum ?? Math.floor(flags.k / 2) + 1
      if (quorum * 2 <= flags.k || quorum > flags.k) {
        throw new UsageError('USAGE_INVALID_OPTION', `--quorum ${quorum} must be a strict majority of --k ${flags.k}.`, {
          hint: `Use --quorum ${Math.floor(flags.k / 2) + 1}.`,
        })
      }
      const deployerKey = context.env.VERITASK_DEPLOYER_KEY
      if (deployerKey !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(deployerKey)) {
        throw new UsageError('USAGE_INVALID_OPTION', 'VERITASK_DEPLOYER_KEY is not a private key.', {
          hint: 'Set it to 0x followed by 64 hex digits, or unset it to use anvil’s first dev key.',
        })
      }
      if (flags.rpcUrl !== undefined && !flags.chain) {
        throw new UsageError('USAGE_INVALID_OPTION', '--rpc-url and --no-chain contradict each other.', { hint: 'Use one of them.' })
      }
      if (flags.processes) {
        if (!flags.chain || flags.rpcUrl !== undefined || flags.adversary !== '' || flags.sample !== undefined) {
          throw new UsageError('USAGE_INVALID_OPTION', '--processes runs honest nodes on a spawned anvil with replication.', {
            hint: 'Leave out --no-chain, --rpc-url, --adversary and --sample with --processes.',
          })
        }
        const progress = flags.json ? undefined : createProgressBar()
        const report = await runProcessDevnet(context, {
          nodes: flags.nodes,
          tasks: flags.tasks,
          k: flags.k,
          quorum,
          seed: flags.seed,
          concurrency: flags.concurrency,
          dir: await mkdtemp(join(tmpdir(), 'veritask-processes-')),
          progress,
        })
        context.stdout(flags.json ? JSON.stringify(report) : formatProcessesReport(report))
        const healthy = report.correct === report.verified && report.receiptsVerified === report.tasks && report.failed + report.unresolved < report.tasks
        context.setExitCode(healthy ? exitCodes.ok : exitCodes.failure)
        return
      }
      const adversaries = parseAdversaries(flags.adversary, flags.nodes)
      const progress = flags.json ? undefined : createProgressBar()
      const report = await runDevnet({
        nodes: flags.nodes,
        tasks: flags.tasks,
        k: flags.k,
        quorum,
        seed: flags.seed,
        concurrency: flags.concurrency,
        latencyMs: flags.latency,
        dropRate: flags.dropRate,
        ...(flags.threads === undefined ? {} : { threads: flags.threads }),
        chain: flags.chain,
        behaviours: adversaries,
        ...(flags.sample === undefined ? {} : { sampleRatePpm: Math.round(flags.sample * 1_000_000) }),
        epochTasks: flags.epochTasks,
        ...(flags.inference ? { inference: true } : {}),
        ...(flags.chain ? { receiptsFile: flags.receipts, addressesFile: flags.addresses } : {}),
        ...(flags.rpcUrl === undefined ? {} : { rpcUrl: flags.rpcUrl }),
        ...(deployerKey === undefined ? {} : { deployerKey: deployerKey as `0x${string}` }),
        logger,
        onProgress: (p) => progress?.update(p.decided, p.total, `decided (${p.submitted} submitted)`),
        signal: context.signal,
      })
      progress?.done()
      context.stdout(flags.json ? JSON.stringify(report) : formatReport(report))
      const receiptOk = report.settlement === null || report.settlement.receiptCheck?.valid !== false
      const everyTaskDecided = report.verified + report.failed + report.unresolved === report.tasks
      const healthy = everyTaskDecided && report.wrongVerdicts === 0 && report.correct === report.verified && receiptOk
      context.setExitCode(healthy ? exitCodes.ok : exitCodes.failure)
    })
}

function formatReport(r: DevnetReport): string {
  const lines = [
    `veritask devnet: ${r.nodes} nodes, ${r.tasks} tasks, ${r.policy.kind === 'replicate' ? `replicate k=${r.policy.k} quorum=${r.policy.quorum}` : `sample p=${r.policy.ratePpm / 1_000_000}`}`,
    '',
    `  verified     ${r.verified}   (${r.correct} match a local computation)`,
    `  failed       ${r.failed}`,
    `  unresolved   ${r.unresolved}`,
    ...(Object.keys(r.rejected).length === 0 ? [] : [`  rejected     ${JSON.stringify(r.rejected)} (no outcome)`]),
    `  agreement    ${r.agreement ? 'all nodes reached the same verdicts' : `${r.disagreements} tasks decided differently by some node (reconciled at settlement)`}`,
    ...(r.accuracy === null ? [] : [`  accuracy     ${r.accuracy.correct} of ${r.accuracy.samples} samples classified as labelled (${((100 * r.accuracy.correct) / Math.max(1, r.accuracy.samples)).toFixed(1)} %)`]),
    `  wrong        ${r.wrongVerdicts === 0 ? 'no node verified a wrong result' : `${r.wrongVerdicts} WRONG RESULTS VERIFIED`}`,
    `  throughput   ${r.throughputPerSecond} tasks/s over ${(r.durationMs / 1000).toFixed(1)} s`,
    `  latency      p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms (submit → verdict)`,
    `  gossip       ${r.gossip.messagesPerTask} messages per task, ${(r.gossip.bytes / 1024).toFixed(0)} KiB in all`,
    ...formatSettlement(r.settlement),
    '',
    '  node                                        behaviour  executed  agreed  dissented  missed   earned (VTT)  slashed (VTT)  jailed',
    ...r.perNode.map(
      (n) =>
        `  ${n.address}  ${n.behaviour.padEnd(9)}  ${String(n.executions).padStart(8)}  ${String(n.agreed).padStart(6)}  ${String(n.dissented).padStart(9)}  ${String(n.missed).padStart(6)}  ${vtt(n.earned).padStart(13)}  ${vtt(n.slashed).padStart(13)}  ${n.jailed ? 'yes' : 'no'}`,
    ),
  ]
  return lines.join('\n')
}

/** An exact amount with at least 4 fraction digits: never rounded (a float would print 0.0400000000000004). */
function vtt(wei: string): string {
  return formatTokens(BigInt(wei), { minFractionDigits: 4 })
}

function formatSettlement(s: DevnetReport['settlement']): string[] {
  if (s === null) return ['  settlement   none (--no-chain)']
  const receipt =
    s.receiptCheck === null
      ? 'no verified task to check'
      : `${s.receiptCheck.valid ? 'valid' : 'INVALID'} for task ${s.receiptCheck.taskId.slice(0, 10)}… (epoch ${s.receiptCheck.epoch}); tampered copy ${s.receiptCheck.tamperedRejected ? 'rejected' : 'ACCEPTED'}`
  return [
    `  settlement   ${s.epochs} epochs settled on chain ${s.chainId}, ${s.gasPerEpoch} gas per epoch, ${s.gasPerVerifiedTask} gas per verified task`,
    `  requester    deposited ${formatTokens(BigInt(s.requester.deposited))} VTT, charged ${formatTokens(BigInt(s.requester.charged))}, remaining ${formatTokens(BigInt(s.requester.remaining))}`,
    `  treasury     earned ${formatTokens(BigInt(s.treasury.earned))} VTT`,
    `  receipt      ${receipt}`,
  ]
}
