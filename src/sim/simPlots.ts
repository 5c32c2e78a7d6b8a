import type { SimReport } from './runSim.ts'
import { renderLinePlot } from './svgPlot.ts'

/** The charts of a sweep over network sizes, as SVG documents by file name. */
export function simPlots(reports: readonly SimReport[]): Record<string, string> {
  const byN = (value: (r: SimReport) => number) => reports.map((r) => [r.nodes, value(r)] as const)
  const logX = reports.length > 1 && Math.max(...reports.map((r) => r.nodes)) / Math.min(...reports.map((r) => r.nodes)) >= 10
  return {
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
