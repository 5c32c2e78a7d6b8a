// The Prometheus text exposition format (version 0.0.4), just what this API needs.

export type MetricType = 'counter' | 'gauge' | 'histogram'

export type Labels = Readonly<Record<string, string>>

export interface Sample {
  /** Appended to the metric name: `_bucket`, `_sum`, `_count` for histograms. */
  suffix?: string
  labels?: Labels
  value: number | bigint
}

export interface Metric {
  name: string
  help: string
  type: MetricType
  samples: readonly Sample[]
}

export const metricsContentType = 'text/plain; version=0.0.4; charset=utf-8'

const escapeHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
const escapeLabel = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')

function formatValue(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString()
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return Number.isNaN(value) ? 'NaN' : String(value)
}

function formatLabels(labels: Labels | undefined): string {
  const entries = Object.entries(labels ?? {})
  if (entries.length === 0) return ''
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`
}

/** Renders metrics with their HELP and TYPE lines; a metric without samples is still declared. */
export function renderMetrics(metrics: readonly Metric[]): string {
  const lines: string[] = []
  for (const { name, help, type, samples } of metrics) {
    lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`)
    for (const s of samples) lines.push(`${name}${s.suffix ?? ''}${formatLabels(s.labels)} ${formatValue(s.value)}`)
  }
  return `${lines.join('\n')}\n`
}

export interface Histogram {
  observe(value: number, labels?: Labels): void
  samples(): Sample[]
}

/** A cumulative histogram with fixed upper bounds, one series per distinct label set. */
export function createHistogram(bounds: readonly number[]): Histogram {
  const series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>()
  return {
    observe(value, labels = {}) {
      const key = JSON.stringify(Object.entries(labels).sort())
      let s = series.get(key)
      if (s === undefined) {
        s = { labels, counts: bounds.map(() => 0), sum: 0, count: 0 }
        series.set(key, s)
      }
      bounds.forEach((bound, i) => {
        if (value <= bound) s.counts[i]!++
      })
      s.sum += value
      s.count++
    },
    samples() {
      const out: Sample[] = []
      for (const { labels, counts, sum, count } of series.values()) {
        bounds.forEach((bound, i) => out.push({ suffix: '_bucket', labels: { ...labels, le: formatValue(bound) }, value: counts[i]! }))
        out.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: count })
        out.push({ suffix: '_sum', labels, value: sum }, { suffix: '_count', labels, value: count })
      }
      return out
    },
  }
}
