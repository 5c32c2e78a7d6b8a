// The explorer's web app: hash-routed pages over the node's read-only API, refreshed by its event stream.
import type { EpochRecord, NodeTally, SeriesBucket, TaskRecord } from '../api/explorer/createExplorerIndex.ts'
import { formatTokens } from '../sdk/formatTokens.ts'
import { lineChart } from './charts.ts'
import { getJson, h, short, table, time } from './dom.ts'
import { checkReceipt } from './receiptCheck.ts'
import type { Hex } from '../core/types.ts'

type NetworkNode = NodeTally & { self: boolean; weight: string; stake: string | null; eligibleStake: string | null; jailed: boolean; earned: string }

const page = document.getElementById('page')!
const live = document.getElementById('live')!
const vtt = (v: string | null) => (v === null ? '—' : formatTokens(BigInt(v), { minFractionDigits: 4 }))
const outcomeCell = (t: TaskRecord) => {
  const o = t.verdict?.outcome ?? 'pending'
  return h('td', { class: o, 'data-outcome': o }, o)
}

async function readRoot(epoch: bigint): Promise<Hex | null> {
  const { status, body } = await getJson<{ outcomesRoot: Hex }>(`/v1/epochs/${epoch}/root`)
  return status === 200 ? body.outcomesRoot : null
}

async function networkPage(): Promise<HTMLElement[]> {
  const { body } = await getJson<{ node: string; epoch: string; nodes: NetworkNode[]; stats: { specsAccepted: number; openTasks: number } }>('/v1/explorer/network')
  const rows = body.nodes.map((n) =>
    h(
      'tr',
      {},
      h('td', { class: 'hash' }, n.address, n.self ? ' (this node)' : ''),
      h('td', { class: 'num' }, vtt(n.stake)),
      h('td', { class: 'num' }, vtt(n.weight)),
      h('td', { class: 'num' }, n.seats + n.agreed + n.dissented === 0 ? '—' : `${n.agreed}/${n.agreed + n.dissented}`),
      h('td', { class: n.jailed ? 'yes' : '' }, n.jailed ? `yes (until block ${n.jailedUntilBlock ?? '?'})` : 'no'),
      h('td', { class: 'num' }, String(n.agreed + n.dissented)),
      h('td', { class: 'num' }, vtt(n.earned)),
      h('td', { class: 'num' }, vtt(n.slashed)),
    ),
  )
  return [
    h('h2', {}, `Network — epoch ${body.epoch}, seen from ${short(body.node)}`),
    h('div', { class: 'cards' }, h('div', { class: 'card' }, h('b', {}, String(body.nodes.length)), 'nodes'), h('div', { class: 'card' }, h('b', {}, String(body.stats.specsAccepted)), 'tasks accepted'), h('div', { class: 'card' }, h('b', {}, String(body.stats.openTasks)), 'open')),
    table(['node', 'stake (VTT)', 'sortition weight (VTT)', 'agreed / revealed', 'jailed', 'executions', 'earned (VTT)', 'slashed (VTT)'], rows, [1, 2, 3, 5, 6, 7]),
  ]
}

async function tasksPage(query: URLSearchParams): Promise<HTMLElement[]> {
  const { body } = await getJson<{ tasks: TaskRecord[] }>(`/v1/explorer/tasks?${query}`)
  const requester = h('input', { name: 'requester', placeholder: 'requester 0x…', value: query.get('requester') ?? '', size: '44' }) as HTMLInputElement
  const outcome = h('select', { name: 'outcome' }, ...['', 'pending', 'verified', 'failed', 'unresolved'].map((o) => h('option', o === (query.get('outcome') ?? '') ? { value: o, selected: '' } : { value: o }, o || 'any outcome'))) as HTMLSelectElement
  const form = h('form', { class: 'filters' }, requester, outcome, h('button', { type: 'submit' }, 'filter'))
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    const q = new URLSearchParams()
    if (requester.value !== '') q.set('requester', requester.value)
    if (outcome.value !== '') q.set('outcome', outcome.value)
    location.hash = `#/tasks?${q}`
  })
  const rows = body.tasks.map((t) =>
    h('tr', { 'data-task': t.taskId }, h('td', {}, h('a', { href: `#/task/${t.taskId}`, class: 'hash' }, short(t.taskId))), h('td', { class: 'hash' }, short(t.requester)), h('td', {}, t.epoch ?? '—'), h('td', { class: 'num' }, `${t.commits.length}/${t.seats.length}`), h('td', { class: 'num' }, String(t.reveals.length)), outcomeCell(t), h('td', {}, time(t.acceptedAt)), h('td', { class: 'num' }, t.decidedAt !== null && t.acceptedAt !== null ? `${t.decidedAt - t.acceptedAt} ms` : '—')),
  )
  return [h('h2', {}, 'Live task feed'), form, table(['task', 'requester', 'epoch', 'commits / seats', 'reveals', 'outcome', 'accepted', 'latency'], rows, [3, 4, 7])]
}

