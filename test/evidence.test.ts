import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { keccak256, stringToBytes, toBytes } from 'viem'
import { createMemoryChain } from '../src/chain/memory/createMemoryChain.ts'
import type { MemoryChain } from '../src/chain/memory/createMemoryChain.ts'
import { withheldOf } from '../src/core/certificate.ts'
import type { TaskCertificate } from '../src/core/certificate.ts'
import { contentId } from '../src/core/contentId.ts'
import { devnetDomain, hashBatchProposal, hashBatchVouch, hashTaskSpec } from '../src/core/eip712.ts'
import { hashEpochBatch } from '../src/core/epochBatch.ts'
import { encodeEpochProposal, settleProposal } from '../src/core/epochProposal.ts'
import { encodeMessage } from '../src/core/messages.ts'
import { defaultParams } from '../src/core/params.ts'
import { signDigest } from '../src/core/signing.ts'
import { roundAggregator } from '../src/core/rounds.ts'
import { rankTask } from '../src/core/task.ts'
import { encodeVouchedTasks, seatedRoot } from '../src/core/vouch.ts'
import type { Address, BatchProposal, BatchVouch, Hex, Reveal, Verdict } from '../src/core/types.ts'
import { startNodeHost } from '../src/host/startNodeHost.ts'
import type { NodeHost } from '../src/host/startNodeHost.ts'
import { createMemoryHub } from '../src/net/memory/createMemoryHub.ts'
import type { MemoryHub } from '../src/net/memory/createMemoryHub.ts'
import { topics } from '../src/ports/network.ts'
import type { Network } from '../src/ports/network.ts'
import type { BlobStore } from '../src/ports/node.ts'
import type { ExecutionResult, Runtime } from '../src/ports/runtime.ts'
import { createMemoryBlobStore } from '../src/store/memory/createMemoryStores.ts'
import type { Sealed } from '../src/core/seal.ts'
import { sealedPlay } from './helpers/certificates.ts'
import { eventually } from './helpers/eventually.ts'
import { signedSpec } from './helpers/network.ts'
import { blsKeyOf, registerBlsKey, requester, testAccount } from './helpers/fixtures.ts'

// Verdicts and batches proven by signed evidence (issue "Verdicts and epoch batches proven by
// signed evidence"), through the real nodes and settlers on the in-memory chain: each attack the
// old protocol fell to, and what now becomes of it.

const STAKE = 1_000n * 10n ** 18n
const DISSENT_SLASH_BPS = 1_000n
const params = { ...defaultParams, commitWindowMs: 400, revealWindowMs: 400 }

const runtime = (lie = false): Runtime => ({
  name: 'wasm',
  execute: async ({ input }): Promise<ExecutionResult> => ({ status: 'ok', output: lie ? stringToBytes('a lie') : toBytes(keccak256(input)), fuelUsed: 1n }),
  close: async () => {},
})

/** A transport that does not send this node's reveals (it commits, then withholds), keeping them in `withheld`. */
function withholding(network: Network, withheld: Uint8Array[]): Network {
  return { ...network, publish: (topic, data) => (topic === topics.reveals ? (withheld.push(data), Promise.resolve()) : network.publish(topic, data)) }
}

interface Cluster {
  chain: MemoryChain
  hub: MemoryHub
  hosts: NodeHost[]
  /** The first-ranked aggregator of epoch 0: it runs a node but no settler, and proposes by hand. */
  attacker: ReturnType<typeof testAccount>
  attackerBlobs: BlobStore
  accounts: ReturnType<typeof testAccount>[]
  withholder: number | undefined
  /** The reveal batches the withholder did not send, as gossip bytes. */
  withheld: Uint8Array[]
}

const clusters: Cluster[] = []

