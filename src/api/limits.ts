// Every bound the HTTP API keeps, in one place (docs/api.md, docs/operations.md).

/**
 * How much submission work one client (a remote address) may cause: submissions in flight at once
 * (each holds up to a whole body in memory while its spec is checked), and a token bucket of
 * submissions per second. Beyond either the API answers 429 with `retry-after`, before reading the
 * body (docs/operations.md).
 */
export interface SubmissionLimits {
  /** Submissions of one client whose body is being read or whose spec is being checked. */
  concurrent: number
  /** Submissions per second one client may sustain. */
  perSecond: number
  /** Submissions one client may make at once after being idle (the bucket's size). */
  burst: number
}

export const defaultSubmissionLimits: Readonly<SubmissionLimits> = Object.freeze({ concurrent: 16, perSecond: 100, burst: 200 })

/** Clients whose submission bucket is kept; beyond it the longest idle are forgotten (a forgotten client starts with a full bucket). */
export const MAX_SUBMISSION_CLIENTS = 10_000

/** Submissions whose verdict is awaited for the latency histogram; the oldest are dropped beyond it. */
export const MAX_TRACKED_TASKS = 10_000

/** Bounds of the event stream (`GET /v1/events`). */
export interface EventStreamLimits {
  /** Events kept for `Last-Event-ID` resumption; older ones are gone (the stream says so with a `stream.gap` event). */
  bufferSize: number
  /** Open streams one client (remote address) may hold; beyond it 429 `API_TOO_MANY_STREAMS`. */
  streamsPerClient: number
  /** Open streams of all clients together; beyond it 503 `API_TOO_MANY_STREAMS`. */
  maxStreams: number
  /** Bytes a slow stream may leave unsent before it is closed (the client resumes with `Last-Event-ID`). */
  maxQueuedBytes: number
  /** A comment line is sent this often on an idle stream, so proxies keep it open. */
  heartbeatMs: number
  /** What a client waits before reconnecting (`retry:` field), in ms. */
  retryMs: number
}

export const defaultEventStreamLimits: Readonly<EventStreamLimits> = Object.freeze({
  bufferSize: 4_096,
  streamsPerClient: 8,
  maxStreams: 256,
  maxQueuedBytes: 1024 * 1024,
  heartbeatMs: 15_000,
  retryMs: 1_000,
})

/** Tasks whose requester the event hub remembers, so that commits and reveals can be filtered by requester. */
export const MAX_EVENT_TASKS = 20_000

/** What the explorer's read-only routes keep and return. */
export const explorerLimits = Object.freeze({
  /** Recent tasks kept for the live feed and the task pages. */
  tasks: 2_000,
  /** Recent epochs kept for the epochs page. */
  epochs: 128,
  /** Nodes tracked (seats, signers, slashes seen). */
  nodes: 1_024,
  /** Tasks one `GET /v1/explorer/tasks` returns at most. */
  pageSize: 500,
  /** Width of one bucket of the throughput and latency series, in ms. */
  seriesBucketMs: 5_000,
  /** Buckets kept in the series. */
  seriesBuckets: 360,
})