async function taskPage(taskId: string): Promise<HTMLElement[]> {
  const { status, body } = await getJson<{ record: TaskRecord | null; status: { spec: Record<string, unknown>; seats: string[]; phase: string } | null; certificate: { commits: { signer: string; commitment: string }[]; reveals: { signer: string; status: string; resultHash: string }[] } | null }>(`/v1/explorer/tasks/${taskId}`)
  if (status !== 200) return [h('h2', {}, 'Task not known to this node'), h('p', {}, taskId)]
  const t = body.record
  const receipt = await getJson<Record<string, unknown> & { error?: { code: string; message: string } }>(`/v1/tasks/${taskId}/receipt`)
  const receiptBox = h('p', {}, 'receipt: ', h('span', { id: 'receipt-status', class: 'pending' }, receipt.status === 200 ? 'checking…' : (receipt.body.error?.message ?? 'not settled yet')))
  if (receipt.status === 200) {
    void checkReceipt(receipt.body, readRoot).then((c) => {
      const el = document.getElementById('receipt-status')
      if (el === null) return
      el.className = c.valid ? 'valid' : 'invalid'
      el.textContent = c.valid ? `valid — its proof leads to the on-chain outcomes root ${short(c.root)}` : `invalid — ${c.reason}`
    })
  }
  const seats = t?.seats ?? body.status?.seats ?? []
  return [
    h('h2', {}, `Task ${taskId}`),
    h('p', {}, 'outcome: ', t === null ? h('span', {}, body.status?.phase ?? '—') : outcomeCell(t).firstChild as HTMLElement, t?.verdict ? h('span', { class: 'hash' }, `  result ${t.verdict.resultHash}`) : null),
    receiptBox,
    receipt.status === 200 ? h('p', {}, h('a', { href: `#/receipt?task=${taskId}` }, 'check or edit this receipt')) : h('span'),
    h('h2', {}, 'Seats, commits and reveals'),
    table(['seat', 'executor', 'committed', 'revealed', 'result'], seats.map((s, i) => {
      const c = t?.commits.find((x) => x.executor === s)
      const r = t?.reveals.find((x) => x.executor === s)
      return h('tr', {}, h('td', {}, String(i + 1)), h('td', { class: 'hash' }, s), h('td', {}, time(c?.at)), h('td', {}, time(r?.at)), h('td', { class: 'hash' }, r ? `${r.status} ${short(r.resultHash)}` : '—'))
    })),
    h('h2', {}, 'Certificate'),
    body.certificate === null ? h('p', {}, 'Not held any more (its epoch is settled: the receipt proves the outcome).') : h('pre', { class: 'hash' }, JSON.stringify(body.certificate, null, 1)),
    h('h2', {}, 'Spec'),
    h('pre', { class: 'hash' }, JSON.stringify(body.status?.spec ?? { epoch: t?.epoch, requester: t?.requester }, null, 1)),
  ]
}