/** Five equal stakers on the in-memory chain; with `forger`, the epoch's first aggregator settles nothing itself. */
async function startCluster(
  label: string,
  { forger = false, withholder, liars = [] }: { forger?: boolean; withholder?: number | 'not-aggregator'; liars?: readonly number[] } = {},
): Promise<Cluster> {
  const accounts = Array.from({ length: 5 }, (_, i) => testAccount(`${label}-${i}`))
  const chain = createMemoryChain({
    treasury: testAccount(`${label}-treasury`).address,
    domain: devnetDomain,
    parameters: { commitWindowMs: params.commitWindowMs, revealWindowMs: params.revealWindowMs, dissentSlashBps: Number(DISSENT_SLASH_BPS) },
    baseParams: params,
  })
  for (const account of accounts) {
    await registerBlsKey(chain, account)
    chain.stake(account.address, STAKE)
  }
  chain.deposit(requester.address, 10n ** 18n)
  const epoch = chain.openEpoch()
  const view = chain.snapshot(epoch)!
  const first = roundAggregator({ seed: view.seed, epoch, round: 0, candidates: view.eligibleNodes('wasm') })
  const attacker = accounts.find((a) => a.address === first)!
  // A withholder that is not the first aggregator: that one's proposal would carry the withholder's
  // own reveal, which its node holds (a late reveal is still evidence; see docs/protocol.md).
  const withholderIndex = withholder === 'not-aggregator' ? accounts.findIndex((a) => a !== attacker) : withholder
  const hub = createMemoryHub()
  const attackerBlobs = createMemoryBlobStore()
  const withheld: Uint8Array[] = []
  const hosts = await Promise.all(
    accounts.map((account, i) => {
      const network = hub.connect(`${label}-peer-${i}`)
      const forging = forger && account === attacker
      return startNodeHost({
        account,
        network: i === withholderIndex ? withholding(network, withheld) : network,
        chain,
        ...(forging ? { blobs: attackerBlobs } : { settlement: chain }),
        domain: devnetDomain,
        params,
        runtimes: { wasm: runtime(liars.includes(i)) },
        epochGraceMs: 0,
        settlerTimers: { takeoverMs: 300, pollMs: 10 },
      })
    }),
  )
  const cluster = { chain, hub, hosts, attacker, attackerBlobs, accounts, withholder: withholderIndex, withheld }
  clusters.push(cluster)
  return cluster
}

/** Submits a task at the first node and waits until every node decided it; returns the honest certificate. */
async function runTask(cluster: Cluster, i: number, policy?: { kind: 'sample'; ratePpm: number }): Promise<{ taskId: Hex; certificate: TaskCertificate; verdict: Verdict }> {
  const { signed, blobs } = await signedSpec(i, { epoch: cluster.chain.epoch(), ...(policy === undefined ? {} : { policy }), limits: { fuel: 1_000n, memoryPages: 1, outputBytes: 64 } })
  const taskId = hashTaskSpec(signed.message, devnetDomain)
  await cluster.hosts[0]!.node.submitTask(signed, blobs)
  const decided = () => cluster.hosts.map((h) => h.node.decidedTasks(signed.message.epoch).find((t) => t.verdict.taskId === taskId))
  await eventually(() => (decided().every((t) => t !== undefined) ? true : undefined))
  const own = decided()[0]!
  return { taskId, certificate: own.certificate, verdict: own.verdict }
}

/** Runs tasks until the cluster's withholder has held a seat (3 of 5 seats each; the draw's seed is a block): all of them, and those it was seated in. */
async function runUntilSeated(cluster: Cluster): Promise<{ tasks: Array<Awaited<ReturnType<typeof runTask>>>; seated: Array<Awaited<ReturnType<typeof runTask>>> }> {
  const address = cluster.accounts[cluster.withholder!]!.address
  const tasks: Array<Awaited<ReturnType<typeof runTask>>> = []
  const holdsSeat = (t: (typeof tasks)[number]): boolean => t.certificate.commits.some((c) => c.signer === address)
  for (let i = 0; !tasks.some(holdsSeat); i++) {
    assert.ok(i < 20, 'the withholder held a seat in one of 20 tasks')
    tasks.push(await runTask(cluster, 10 + i))
  }
  return { tasks, seated: tasks.filter(holdsSeat) }
}

/** Stake of each node after the epoch's penalties: the snapshot of an epoch opened after settlement. */
async function stakesNow(cluster: Cluster): Promise<Map<Address, bigint>> {
  const epoch = cluster.chain.openEpoch()
  const facts = await cluster.chain.epochFacts(epoch, [], cluster.accounts.map((a) => a.address))
  return new Map(cluster.accounts.map((a) => [a.address, facts.stakes.get(a.address) ?? 0n]))
}

/**
 * As epoch 0's first aggregator: publishes a proposal that settles `task` with the `claimed`
 * verdict, with a digest the batch of that verdict really has, and serves its blob. Returns the digest.
 */
