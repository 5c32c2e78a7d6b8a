// Task certificate benchmark: the bytes a certificate takes in an epoch proposal and the time a
// committee member takes to check it (core/certificate.ts), for k = 3, 5 and 9 executors, side by
// side in one run:
//   - alone: every commit and reveal in a batch of its own (an idle node), each seal checked;
//   - in a proposal: executors' batches of 48 items (a busy node), so one seal serves 48 tasks;
//     bytes and time are per task, with the seals' signature checks shared across the proposal.
//
// Usage: npm run bench:certificate [-- --quick]   (tsx bench/certificate.ts [--quick])
//   --quick  fewer repetitions; results go to bench/results/quick/.
// Prints a table and writes bench/results/certificate.json and bench/results/certificate.md.
import { numberToHex } from 'viem'
import { certifyTasks } from '../src/core/batchCheck.ts'
import { checkTaskCertificate } from '../src/core/certificate.ts'
import type { TaskCertificate } from '../src/core/certificate.ts'
import { computeCommitment, signCommitBatch } from '../src/core/commit.ts'
import { contentId } from '../src/core/contentId.ts'
import { devnetDomain, hashTaskSpec } from '../src/core/eip712.ts'
import { encodeEpochProposal } from '../src/core/epochProposal.ts'
import { MAX_BATCH_ITEMS } from '../src/core/messages.ts'
import { signRevealBatch } from '../src/core/reveal.ts'
import { sealCommits, sealReveals } from '../src/core/seal.ts'
import { createNativeVerifier } from '../src/crypto/secp256k1.ts'
import { anchorAlone } from '../src/core/taskAnchor.ts'
import { signTaskSpec } from '../src/core/taskSpec.ts'
import type { Address } from '../src/core/types.ts'
import { makeSpec, requester, testAccount } from '../test/helpers/fixtures.ts'
import { machine, median, quickFlag, today, writeResults } from './lib/report.ts'

const quick = quickFlag('npm run bench:certificate [-- --quick]')
const REPEATS = quick ? 5 : 25
const KS = [3, 5, 9] as const

const executors = Array.from({ length: 9 }, (_, i) => testAccount(`bench-executor-${i}`))
const ranking: Address[] = executors.map((e) => e.address)
const rankingOf = () => ranking
// Every spec is anchored alone (a root of its own id), in block 0.
const anchorOf = () => ({ block: 0n, count: 1 })
/** The nodes' own verifier (native recovery), cold: no cache, so every check recovers. */
const verify = createNativeVerifier({ cacheSize: 0 })
const encoder = new TextEncoder()
const result = contentId(encoder.encode('result'))

/**
 * `tasks` certificates for k executors, each executor's commits and reveals signed in batches of
 * `batchSize` tasks.
 */
async function certificates(k: number, tasks: number, batchSize: number): Promise<TaskCertificate[]> {
  const specs = await Promise.all(
    Array.from({ length: tasks }, (_, i) => signTaskSpec(requester, makeSpec({ nonce: BigInt(i), policy: { kind: 'replicate', k, quorum: Math.floor(k / 2) + 1 } }), devnetDomain)),
  )
  const ids = specs.map((s) => hashTaskSpec(s.message, devnetDomain))
  const salt = (i: number) => numberToHex(i + 1, { size: 32 })
  const perExecutor = await Promise.all(
    executors.slice(0, k).map(async (executor) => {
      const commits = []
      const reveals = []
      for (let start = 0; start < tasks; start += batchSize) {
        const range = ids.slice(start, start + batchSize).map((taskId, j) => ({ taskId, i: start + j }))
        const c = range.map(({ taskId, i }) => ({ taskId, commitment: computeCommitment({ taskId, status: 'ok', resultHash: result, salt: salt(i), executor: executor.address }) }))
        const r = range.map(({ taskId, i }) => ({ taskId, status: 'ok' as const, resultHash: result, salt: salt(i) }))
        commits.push(...sealCommits(await signCommitBatch(executor, c, devnetDomain)))
        reveals.push(...sealReveals(await signRevealBatch(executor, r, devnetDomain)))
      }
      return { commits, reveals }
    }),
  )
  return specs.map((spec, i) => ({ spec: anchorAlone(spec, ids[i]!), commits: perExecutor.map((e) => e.commits[i]!), reveals: perExecutor.map((e) => e.reveals[i]!) }))
}

const emptyProposalBytes = encodeEpochProposal({ epoch: 0n, previous: new Map(), tasks: [] }).byteLength
async function proposalBytes(certs: TaskCertificate[]): Promise<number> {
  const { tasks } = await certifyTasks(certs, { domain: devnetDomain, verify, epoch: 0n, rankingOf, anchorOf })
  return encodeEpochProposal({ epoch: 0n, previous: new Map(), tasks: tasks.map(({ certificate, verdict }) => ({ certificate, verdict })) }).byteLength - emptyProposalBytes
}

async function timeChecks(certs: TaskCertificate[], shared: boolean): Promise<number> {
  const samples: number[] = []
  for (let r = 0; r < REPEATS; r++) {
    const verified = new Map()
    const start = performance.now()
    for (const certificate of certs) {
      const check = await checkTaskCertificate({ certificate, domain: devnetDomain, verify, rankingOf, anchorOf, ...(shared ? { verified } : {}) })
      if (check.kind !== 'valid' || check.verdict.outcome !== 'verified') throw new Error(`certificate did not check: ${JSON.stringify(check)}`)
    }
    samples.push(((performance.now() - start) * 1000) / certs.length)
  }
  return median(samples)
}

interface Row {
  k: number
  aloneBytes: number
  aloneMicros: number
  busyBytes: number
  busyMicros: number
}

const rows: Row[] = []
for (const k of KS) {
  const alone = await certificates(k, 4, 1)
  const busy = await certificates(k, MAX_BATCH_ITEMS, MAX_BATCH_ITEMS)
  rows.push({
    k,
    aloneBytes: (await proposalBytes(alone)) / alone.length,
    aloneMicros: await timeChecks(alone, false),
    busyBytes: (await proposalBytes(busy)) / busy.length,
    busyMicros: await timeChecks(busy, true),
  })
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const table = [
  '| k | alone: bytes | alone: check µs | in a proposal, 48-task batches: bytes per task | µs per task | time ratio |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.k} | ${fmt(r.aloneBytes)} | ${fmt(r.aloneMicros)} | ${fmt(r.busyBytes)} | ${fmt(r.busyMicros)} | ${(r.busyMicros / r.aloneMicros).toFixed(2)} |`),
].join('\n')
const markdown = `# Task certificates: size and check time

${today()}, ${machine()}, ${quick ? 'quick' : 'full'} mode; median of ${REPEATS} repetitions.

A certificate holds the signed spec, k sealed commits and k sealed reveals (a verified task, all
executors agreeing). "Alone": every item in a batch of its own, so each of its 2k seals is checked
(2k + 1 signature recoveries with the spec's). "In a proposal": executors signed 48 tasks per batch,
so each seal is written once per proposal and checked once for 48 tasks; bytes and time are per task.
Signatures are recovered natively (the nodes' verifier), with its cache off: a member that saw the
gossip has most of them cached and checks faster than this.
The time ratio is in-a-proposal over alone, measured side by side in this run.

${table}
`
console.log(markdown)
await writeResults('certificate', { quick, json: { date: today(), machine: machine(), mode: quick ? 'quick' : 'full', repeats: REPEATS, rows }, markdown })