async function epochsPage(): Promise<HTMLElement[]> {
  const { body } = await getJson<{ epochs: EpochRecord[] }>('/v1/explorer/epochs')
  const rows = body.epochs.map((e) => h('tr', {}, h('td', {}, e.epoch), h('td', { class: 'num' }, e.tasks === null ? '—' : String(e.tasks)), h('td', { class: 'num' }, e.gasUsed ?? '—'), h('td', { class: 'num' }, String(e.signers.length)), h('td', { class: 'hash' }, e.signers.map(short).join(' ')), h('td', { class: 'hash' }, short(e.aggregator)), h('td', {}, e.settledAt === null ? 'open' : `settled ${time(e.settledAt)}`)))
  return [h('h2', {}, 'Epochs'), table(['epoch', 'tasks', 'gas', 'signers', 'signed by', 'aggregator', 'state'], rows, [1, 2, 3])]
}

async function chartsPage(): Promise<HTMLElement[]> {
  const { body } = await getJson<{ bucketMs: number; buckets: SeriesBucket[] }>('/v1/explorer/series')
  const perSecond = body.buckets.map((b) => ({ x: b.at, y: b.decided / (body.bucketMs / 1000) }))
  const latency = body.buckets.map((b) => ({ x: b.at, y: b.decided === 0 ? 0 : b.latencySumMs / b.decided, y2: b.latencyMaxMs }))
  return [h('h2', {}, 'Throughput and latency'), lineChart('tasks decided per second', perSecond, 'tasks/s'), lineChart('latency accept → verdict, mean', latency, 'ms', 'max')]
}

async function receiptPage(query: URLSearchParams): Promise<HTMLElement[]> {
  const area = h('textarea', { id: 'receipt-input', spellcheck: 'false' }) as HTMLTextAreaElement
  const task = query.get('task')
  if (task !== null) {
    const r = await getJson<unknown>(`/v1/tasks/${task}/receipt`)
    if (r.status === 200) area.value = JSON.stringify(r.body, null, 1)
  }
  const result = h('p', { id: 'receipt-result' })
  const button = h('button', { id: 'receipt-check', type: 'button' }, 'check against the chain')
  button.addEventListener('click', () => {
    result.className = 'pending'
    result.textContent = 'checking…'
    let json: unknown
    try {
      json = JSON.parse(area.value)
    } catch {
      json = undefined
    }
    void checkReceipt(json, readRoot).then((c) => {
      result.className = c.valid ? 'valid' : 'invalid'
      result.textContent = c.valid ? `valid — the proof leads to the on-chain outcomes root ${c.root}` : `invalid — ${c.reason}`
    })
  })
  return [h('h2', {}, 'Check a receipt'), h('p', {}, 'Paste a receipt (veritask receipt --json, or GET /v1/tasks/:taskId/receipt). It is checked here, in the browser, against the outcomes root the settlement contract holds.'), area, h('p', {}, button), result]
}

let rendering = false
let again = false

/** Renders the page the hash names; called on navigation and, debounced, on every event. */
async function render(): Promise<void> {
  if (rendering) return void (again = true)
  rendering = true
  try {
    const [path = '/', search = ''] = location.hash.replace(/^#/, '').split('?')
    const query = new URLSearchParams(search)
    let content: HTMLElement[]
    if (path === '/' || path === '') content = await networkPage()
    else if (path === '/tasks') content = await tasksPage(query)
    else if (path.startsWith('/task/')) content = await taskPage(path.slice(6))
    else if (path === '/epochs') content = await epochsPage()
    else if (path === '/charts') content = await chartsPage()
    else if (path === '/receipt') content = await receiptPage(query)
    else content = [h('h2', {}, 'No such page')]
    // Forms keep what the user typed: the receipt page is not refreshed by events.
    page.replaceChildren(...content)
  } catch (error) {
    page.replaceChildren(h('p', { class: 'invalid' }, `The node did not answer: ${String(error)}`))
  } finally {
    rendering = false
    if (again) {
      again = false
      void render()
    }
  }
}

let pending: ReturnType<typeof setTimeout> | undefined
function refreshSoon(): void {
  if (location.hash.startsWith('#/receipt')) return
  pending ??= setTimeout(() => {
    pending = undefined
    void render()
  }, 250)
}

const events = new EventSource('/v1/events')
events.onopen = () => {
  live.textContent = '● live'
  refreshSoon()
}
events.onerror = () => (live.textContent = 'reconnecting…')
events.onmessage = () => refreshSoon()
window.addEventListener('hashchange', () => void render())
void render()
