import type { SimReport } from './runSim.ts'
import { renderLinePlot } from './svgPlot.ts'

/** The charts of a sweep over network sizes, as SVG documents by file name; the adversaries' two when the runs had any. */
export function simPlots(reports: readonly SimReport[]): Record<string, string> {
  const byN = (value: (r: SimReport) => number) => reports.map((r) => [r.nodes, value(r)] as const)
  const logX = reports.length > 1 && Math.max(...reports.map((r) => r.nodes)) / Math.min(...reports.map((r) => r.nodes)) >= 10
  return {
    ...adversaryPlots(reports, logX),
    'throughput.svg': renderLinePlot({
      title: 'Verified throughput against network size',
      xLabel: 'nodes',
      yLabel: 'tasks per simulated second',
      logX,
      series: [
        { name: 'measured', points: byN((r) => r.throughputPerSecond) },
        { name: 'offered load', points: byN((r) => r.ratePerSecond) },
      ],
    }),
    'messages.svg': renderLinePlot({
      title: 'Gossip messages each node receives per task',
      xLabel: 'nodes',
      yLabel: 'messages per node per task',
      logX,
      series: [
        { name: 'measured', points: byN((r) => r.messagesPerNodePerTask) },
        // What a node would receive if only a task's participants carried it: about 2k + 2 messages for k + 2 of N nodes.
        { name: 'participants only', points: byN((r) => ((2 * r.k + 2) * (r.k + 2)) / r.nodes) },
      ],
    }),
    'cpu.svg': renderLinePlot({
      title: 'Protocol CPU per node per task (real, this process)',
      xLabel: 'nodes',
      yLabel: 'ms',
      logX,
      series: [{ name: 'protocol', points: byN((r) => r.cpu.protocolMsPerNodePerTask) }],
    }),
    'coordination.svg': renderLinePlot({
      title: 'Share of node time not spent executing',
      xLabel: 'nodes',
      yLabel: 'share',
      logX,
      series: [
        { name: 'coordination', points: byN((r) => r.cpu.coordinationShare) },
        { name: 'target (issue 18)', points: byN(() => 0.05) },
      ],
    }),
    'latency.svg': renderLinePlot({
      title: 'Submission to verdict (simulated)',
      xLabel: 'quantile',
      yLabel: 'ms',
      series: reports.map((r) => ({ name: `${r.nodes} nodes`, points: r.latencyQuantiles })),
    }),
    'settlement.svg': renderLinePlot({
      title: 'Tasks settled per epoch',
      xLabel: 'epoch',
      yLabel: 'tasks settled',
      series: reports.map((r) => ({ name: `${r.nodes} nodes`, points: r.epochs.map((e) => [e.epoch, e.settledAtMs === null ? 0 : e.tasks] as const) })),
    }),
  }
}

/**
 * What the adversaries got, against what the analysis allows them (docs/economics.md): wrong
 * results verified per 1,000 tasks beside the analytic prediction (`predictedWrong`), and each
 * behaviour's net in VTT beside an honest node's, the bound no strategy beats in tokens (a lie pays
 * only in what the wrong result is worth to the coalition, counted by the first chart).
 */
function adversaryPlots(reports: readonly SimReport[], logX: boolean): Record<string, string> {
  const runs = reports.flatMap((r) => (r.adversaries === null ? [] : [{ nodes: r.nodes, tasks: r.tasks, ...r.adversaries }]))
  if (runs.length === 0) return {}
  const perThousand = (count: number, tasks: number) => (1_000 * count) / tasks
  const predicted = runs.flatMap((r) => (r.predictedWrong === null ? [] : [[r.nodes, perThousand(r.predictedWrong, r.tasks)] as const]))
  const behaviours = [...new Set(runs.flatMap((r) => r.behaviours.map((b) => b.behaviour)))]
  const vtt = (wei: string) => Number(BigInt(wei)) / 1e18
  return {
    'adversaries.svg': renderLinePlot({
      title: 'Wrong results verified, per 1,000 tasks',
      xLabel: 'nodes',
      yLabel: 'wrong results per 1,000 tasks',
      logX,
      series: [
        { name: 'measured', points: runs.map((r) => [r.nodes, perThousand(r.wrongVerified, r.tasks)] as const) },
        ...(predicted.length === 0 ? [] : [{ name: 'analytic prediction', points: predicted }]),
        { name: 'every seat a coalition’s', points: runs.map((r) => [r.nodes, perThousand(r.heldEverySeat, r.tasks)] as const) },
      ],
    }),
    'adversary-net.svg': renderLinePlot({
      title: 'Net per node over the run (fees − slashes)',
      xLabel: 'nodes',
      yLabel: 'VTT',
      logX,
      series: behaviours.map((behaviour) => ({
        name: behaviour === 'honest' ? 'honest (the bound)' : behaviour,
        points: runs.flatMap((r) => r.behaviours.filter((b) => b.behaviour === behaviour).map((b) => [r.nodes, vtt(b.net)] as const)),
      })),
    }),
  }
}
