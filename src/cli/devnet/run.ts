import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseAdversaries } from '../../devnet/adversaries.ts'
import { runDevnet } from '../../devnet/runDevnet.ts'
import type { DevnetReport } from '../../devnet/runDevnet.ts'
import { createLogger } from '../../node/logger.ts'
import { formatTokens } from '../../sdk/formatTokens.ts'
import { exitCodes } from '../options.ts'
import { createProgressBar } from '../progress.ts'
import type { CommandContext } from '../context.ts'
import { checkDevnetFlags } from './checkFlags.ts'
import type { DevnetFlags } from './command.ts'
import { formatProcessesReport, runProcessDevnet } from './processes.ts'
import { serveDevnet } from './serve.ts'

/** Runs `veritask devnet` with parsed flags: serves, spawns or runs the network. */
export async function runDevnetCommand(context: CommandContext, flags: DevnetFlags): Promise<void> {
  const logger = createLogger({ level: flags.verbose ? 'debug' : 'warn' })
  if (flags.serve) {
    return serveDevnet(context, { nodes: flags.nodes, seed: flags.seed, json: flags.json, logger, networkFile: flags.networkFile, addressesFile: flags.addresses })
  }
  const { quorum, deployerKey } = checkDevnetFlags(flags, context.env)
  if (flags.processes) {
    const progress = flags.json ? undefined : createProgressBar()
    const report = await runProcessDevnet(context, {
      nodes: flags.nodes,
      tasks: flags.tasks,
      k: flags.k,
      quorum,
      ...(flags.audit === undefined ? {} : { auditPpm: Math.round(flags.audit * 1_000_000) }),
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
    ...(flags.audit === undefined ? {} : { auditPpm: Math.round(flags.audit * 1_000_000) }),
    epochTasks: flags.epochTasks,
    ...(flags.inference ? { inference: true } : {}),
    ...(flags.chain ? { receiptsFile: flags.receipts, addressesFile: flags.addresses } : {}),
    ...(flags.rpcUrl === undefined ? {} : { rpcUrl: flags.rpcUrl }),
    ...(deployerKey === undefined ? {} : { deployerKey }),
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
}

function formatReport(r: DevnetReport): string {
  const lines = [
    `veritask devnet: ${r.nodes} nodes, ${r.tasks} tasks, ${r.policy.kind === 'replicate' ? `replicate k=${r.policy.k} quorum=${r.policy.quorum} audit=${(r.policy.auditPpm ?? 0) / 1_000_000}` : `sample p=${r.policy.ratePpm / 1_000_000}`}`,
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
    `  anchors      ${s.requester.anchored} task ids in ${s.requester.anchorTransactions} transactions, ${formatTokens(BigInt(s.requester.anchorFees))} VTT in anchor fees`,
    `  treasury     earned ${formatTokens(BigInt(s.treasury.earned))} VTT`,
    `  receipt      ${receipt}`,
  ]
}
