/** One line of a chart: its points in data coordinates. */
export interface PlotSeries {
  name: string
  points: ReadonlyArray<readonly [number, number]>
}

export interface LinePlot {
  title: string
  xLabel: string
  yLabel: string
  series: readonly PlotSeries[]
  /** A logarithmic x axis (node counts 10 → 10,000). */
  logX?: boolean
}

const WIDTH = 640
const HEIGHT = 400
const MARGIN = { left: 70, right: 150, top: 40, bottom: 50 }
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b']

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Up to six round tick values covering [min, max]. */
function ticks(min: number, max: number): number[] {
  const span = max - min || 1
  const step = 10 ** Math.floor(Math.log10(span / 5))
  const unit = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= 6) ?? step * 10
  const out: number[] = []
  for (let t = Math.ceil(min / unit) * unit; t <= max + unit * 1e-9; t += unit) out.push(Number(t.toPrecision(12)))
  return out
}

const format = (x: number) => (Math.abs(x) >= 10_000 ? x.toExponential(0) : String(Number(x.toPrecision(4))))

/** A line chart as a standalone SVG document: axes, ticks, one polyline with markers per series, a legend. */
export function renderLinePlot({ title, xLabel, yLabel, series, logX = false }: LinePlot): string {
  const all = series.flatMap((s) => s.points)
  const fx = (x: number) => (logX ? Math.log10(x) : x)
  const xs = all.map(([x]) => fx(x))
  const ys = all.map(([, y]) => y)
  const [x0, x1] = xs.length === 0 ? [0, 1] : [Math.min(...xs), Math.max(...xs)]
  const y1 = ys.length === 0 ? 1 : Math.max(...ys) * 1.1 || 1
  const y0 = Math.min(0, ...ys)
  const px = (x: number) => MARGIN.left + ((fx(x) - x0) / (x1 - x0 || 1)) * (WIDTH - MARGIN.left - MARGIN.right)
  const py = (y: number) => HEIGHT - MARGIN.bottom - ((y - y0) / (y1 - y0)) * (HEIGHT - MARGIN.top - MARGIN.bottom)
  const integral = all.every(([x]) => Number.isInteger(x))
  const xTicks = logX ? [...new Set(all.map(([x]) => x))].sort((a, b) => a - b) : ticks(x0, x1).filter((t) => !integral || Number.isInteger(t))
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="15">${escape(title)}</text>`,
    `<line x1="${MARGIN.left}" y1="${HEIGHT - MARGIN.bottom}" x2="${WIDTH - MARGIN.right}" y2="${HEIGHT - MARGIN.bottom}" stroke="black"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${HEIGHT - MARGIN.bottom}" stroke="black"/>`,
    `<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 12}" text-anchor="middle">${escape(xLabel)}</text>`,
    `<text transform="translate(16 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`,
  ]
  for (const t of xTicks) parts.push(`<text x="${px(t)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${format(t)}</text>`)
  for (const t of ticks(y0, y1)) {
    parts.push(`<line x1="${MARGIN.left}" y1="${py(t)}" x2="${WIDTH - MARGIN.right}" y2="${py(t)}" stroke="#ddd"/>`)
    parts.push(`<text x="${MARGIN.left - 6}" y="${py(t) + 4}" text-anchor="end">${format(t)}</text>`)
  }
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!
    const points = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`)
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.join(' ')}"/>`)
    if (s.points.length <= 20) for (const [x, y] of s.points) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${colour}"/>`)
    parts.push(`<rect x="${WIDTH - MARGIN.right + 12}" y="${MARGIN.top + i * 18}" width="12" height="3" fill="${colour}"/>`)
    parts.push(`<text x="${WIDTH - MARGIN.right + 28}" y="${MARGIN.top + i * 18 + 5}">${escape(s.name)}</text>`)
  })
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}