async function forgeProposal(cluster: Cluster, task: { certificate: TaskCertificate; verdict: Verdict }): Promise<Hex> {
  const { digest, cid } = await proposalBlob(cluster, task)
  const message: BatchProposal = { epoch: 0n, round: 0, digest, tasks: cid }
  const signed = await signDigest(cluster.attacker, message, hashBatchProposal(message, devnetDomain))
  await cluster.hub.connect(`forger-${cid}`).publish(topics.batches, encodeMessage({ type: 'proposal', ...signed }))
  return digest
}

/** A proposal blob for epoch 0 settling `task` as claimed, served by the attacker's node, with the digest of its batch. */
async function proposalBlob(cluster: Cluster, task: { certificate: TaskCertificate; verdict: Verdict }): Promise<{ digest: Hex; cid: Hex }> {
  const epoch = 0n
  const spec = task.certificate.spec.message
  const withheld = withheldOf(task.certificate)
  const settled = { verdict: task.verdict, requester: spec.requester, fee: spec.fee, withheld }
  const facts = await cluster.chain.epochFacts(epoch, [spec.requester], [...task.verdict.dissenters, ...withheld])
  const { batch } = settleProposal({ epoch, previous: new Map(), tasks: [settled] }, facts)
  const cid = cluster.attackerBlobs.put(encodeEpochProposal({ epoch, previous: new Map(), tasks: [task] }))
  return { digest: hashEpochBatch(batch, devnetDomain), cid }
}

/** Gossips sealed reveals (batches of one) as their signers would: the old protocol took any validly signed reveal as evidence. */
async function gossipReveals(cluster: Cluster, reveals: readonly Sealed<Reveal>[]): Promise<void> {
  const net = cluster.hub.connect(`gossip-${reveals[0]!.seal.signature}`)
  for (const r of reveals) {
    await net.publish(topics.reveals, encodeMessage({ type: 'reveals', message: { reveals: [r.message] }, signer: r.signer, signature: r.seal.signature }))
  }
}

/** Ends epoch 0 with a forged proposal out first, and checks that the honest batch settles instead, signed by no one for the forgery. */
async function assertForgeryFails(cluster: Cluster, forged: { certificate: TaskCertificate; verdict: Verdict }, reason: string, honest: Verdict) {
  cluster.chain.openEpoch()
  const digest = await forgeProposal(cluster, forged)
  await eventually(async () => ((await cluster.chain.lastSettledEpoch()) === 0n ? true : undefined))
  assert.notEqual(await cluster.chain.settledDigest(0n), digest, 'the forged batch did not settle')
  const settlers = cluster.hosts.flatMap((h) => (h.settler === undefined ? [] : [h.settler]))
  await eventually(() => (settlers.every((s) => s.stats().epochsSettled === 1) ? true : undefined))
  for (const settler of settlers) {
    assert.equal(settler.stats().objections[reason], 1, `every honest member objected: ${reason}`)
    // The receipt every node serves is the honest verdict's.
    assert.deepEqual(settler.receipt(honest.taskId)?.executors, honest.executors)
  }
  // Nobody honest lost stake.
  for (const [node, stake] of await stakesNow(cluster)) assert.equal(stake, STAKE, `${node} kept its stake`)
}

