import { h } from './dom.ts'

const svgNs = 'http://www.w3.org/2000/svg'

function el(tag: string, attrs: Record<string, string>, text?: string): SVGElement {
  const e = document.createElementNS(svgNs, tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v)
  if (text !== undefined) e.textContent = text
  return e
}

/** A line chart in hand-written SVG: x is time (ms), one or two series, labelled axes. */
export function lineChart(title: string, points: readonly { x: number; y: number; y2?: number }[], unit: string, label2?: string): HTMLElement {
  const width = 640
  const height = 200
  const pad = { left: 48, right: 12, top: 12, bottom: 24 }
  const svg = el('svg', { width: String(width), height: String(height), viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title })
  if (points.length === 0) {
    svg.append(el('text', { x: String(width / 2 - 40), y: String(height / 2) }, 'no data yet'))
    return h('figure', {}, h('figcaption', {}, title), svg as unknown as HTMLElement)
  }
  const xs = points.map((p) => p.x)
  const ys = points.flatMap((p) => (p.y2 === undefined ? [p.y] : [p.y, p.y2]))
  const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)]
  const y1 = Math.max(1, ...ys)
  const sx = (x: number) => pad.left + ((x - x0) / (x1 - x0)) * (width - pad.left - pad.right)
  const sy = (y: number) => height - pad.bottom - (y / y1) * (height - pad.top - pad.bottom)
  const path = (get: (p: (typeof points)[number]) => number | undefined) =>
    points
      .filter((p) => get(p) !== undefined)
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(get(p)!).toFixed(1)}`)
      .join(' ')
  svg.append(
    el('line', { x1: String(pad.left), y1: String(sy(0)), x2: String(width - pad.right), y2: String(sy(0)), stroke: '#ccd' }),
    el('text', { x: '4', y: String(pad.top + 8) }, `${Number(y1.toPrecision(3))} ${unit}`),
    el('text', { x: '4', y: String(sy(0)) }, '0'),
    el('text', { x: String(pad.left), y: String(height - 6) }, new Date(x0).toLocaleTimeString()),
    el('text', { x: String(width - pad.right - 60), y: String(height - 6) }, new Date(x1).toLocaleTimeString()),
    el('path', { class: 'line', d: path((p) => p.y) }),
  )
  if (label2 !== undefined) svg.append(el('path', { class: 'line2', d: path((p) => p.y2) }))
  return h('figure', {}, h('figcaption', {}, label2 === undefined ? title : `${title} (orange: ${label2})`), svg as unknown as HTMLElement)
}
