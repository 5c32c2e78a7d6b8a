/** A tiny element builder: `h('td', { class: 'num' }, '12')`. Text is always set as text, never parsed as HTML. */
export function h(tag: string, attrs: Record<string, string | undefined> = {}, ...children: (Node | string | null | undefined)[]): HTMLElement {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v)
  for (const c of children) if (c !== null && c !== undefined) el.append(typeof c === 'string' ? document.createTextNode(c) : c)
  return el
}

export function table(headers: readonly string[], rows: readonly HTMLElement[], numeric: readonly number[] = []): HTMLElement {
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ...headers.map((t, i) => h('th', numeric.includes(i) ? { class: 'num' } : {}, t)))),
    h('tbody', {}, ...rows),
  )
}

export const short = (hex: string | null | undefined) => (hex === null || hex === undefined ? '—' : `${hex.slice(0, 10)}…${hex.slice(-4)}`)

export const time = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : new Date(ms).toLocaleTimeString())

export async function getJson<T>(path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(path, { headers: { accept: 'application/json' } })
  return { status: response.status, body: (await response.json()) as T }
}
