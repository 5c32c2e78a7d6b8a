import type { EventHub } from '../events/createEventHub.ts'
import type { WireEvent } from '../events/eventWire.ts'
import { explorerLimits } from '../limits.ts'

type Verdict = Extract<WireEvent, { type: 'task.decided' }>['verdict']

/** One task as the explorer shows it, from the events this node saw. Times are wall-clock ms. */
export interface TaskRecord {
  taskId: string
  requester: string | null
  epoch: string | null
  seats: string[]
  acceptedAt: number | null
  commits: { executor: string; at: number }[]
  reveals: { executor: string; status: string; resultHash: string; at: number }[]
  verdict: Verdict | null
  decidedAt: number | null
}

export interface NodeTally {
  address: string
  /** Seats this node held in tasks seen here. */
  seats: number
  /** Decided tasks it revealed in: on the winning side (`agreed`) or not (`dissented`). */
  agreed: number
  dissented: number
  /** Slashed amounts seen, in token base units (decimal string). */
  slashed: string
  jailedUntilBlock: string | null
}

export interface EpochRecord {
  epoch: string
  digest: string | null
  aggregator: string | null
  tasks: number | null
  signers: string[]
  proposedAt: number | null
  settledAt: number | null
  gasUsed: string | null
}

export interface SeriesBucket {
  /** Bucket start, wall-clock ms. */
  at: number
  decided: number
  verified: number
  /** Sum and max of accept → verdict latencies of the bucket's tasks, in ms. */
  latencySumMs: number
  latencyMaxMs: number
}

export interface ExplorerIndex {
  tasks(filter: { requester?: string; outcome?: string; limit?: number }): TaskRecord[]
  task(taskId: string): TaskRecord | undefined
  nodes(): NodeTally[]
  epochs(): EpochRecord[]
  series(): { bucketMs: number; buckets: SeriesBucket[] }
  stop(): void
}

/** Drops the oldest entries of an insertion-ordered map beyond `max`. */
function bound<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) map.delete(map.keys().next().value as K)
}

/**
 * What the explorer pages show, kept from the node's own events: recent tasks, per-node tallies,
 * recent epochs and a throughput / latency series. Every collection is bounded (`explorerLimits`).
 */
export function createExplorerIndex(hub: EventHub, limits = explorerLimits): ExplorerIndex {
  const tasks = new Map<string, TaskRecord>()
  const nodes = new Map<string, NodeTally>()
  const epochs = new Map<string, EpochRecord>()
  const buckets = new Map<number, SeriesBucket>()

  const task = (taskId: string): TaskRecord => {
    let t = tasks.get(taskId)
    if (t === undefined) {
      t = { taskId, requester: null, epoch: null, seats: [], acceptedAt: null, commits: [], reveals: [], verdict: null, decidedAt: null }
      tasks.set(taskId, t)
      bound(tasks, limits.tasks)
    }
    return t
  }
  const node = (address: string): NodeTally => {
    let n = nodes.get(address)
    if (n === undefined) {
      n = { address, seats: 0, agreed: 0, dissented: 0, slashed: '0', jailedUntilBlock: null }
      nodes.set(address, n)
      bound(nodes, limits.nodes)
    }
    return n
  }
  const epoch = (e: string): EpochRecord => {
    let r = epochs.get(e)
    if (r === undefined) {
      r = { epoch: e, digest: null, aggregator: null, tasks: null, signers: [], proposedAt: null, settledAt: null, gasUsed: null }
      epochs.set(e, r)
      bound(epochs, limits.epochs)
    }
    return r
  }

  function observe(e: WireEvent): void {
    switch (e.type) {
      case 'task.accepted': {
        const t = task(e.taskId)
        Object.assign(t, { requester: e.requester, epoch: e.epoch, seats: e.seats, acceptedAt: e.at })
        for (const seat of e.seats) node(seat).seats++
        return
      }
      case 'task.committed':
        return void task(e.taskId).commits.push({ executor: e.executor, at: e.at })
      case 'task.revealed':
        return void task(e.taskId).reveals.push({ executor: e.executor, status: e.status, resultHash: e.resultHash, at: e.at })
      case 'task.decided': {
        const t = task(e.taskId)
        t.requester ??= e.requester
        t.verdict = e.verdict
        t.decidedAt = e.at
        for (const x of e.verdict.executors) node(x).agreed++
        for (const x of e.verdict.dissenters) node(x).dissented++
        const at = Math.floor(e.at / limits.seriesBucketMs) * limits.seriesBucketMs
        const b = buckets.get(at) ?? { at, decided: 0, verified: 0, latencySumMs: 0, latencyMaxMs: 0 }
        b.decided++
        if (e.verdict.outcome === 'verified') b.verified++
        if (t.acceptedAt !== null) {
          const latency = e.at - t.acceptedAt
          b.latencySumMs += latency
          b.latencyMaxMs = Math.max(b.latencyMaxMs, latency)
        }
        buckets.set(at, b)
        bound(buckets, limits.seriesBuckets)
        return
      }
      case 'epoch.proposed':
        return void Object.assign(epoch(e.epoch), { digest: e.digest, aggregator: e.aggregator, tasks: e.tasks, proposedAt: e.at })
      case 'epoch.signed': {
        const r = epoch(e.epoch)
        if (r.digest === null) r.digest = e.digest
        if (r.digest === e.digest && !r.signers.includes(e.signer)) r.signers.push(e.signer)
        return
      }
      case 'epoch.settled':
        return void Object.assign(epoch(e.epoch), { digest: e.digest, tasks: e.tasks, settledAt: e.at, gasUsed: e.gasUsed ?? epoch(e.epoch).gasUsed })
      case 'node.slashed': {
        const n = node(e.node)
        n.slashed = (BigInt(n.slashed) + BigInt(e.amount)).toString()
        return
      }
      case 'node.jailed':
        return void (node(e.node).jailedUntilBlock = e.untilBlock)
      case 'stream.gap':
        return
    }
  }

  const subscription = hub.subscribe({}, (e) => observe(e.event))
  return {
    tasks({ requester, outcome, limit = limits.pageSize }) {
      const out: TaskRecord[] = []
      const all = [...tasks.values()]
      for (let i = all.length - 1; i >= 0 && out.length < Math.min(limit, limits.pageSize); i--) {
        const t = all[i]!
        if (requester !== undefined && t.requester?.toLowerCase() !== requester.toLowerCase()) continue
        if (outcome !== undefined && (outcome === 'pending' ? t.verdict !== null : t.verdict?.outcome !== outcome)) continue
        out.push(t)
      }
      return out
    },
    task: (taskId) => tasks.get(taskId.toLowerCase()),
    nodes: () => [...nodes.values()],
    epochs: () => [...epochs.values()].reverse(),
    series: () => ({ bucketMs: limits.seriesBucketMs, buckets: [...buckets.values()].sort((a, b) => a.at - b.at) }),
    stop: () => subscription.unsubscribe(),
  }
}