describe('verdicts and batches proven by signed evidence', () => {
  after(async () => {
    for (const cluster of clusters.splice(0)) for (const host of cluster.hosts) await host.stop()
  })

  it('a reveal from an unstaked key proves nothing: the forged verdict is refused, the honest one settles', async () => {
    const cluster = await startCluster('unstaked', { forger: true })
    const honest = await runTask(cluster, 1)
    assert.equal(honest.verdict.outcome, 'verified')
    // Two throwaway keys commit to a lie and reveal it; the proposal counts them as the executors.
    const throwaway = [testAccount('throwaway-1'), testAccount('throwaway-2')]
    const lie = contentId(stringToBytes('a lie'))
    const plays = await Promise.all(throwaway.map((executor, i) => sealedPlay(honest.taskId, { executor, resultHash: lie }, keccak256(stringToBytes(`salt ${i}`)))))
    await gossipReveals(cluster, plays.map((p) => p.reveal))
    const certificate: TaskCertificate = { spec: honest.certificate.spec, commits: plays.map((p) => p.commit), reveals: plays.map((p) => p.reveal) }
    const verdict: Verdict = { taskId: honest.taskId, outcome: 'verified', resultHash: lie, executors: throwaway.map((t) => t.address), dissenters: [] }
    await assertForgeryFails(cluster, { certificate, verdict }, 'CERT_UNSEATED', honest.verdict)
  })

  it('a key counted twice as the agreeing executors, with the honest executors framed as dissenters, is refused', async () => {
    const cluster = await startCluster('duplicate', { forger: true })
    const honest = await runTask(cluster, 2)
    // The aggregator reveals a lie with its own key (ranked: with backups every node is), counts
    // itself twice, and the honest executors, whose signed reveals differ, as dissenters: the old
    // protocol's members saw a signed reveal behind every name and signed (80 % of the fee to the
    // liar, 10 % of each honest executor's stake slashed).
    const lie = contentId(stringToBytes('a lie'))
    const play = await sealedPlay(honest.taskId, { executor: cluster.attacker, resultHash: lie }, keccak256(stringToBytes('salt')))
    await gossipReveals(cluster, [play.reveal])
    const honestOnes = honest.certificate.commits.map((c) => c.signer).filter((s) => s !== cluster.attacker.address)
    const certificate: TaskCertificate = {
      spec: honest.certificate.spec,
      commits: [play.commit, play.commit, ...honest.certificate.commits.filter((c) => c.signer !== cluster.attacker.address)],
      reveals: [play.reveal, play.reveal, ...honest.certificate.reveals.filter((r) => r.signer !== cluster.attacker.address)],
    }
    const verdict: Verdict = { taskId: honest.taskId, outcome: 'verified', resultHash: lie, executors: [cluster.attacker.address, cluster.attacker.address], dissenters: honestOnes }
    await assertForgeryFails(cluster, { certificate, verdict }, 'CERT_DUPLICATE_SIGNER', honest.verdict)
  })

  it('a verdict its certificate does not give is refused: an aggregator framing an honest executor', async () => {
    const cluster = await startCluster('framing', { forger: true })
    const honest = await runTask(cluster, 3)
    const [winner, ...framed] = honest.verdict.executors
    const verdict: Verdict = { ...honest.verdict, executors: [winner!], dissenters: framed }
    await assertForgeryFails(cluster, { certificate: honest.certificate, verdict }, 'CERT_VERDICT_MISMATCH', honest.verdict)
  })

  it('a committee member that signs two batches of one epoch is proven to have equivocated, by the nodes that saw it', async () => {
    const cluster = await startCluster('equivocate', { forger: true })
    const honest = await runTask(cluster, 4)
    cluster.chain.openEpoch()
    // Two batches of epoch 0 that differ in one verdict, both signed by the same member, gossiped
    // as every member gossips its signature. Before, a signature carried only the digest: nobody
    // could rebuild the batches, and settlers dropped the second signature silently.
    const one = await proposalBlob(cluster, honest)
    const two = await proposalBlob(cluster, { ...honest, verdict: { ...honest.verdict, dissenters: honest.verdict.executors.slice(0, 1), executors: honest.verdict.executors.slice(1) } })
    const net = cluster.hub.connect('equivocator')
    for (const { digest, cid } of [one, two]) {
      const signature = (await blsKeyOf(cluster.attacker)).sign(digest)
      await net.publish(topics.batches, encodeMessage({ type: 'batch-signature', message: { epoch: 0n, round: 0, digest, tasks: cid }, signer: cluster.attacker.address, signature }))
    }
    await eventually(async () => ((await cluster.chain.isEquivocationPunished(0n, cluster.attacker.address)) ? true : undefined))
    await eventually(async () => ((await cluster.chain.lastSettledEpoch()) === 0n ? true : undefined))
    const proofs = cluster.hosts.reduce((sum, h) => sum + (h.settler?.stats().equivocationsProven ?? 0), 0)
    assert.equal(proofs, 1, 'one proof landed; the other watchers found it punished or were refused')
    const stakes = await stakesNow(cluster)
    assert.equal(stakes.get(cluster.attacker.address), STAKE - STAKE / 10n, 'the governed 10 % of its stake')
    for (const [node, stake] of stakes) if (node !== cluster.attacker.address) assert.equal(stake, STAKE)
  })

  it('jailed stake does not hold the threshold hostage: with two of five members jailed, the other three settle', async () => {
    const cluster = await startCluster('jailed', { forger: true })
    const honest = await runTask(cluster, 5)
    cluster.chain.openEpoch()
    // Two members equivocate over epoch 0 and are proven to (slashed 10 %, jailed), as above.
    const cheaters = [cluster.attacker, cluster.accounts.find((a) => a !== cluster.attacker)!]
    const one = await proposalBlob(cluster, honest)
    const two = await proposalBlob(cluster, { ...honest, verdict: { ...honest.verdict, dissenters: honest.verdict.executors.slice(0, 1), executors: honest.verdict.executors.slice(1) } })
    const net = cluster.hub.connect('equivocators')
    for (const cheater of cheaters) {
      for (const { digest, cid } of [one, two]) {
        const signature = (await blsKeyOf(cheater)).sign(digest)
        await net.publish(topics.batches, encodeMessage({ type: 'batch-signature', message: { epoch: 0n, round: 0, digest, tasks: cid }, signer: cheater.address, signature }))
      }
    }
    for (const cheater of cheaters) await eventually(async () => ((await cluster.chain.isEquivocationPunished(0n, cheater.address)) ? true : undefined))
    // Epochs 0 and 1 keep the committees of their snapshots, taken before the jails.
    cluster.chain.openEpoch()
    await eventually(async () => ((await cluster.chain.lastSettledEpoch()) === 1n ? true : undefined))
    // Epoch 2's snapshot has the three honest nodes' stake only. Before, the jailed 1.8 stakes still
    // counted: ⌈2/3 · 4.8⌉ = 3.2 stakes needed of the 3 that could sign, and settlement stopped here.
    const task = await runTask(cluster, 6)
    assert.equal(task.verdict.outcome, 'verified')
    for (const cheater of cheaters) assert.equal(await cluster.chain.committeeWeight(2n, cheater.address), 0n)
    assert.equal(await cluster.chain.requiredWeight(2n), 2n * STAKE, '⌈2/3 · 3 stakes⌉')
    cluster.chain.openEpoch()
    await eventually(async () => ((await cluster.chain.lastSettledEpoch()) === 2n ? true : undefined))
    const stakes = await stakesNow(cluster)
    for (const [node, stake] of stakes) assert.equal(stake, cheaters.some((c) => c.address === node) ? STAKE - STAKE / 10n : STAKE)
  })

  it('a seat holder that commits and never reveals is slashed and jailed; the task is still verified', async () => {
    const cluster = await startCluster('withhold', { withholder: 'not-aggregator' })
    const address = cluster.accounts[cluster.withholder!]!.address
    const { tasks, seated } = await runUntilSeated(cluster)
    for (const task of tasks) assert.equal(task.verdict.outcome, 'verified', 'two honest reveals reach the quorum')
    cluster.chain.openEpoch()
    await eventually(async () => ((await cluster.chain.lastSettledEpoch()) === 0n ? true : undefined))
    // Its node objected to the batch that settled (it holds its own reveal, which the batch leaves
    // out), so it never checked that batch; it adopts the batch the chain took all the same, and
    // serves the balances the chain holds, on which its next proposal would build.
    const withholderSettler = cluster.hosts[cluster.withholder!]!.settler!
    assert.ok((withholderSettler.stats().objections['omits-reveal'] ?? 0) >= 1, 'the withholder objected to the settled batch')
    // The requester was charged for every task: its balance is in the tree whoever executed.
    await eventually(() => withholderSettler.balanceProof(requester.address))
    assert.deepEqual(withholderSettler.balanceProof(requester.address), cluster.hosts.find((_h, i) => i !== cluster.withholder)!.settler!.balanceProof(requester.address))
    const stakes = await stakesNow(cluster)
    const slash = (STAKE * DISSENT_SLASH_BPS * BigInt(seated.length)) / 10_000n
    assert.equal(stakes.get(address), STAKE - slash)
    for (const [node, stake] of stakes) if (node !== address) assert.equal(stake, STAKE, 'no honest node is penalised')
    assert.equal(cluster.chain.snapshot(cluster.chain.epoch())!.isEligible(address), false, 'the withholder is jailed')
  })

  it('a reveal that comes after the deadline is still evidence: its executor is paid, not slashed as a withholder', async () => {
    // The same seat holder as above, whose reveals reach the others only once they decided (its
    // event loop stalled, say). Nodes that decided without a reveal took it as it came; before,
    // they counted a withholder while nodes that had it in time did not, and the epoch stalled.
    const cluster = await startCluster('late', { withholder: 'not-aggregator' })
    const address = cluster.accounts[cluster.withholder!]!.address
    const { seated } = await runUntilSeated(cluster)
    const others = cluster.hosts.filter((_h, i) => i !== cluster.withholder)
    const revealed = (host: NodeHost) =>
      seated.every((t) => host.node.decidedTasks(0n).find((d) => d.verdict.taskId === t.taskId)!.certificate.reveals.some((r) => r.signer === address))
    assert.ok(others.every((host) => !revealed(host)), 'the others decided without its reveals')
    const late = cluster.hub.connect('late-relay')
    for (const data of cluster.withheld.splice(0)) await late.publish(topics.reveals, data)
    await eventually(() => (others.every(revealed) ? true : undefined))
    assert.ok(others.every((host) => host.node.stats().lateReveals === seated.length))
    cluster.chain.openEpoch()
    await eventually(async () => ((await cluster.chain.lastSettledEpoch()) === 0n ? true : undefined))
    const stakes = await stakesNow(cluster)
    for (const [node, stake] of stakes) assert.equal(stake, STAKE, `${node} keeps its stake`)
    assert.equal(cluster.chain.snapshot(cluster.chain.epoch())!.isEligible(address), true, 'the late executor is not jailed')
  })

  it('a 2–1 split goes to arbitration: only the side arbitration proves wrong is slashed, never the outvoted honest seat', async () => {
    // Two colluders with the same wrong answer (their nodes follow the protocol; only their runtime lies).
    const colluders = [3, 4]
    const split = await startCluster('split', { liars: colluders })
    const colluding = new Set(colluders.map((i) => split.accounts[i]!.address))
    const held = (t: Awaited<ReturnType<typeof runTask>>) => t.certificate.commits.filter((c) => colluding.has(c.signer)).length
    // Tasks until the coalition held two of a task's three seats (a majority of them) and one.
    const tasks: Array<Awaited<ReturnType<typeof runTask>>> = []
    for (let i = 0; !(tasks.some((t) => held(t) === 2) && tasks.some((t) => held(t) === 1)); i++) {
      assert.ok(i < 40, 'the coalition held two seats of one task and one of another within 40 tasks')
      tasks.push(await runTask(split, 40 + i))
    }
    const penalised = new Map<Address, number>()
    for (const task of tasks) {
      assert.equal(task.verdict.outcome, 'verified', 'the honest result wins every task')
      if (held(task) === 0) {
        assert.equal(task.certificate.arbitration, undefined, 'agreeing seats need no arbitration')
        assert.deepEqual(task.verdict.dissenters, [])
        continue
      }
      // The disagreement was arbitrated: every node that did not commit was seated as an arbiter,
      // a colluder among them lied again, and every liar, seat or arbiter, and only they, dissent.
      assert.equal(task.certificate.arbitration?.commits.length, split.accounts.length - 3)
      const signers = [...task.certificate.commits, ...task.certificate.arbitration!.commits].map((c) => c.signer)
      const lied = signers.filter((signer) => colluding.has(signer))
      assert.deepEqual(new Set(task.verdict.dissenters), new Set(lied), 'the liars, and only they, dissent')
      for (const liar of lied) penalised.set(liar, (penalised.get(liar) ?? 0) + 1)
    }
    split.chain.openEpoch()
    await eventually(async () => ((await split.chain.lastSettledEpoch()) === 0n ? true : undefined))
    const stakes = await stakesNow(split)
    for (const [node, stake] of stakes) {
      const times = penalised.get(node) ?? 0
      // A node loses dissentSlashBps of its snapshot stake per fault, and never more than all of it.
      const slash = (STAKE * DISSENT_SLASH_BPS * BigInt(times)) / 10_000n
      assert.equal(stake, slash < STAKE ? STAKE - slash : 0n, `${node} lost ${times} dissent slashes`)
    }
    // In the 2–1 task the honest seat was the minority; it kept its stake all the same.
    const minority = tasks.find((t) => held(t) === 2)!.certificate.commits.find((c) => !colluding.has(c.signer))!.signer
    assert.equal(stakes.get(minority), STAKE)
  })

  it('an executor that lies, is audited and then withholds loses stake as a caught liar would', async () => {
    const liar = 0
    const cluster = await startCluster('audit', { withholder: liar, liars: [liar] })
    const address = cluster.accounts[liar]!.address
    // Every sampled task is audited (rate 100 %); find one the liar executes. It is the executor of
    // a fifth of them: 20 tries missed it 1.2 % of the time (a CI run did), 60 miss it 1.5 · 10⁻⁶ of the time.
    let task
    for (let i = 0; task === undefined; i++) {
      assert.ok(i < 60, 'the liar executed one of 60 sampled tasks')
      const t = await runTask(cluster, 20 + i, { kind: 'sample', ratePpm: 1_000_000 })
      if (t.certificate.commits[0]?.signer === address) task = t
    }
    assert.equal(task.verdict.outcome, 'unresolved', 'one honest reveal cannot verify an audited task')
    cluster.chain.openEpoch()
    await eventually(async () => ((await cluster.chain.lastSettledEpoch()) === 0n ? true : undefined))
    const stakes = await stakesNow(cluster)
    assert.ok(stakes.get(address)! < STAKE, 'withholding after the audit cost stake')
    for (const [node, stake] of stakes) if (node !== address) assert.equal(stake, STAKE, 'the auditor and everyone else keep theirs')
  })

  it('a task nobody honest saw, seated with the aggregator as a backup and vouched for by it alone, is never signed', async () => {
    const cluster = await startCluster('unwatched', { forger: true })
    const view = cluster.chain.snapshot(0n)!
    // The requester colludes with epoch 0's first aggregator: a one-seat spec whose ranking puts the
    // aggregator behind the first seat, given to the aggregator alone. It commits to a lie and
    // reveals it; only a member that saw the spec could tell the first seat never had its chance.
    const lie = contentId(stringToBytes('a lie'))
    let hidden: Awaited<ReturnType<typeof signedSpec>>['signed'] | undefined
    for (let i = 100; hidden === undefined; i++) {
      assert.ok(i < 200, 'a nonce ranks the aggregator as a backup')
      const { signed } = await signedSpec(i, { epoch: 0n, policy: { kind: 'replicate', k: 1, quorum: 1 } })
      const taskId = hashTaskSpec(signed.message, devnetDomain)
      const ranking = rankTask({ view, taskId, spec: signed.message, draw: cluster.chain.blockHash(signed.message.drawBlock)!, backups: params.backups })
      if (ranking.indexOf(cluster.attacker.address) >= 1) hidden = signed
    }
    const taskId = hashTaskSpec(hidden.message, devnetDomain)
    const play = await sealedPlay(taskId, { executor: cluster.attacker, resultHash: lie }, keccak256(stringToBytes('hidden salt')))
    const certificate: TaskCertificate = { spec: hidden, commits: [play.commit], reveals: [play.reveal] }
    const verdict: Verdict = { taskId, outcome: 'verified', resultHash: lie, executors: [cluster.attacker.address], dissenters: [] }
    cluster.chain.openEpoch()
    const digest = await forgeProposal(cluster, { certificate, verdict })
    // The aggregator vouches for its task, as a member that saw the spec would: a fifth of the weight.
    const vouch: BatchVouch = { epoch: 0n, round: 0, digest, seated: seatedRoot([taskId]), tasks: encodeVouchedTasks([taskId], new Set([taskId])) }
    const signed = await signDigest(cluster.attacker, vouch, hashBatchVouch(vouch, devnetDomain))
    await cluster.hub.connect('voucher').publish(topics.batches, encodeMessage({ type: 'vouch', ...signed }))
    await eventually(async () => ((await cluster.chain.lastSettledEpoch()) === 0n ? true : undefined))
    assert.notEqual(await cluster.chain.settledDigest(0n), digest, 'the hidden task’s batch did not settle')
    const settlers = cluster.hosts.flatMap((h) => (h.settler === undefined ? [] : [h.settler]))
    await eventually(() => (settlers.every((s) => s.stats().epochsSettled === 1) ? true : undefined))
    for (const settler of settlers) {
      assert.equal(settler.stats().objections['unknown-task'], 1, 'every honest member held back for the task it never saw')
      assert.equal(settler.stats().signedOnVouches, 0, 'and never signed it on the aggregator’s word')
    }
    for (const [node, stake] of await stakesNow(cluster)) assert.equal(stake, STAKE, `${node} kept its stake`)
  })
})

