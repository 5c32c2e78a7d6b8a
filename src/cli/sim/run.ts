import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { UsageError } from '../../core/errors.ts'
import { parseAdversaries } from '../../devnet/adversaries.ts'
import { runSim } from '../../sim/runSim.ts'
import type { SimReport } from '../../sim/runSim.ts'
import { simPlots } from '../../sim/simPlots.ts'
import type { CommandContext } from '../context.ts'
import { exitCodes } from '../options.ts'
import { createProgressBar } from '../progress.ts'
import type { SimFlags, StakeGroup } from './command.ts'

/** Runs the simulator at each network size with the same tasks per node, prints a table (or JSON) and writes the charts. */
export async function runSimCommand(context: CommandContext, flags: SimFlags): Promise<void> {
  const reports: SimReport[] = []
  for (const nodes of flags.nodes) {
    context.signal.throwIfAborted()
    const progress = flags.json ? undefined : createProgressBar()
    const report = await runSim({
      nodes,
      tasks: nodes * flags.tasksPerNode,
      taskMs: flags.taskMs,
      k: flags.k,
      epochMs: flags.epochMs,
      seed: flags.seed,
      churn: flags.churn,
      ...(flags.partition === undefined ? {} : { partition: flags.partition }),
      ...(flags.adversary === '' ? {} : { adversaries: parseAdversaries(flags.adversary, nodes) }),
      ...(flags.stakes === undefined ? {} : { stakes: stakesOf(flags.stakes, nodes) }),
      ...(progress === undefined ? {} : { onProgress: ({ decided, total }: { decided: number; total: number }) => progress.update(decided, total, `${nodes} nodes`) }),
    })
    progress?.done()
    reports.push(report)
    if (!flags.json) context.stdout(formatSimReport(report))
  }
  if (flags.out !== undefined) {
    await mkdir(flags.out, { recursive: true })
    await writeFile(join(flags.out, 'sim.json'), `${JSON.stringify(reports, null, 2)}\n`)
    for (const [name, svg] of Object.entries(simPlots(reports))) await writeFile(join(flags.out, name), svg)
    if (!flags.json) context.stdout(`wrote sim.json and charts to ${flags.out}`)
  }
  if (flags.json) context.stdout(JSON.stringify(reports, null, 2))
  // Every task must be decided and every epoch settled; a run that loses work fails.
  const lost = reports.some((r) => r.outcomes.undecided > 0 || r.epochs.some((e) => e.settledAtMs === null))
  if (lost) context.setExitCode(exitCodes.failure)
}

/** `--stakes` groups as one stake per node (wei); a usage error unless they name exactly `nodes` nodes. */
function stakesOf(groups: readonly StakeGroup[], nodes: number): bigint[] {
  const stakes = groups.flatMap(({ vtt, count }) => Array<bigint>(count).fill(vtt * 10n ** 18n))
  if (stakes.length !== nodes) {
    throw new UsageError('USAGE_INVALID_OPTION', `--stakes names ${stakes.length} nodes, but this run has ${nodes}.`, {
      hint: 'Give one stake per node (<amount>x<count> counts as <count> nodes), with one network size in --nodes.',
    })
  }
  return stakes
}

export function formatSimReport(r: SimReport): string {
  const settled = r.epochs.filter((e) => e.settledAtMs !== null).length
  return [
    `veritask sim: ${r.nodes} nodes, ${r.tasks} tasks (k = ${r.k}, ${r.taskMs} ms each), ${r.ratePerSecond} submitted per simulated second`,
    ...(r.faults.churn > 0 || r.faults.partition !== null
      ? [`  faults       ${Math.round(r.faults.churn * 100)} % of nodes offline each epoch${r.faults.partition === null ? '' : `; partitioned from ${r.faults.partition.fromMs} to ${r.faults.partition.toMs} ms`}`]
      : []),
    `  outcomes     ${r.outcomes.verified} verified, ${r.outcomes.failed} failed, ${r.outcomes.unresolved} unresolved, ${r.outcomes.undecided} undecided, ${r.outcomes.refused} refused`,
    `  throughput   ${r.throughputPerSecond} tasks per simulated second over ${(r.simulatedMs / 1000).toFixed(1)} s`,
    `  latency      p50 ${r.latencyMs.p50} ms, p90 ${r.latencyMs.p90} ms, p99 ${r.latencyMs.p99} ms (simulated)`,
    `  messages     ${r.messagesPerNodePerTask} per node per task (${r.bytesPerNodePerTask} bytes)`,
    `  cpu          ${r.cpu.protocolMsPerNodePerTask} ms of protocol per node per task (real); coordination ${Math.round(r.cpu.coordinationShare * 100)} % of node time`,
    `  settlement   ${settled} of ${r.epochs.length} epochs settled${Object.keys(r.objections).length === 0 ? '' : `; members' objections: ${Object.entries(r.objections).map(([reason, n]) => `${reason} ${n}`).join(', ')}`}`,
    ...(r.convergence.evidencePublished + r.convergence.signedOnVouches > 0
      ? [`  convergence  ${r.convergence.evidencePublished} evidence published, ${r.convergence.evidenceTaken} certificates kept as evidence, ${r.convergence.signedOnVouches} batches signed on vouches`]
      : []),
    ...(r.adversaries === null ? [] : formatAdversaries(r.adversaries)),
    `  wall time    ${(r.wallMs / 1000).toFixed(1)} s`,
  ].join('\n')
}

function formatAdversaries(a: NonNullable<SimReport['adversaries']>): string[] {
  const vtt = (wei: string) => `${BigInt(wei) < 0n ? '−' : '+'}${(Math.abs(Number(BigInt(wei))) / 1e18).toFixed(4)} VTT`
  return [
    `  adversaries  ${a.wrongVerified} wrong results verified${a.predictedWrong === null ? '' : ` (predicted ${a.predictedWrong})`}; a coalition held every seat of ${a.heldEverySeat} tasks`,
    ...a.behaviours.map((b) => `    ${b.behaviour} ×${b.nodes}: net ${vtt(b.net)} per node (earned ${vtt(b.earned)}, slashed ${(Number(BigInt(b.slashed)) / 1e18).toFixed(4)} VTT), ${b.jailed} jailed`),
  ]
}
