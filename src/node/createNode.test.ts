import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes, toBytes } from 'viem'
import { withheldOf } from '../core/certificate.ts'
import { signChallenge } from '../core/challenge.ts'
import { signCommitBatch } from '../core/commit.ts'
import { contentId } from '../core/contentId.ts'
import { devnetDomain } from '../core/eip712.ts'
import { SpecRejectedError } from '../core/errors.ts'
import { encodeMessage } from '../core/messages.ts'
import { defaultParams } from '../core/params.ts'
import { rankTask } from '../core/task.ts'
import type { Address, Hex } from '../core/types.ts'
import { topics } from '../ports/network.ts'
import type { ExecutionRequest, ExecutionResult, Runtime } from '../ports/runtime.ts'
import { eventually } from '../../test/helpers/eventually.ts'
import { testAccount, testVrfKey } from '../../test/helpers/fixtures.ts'
import { createNetwork, signedSpec, submitAndDecide, verdictsOf, waitUntil } from '../../test/helpers/network.ts'
import { createManualClock, systemClock } from './clock.ts'
import { defaultHeldLimits } from './gossipIntake.ts'
import type { NodeStats } from './veritaskNode.ts'

// Node-level tests with stub runtimes passed through the constructor: the protocol, not WebAssembly.

/** Output = keccak256(input): deterministic, so honest nodes agree. */
const honest: Runtime = {
  name: 'wasm',
  execute: async ({ input }: ExecutionRequest): Promise<ExecutionResult> => ({ status: 'ok', output: toBytes(keccak256(input)), fuelUsed: 1n }),
  close: async () => {},
}
const liar: Runtime = { ...honest, execute: async () => ({ status: 'ok', output: stringToBytes('a lie'), fuelUsed: 1n }) }
/** Never finishes: an executor that went offline after accepting work. */
const offline: Runtime = { ...honest, execute: () => new Promise<never>(() => {}) }

describe('node: replicate end to end on the memory transport', () => {
  it('verifies tasks, every node reaches the same verdict, and gossip is 1 + 2k messages per task', async () => {
    const net = await createNetwork({ runtimes: () => honest })
    try {
      for (let i = 0; i < 6; i++) {
        const task = await signedSpec(i)
        const { taskId: id, verdicts } = await submitAndDecide(net, i % 5, task)
        const input = task.input
        for (const v of verdicts) assert.deepEqual(v, verdicts[0])
        assert.equal(verdicts[0]!.outcome, 'verified')
        assert.equal(verdicts[0]!.resultHash, contentId(toBytes(keccak256(input))))
        assert.equal(verdicts[0]!.executors.length, 3)
        // The result is served by content id once revealed, by an executor and by the gateway.
        const holder = net.nodes.find((n) => n.address === verdicts[0]!.executors[0])!
        assert.deepEqual(holder.getBlob(verdicts[0]!.resultHash), toBytes(keccak256(input)))
        const gateway = net.nodes[i % 5]!
        await waitUntil(() => gateway.getBlob(verdicts[0]!.resultHash) !== undefined)
        assert.deepEqual(gateway.getBlob(verdicts[0]!.resultHash), toBytes(keccak256(input)))
        assert.equal(net.nodes[0]!.getTask(id)?.phase, 'decided')
      }
      const published = net.nodes.reduce((sum, _n, i) => sum + net.hub.statsOf(`peer-${i}`).messagesPublished, 0)
      assert.equal(published, 6 * (1 + 2 * 3))
    } finally {
      await net.stop()
    }
  })

  it('outvotes a lying executor and names it a dissenter', async () => {
    const liarIndex = 2
    const net = await createNetwork({ runtimes: (i) => (i === liarIndex ? liar : honest) })
    try {
      let sawLiar = false
      for (let i = 0; i < 8; i++) {
        const task = await signedSpec(i)
        const input = task.input
        const {
          verdicts: [v],
        } = await submitAndDecide(net, 0, task)
        assert.equal(v!.outcome, 'verified')
        assert.equal(v!.resultHash, contentId(toBytes(keccak256(input))))
        assert.ok(!v!.executors.includes(net.accounts[liarIndex]!.address))
        if (v!.dissenters.includes(net.accounts[liarIndex]!.address)) sawLiar = true
      }
      assert.ok(sawLiar, 'the liar should have been drawn as an executor at least once in 8 tasks')
    } finally {
      await net.stop()
    }
  })

  it('replaces an offline executor with a backup after the commit deadline', async () => {
    const clock = createManualClock(1_000_000)
    const offlineIndex = 0
    const net = await createNetwork({ runtimes: (i) => (i === offlineIndex ? offline : honest), clock })
    const offlineAddress: Address = net.accounts[offlineIndex]!.address
    try {
      // Find a task for which the offline node is an executor.
      for (let i = 0; ; i++) {
        const { signed, blobs } = await signedSpec(i, {}, { now: clock.now() })
        let id: Hex | undefined
        const all = verdictsOf(net.nodes, () => id)
        id = await net.nodes[1]!.submitTask(signed, blobs)
        const seated = net.nodes[1]!.getTask(id)?.seats.includes(offlineAddress) ?? false
        if (seated) {
          // The two honest executors commit; the offline one never does.
          await waitUntil(() => net.nodes.every((n) => n.getTask(id!)?.committed.length === 2))
          clock.advance(defaultParams.commitWindowMs)
          const verdicts = await all
          for (const v of verdicts) assert.deepEqual(v, verdicts[0])
          assert.equal(verdicts[0]!.outcome, 'verified')
          assert.ok(!verdicts[0]!.executors.includes(offlineAddress))
          assert.equal(verdicts[0]!.executors.length, 3, 'a backup filled the empty seat')
          return
        }
        await all
        assert.ok(i < 20, 'the offline node should be drawn within 20 tasks')
      }
    } finally {
      await net.stop()
    }
  })
})

describe('node: a commit its own deadline refused', () => {
  it('is revealed all the same: the peers that took it in time do not count a withholder', { timeout: 30_000 }, async () => {
    // The first executor to send its commit stalls just before it goes out, long enough for its
    // own commit deadline to pass: it seats a backup and refuses its own commit, while its peers
    // took the commit in time. Reproduced on an overloaded devnet: the node never revealed, and
    // its peers slashed an honest, merely slow node as a withholder.
    const offsets = [0, 0, 0, 0, 0]
    let slow: number | undefined
    const net = await createNetwork({
      runtimes: () => honest,
      clockOf: (i) => ({ now: () => Date.now() + offsets[i]!, setTimer: systemClock.setTimer }),
      wrap: (i, network) => ({
        ...network,
        publish: async (topic, data) => {
          if (topic === topics.commits && slow === undefined) {
            slow = i
            offsets[i] = defaultParams.commitWindowMs + 1
          }
          return network.publish(topic, data)
        },
      }),
    })
    try {
      const task = await signedSpec(8)
      let taskId: Hex | undefined
      const peers = () => net.nodes.filter((_n, i) => i !== slow)
      const verdicts = verdictsOf(net.nodes, () => taskId)
      taskId = await net.nodes[0]!.submitTask(task.signed, task.blobs)
      await verdicts
      const slowAddress = net.accounts[slow!]!.address
      const certificateAt = (node: (typeof net.nodes)[number]) => node.decidedTasks(0n).find((t) => t.verdict.taskId === taskId)!.certificate
      // Its peers counted its commit; its own view did not.
      for (const peer of peers()) assert.ok(certificateAt(peer).commits.some((c) => c.signer === slowAddress))
      assert.ok(!certificateAt(net.nodes[slow!]!).commits.some((c) => c.signer === slowAddress))
      // Its reveal reaches every peer, in time or as a late reveal, and nobody counts it a withholder.
      await eventually(() => (peers().every((peer) => certificateAt(peer).reveals.some((r) => r.signer === slowAddress)) ? true : undefined))
      for (const peer of peers()) assert.deepEqual(withheldOf(certificateAt(peer)), [])
    } finally {
      await net.stop()
    }
  })
})

describe('node: bad input', () => {
  it('rejects malformed, oversized, forged, unassigned, replayed and wrong-epoch messages, counts them, and keeps working', async () => {
    const net = await createNetwork({ runtimes: () => honest })
    try {
      const attacker = net.hub.connect('mallory')
      const task = await signedSpec(1)
      const { signed } = task
      // Forged: the spec is changed after signing.
      const forged = { ...signed, message: { ...signed.message, fee: 1n } }
      // A commit from an account that holds no seat (not even a staked node).
      const stranger = testAccount('stranger')
      const taskId = keccak256(stringToBytes('whatever'))
      const unassigned = await signCommitBatch(stranger, [{ taskId, commitment: taskId }], devnetDomain)
      const rejectedBefore = net.hub.rejectionsBy('mallory')
      await attacker.publish(topics.specs, new TextEncoder().encode('{"not": "a message"'))
      await attacker.publish(topics.specs, new Uint8Array(defaultParams.maxMessageBytes + 1))
      await attacker.publish(topics.specs, encodeMessage({ type: 'spec', ...forged }))
      await attacker.publish(topics.commits, encodeMessage({ type: 'commits', ...unassigned, signature: `0x${'22'.repeat(65)}` }))
      await waitUntil(() => net.hub.rejectionsBy('mallory') - rejectedBefore >= 4 * net.nodes.length)
      const codes = net.nodes[0]!.stats().rejected
      assert.equal(codes.MESSAGE_MALFORMED, 1)
      assert.equal(codes.MESSAGE_TOO_LARGE, 1)
      assert.equal(codes.SPEC_BAD_SIGNATURE, 1)
      assert.equal(codes.COMMIT_BAD_SIGNATURE, 1)
      assert.equal(net.nodes[0]!.stats().specsAccepted, 0)

      // The network still verifies the genuine task afterwards.
      const { verdicts } = await submitAndDecide(net, 0, task)
      assert.equal(verdicts[0]!.outcome, 'verified')

      // Replayed: the same signed spec again opens no second task. A spec for an epoch nobody has
      // opened is refused too.
      const future = (await signedSpec(2, { epoch: 7n })).signed
      const before = net.hub.rejectionsBy('mallory')
      await attacker.publish(topics.specs, encodeMessage({ type: 'spec', ...signed }))
      await attacker.publish(topics.specs, encodeMessage({ type: 'spec', ...future }))
      await waitUntil(() => (net.nodes[0]!.stats().rejected.SPEC_WRONG_EPOCH ?? 0) === 1 && (net.nodes[0]!.stats().rejected.SPEC_DUPLICATE ?? 0) === 1)
      assert.equal(net.hub.rejectionsBy('mallory'), before, 'a replay is ignored, not held against the relay')
      assert.equal(net.nodes[0]!.stats().specsAccepted, 1)
    } finally {
      await net.stop()
    }
  })

  it('goes on with a task when a challenge it held early is refused once the challenge phase opens', { timeout: 30_000 }, async () => {
    // Reproduced under load: a challenge that came during the commit phase was held, refused when
    // the phase opened (here: the verifier's own key on the wrong commitment), and the node
    // stopped there: the verifier never sent its own challenge, and the task waited for a
    // deadline. The clock stands still here, so the task must decide without any deadline passing.
    const clock = createManualClock(Date.now())
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    const gated: Runtime = { ...honest, execute: async (request) => (await gate, honest.execute(request)) }
    const net = await createNetwork({ runtimes: () => gated, clock })
    try {
      const task = await signedSpec(7, { policy: { kind: 'replicate', k: 3, quorum: 2, auditPpm: 1_000_000 } })
      let taskId: Hex | undefined
      const verdicts = verdictsOf(net.nodes, () => taskId)
      taskId = await net.nodes[0]!.submitTask(task.signed, task.blobs)
      await waitUntil(() => net.nodes.every((n) => n.getTask(taskId!) !== undefined))
      // All three executors commit, so the verifier is the node ranked right after them.
      const ranking = rankTask({ view: net.chain.snapshot(0n)!, taskId, spec: task.signed.message, draw: net.chain.blockHash(1n)!, backups: defaultParams.backups })
      const index = net.accounts.findIndex((a) => a.address === ranking[3])
      const stray = await signChallenge(net.accounts[index]!, testVrfKey(`node-${index}`), { taskId, commitment: taskId }, devnetDomain)
      const before = net.nodes.map((_n, i) => net.hub.statsOf(`peer-${i}`).messagesReceived)
      await net.hub.connect('stray').publish(topics.challenges, encodeMessage({ type: 'challenge', ...stray }))
      // Every node took the stray challenge while still committing (the executors wait on the gate).
      await waitUntil(() => net.nodes.every((_n, i) => net.hub.statsOf(`peer-${i}`).messagesReceived > before[i]!))
      assert.ok(net.nodes.every((n) => n.getTask(taskId!)?.phase === 'commit'))
      release()
      const decided = await verdicts
      for (const v of decided) assert.deepEqual(v, decided[0])
      assert.equal(decided[0]!.outcome, 'verified')
      // The drawn verifier's own challenge decided the audit on every node, and the stray was refused.
      for (const node of net.nodes) {
        assert.equal(node.decidedTasks(0n)[0]!.certificate.challenge?.signer, ranking[3])
        assert.notEqual(node.decidedTasks(0n)[0]!.certificate.challenge?.message.commitment, taskId)
        assert.equal(node.stats().rejected.CHALLENGE_MISMATCH, 1)
      }
    } finally {
      await net.stop()
    }
  })

  it('rejects a validly signed commit from a node that holds no seat', async () => {
    // Every executor is stuck, so the task stays in its commit phase while the stranger commits.
    const net = await createNetwork({ runtimes: () => offline })
    try {
      const { signed, blobs } = await signedSpec(4)
      const taskId = await net.nodes[0]!.submitTask(signed, blobs)
      const stranger = testAccount('stranger')
      const commit = await signCommitBatch(stranger, [{ taskId, commitment: taskId }], devnetDomain)
      const attacker = net.hub.connect('stranger')
      await attacker.publish(topics.commits, encodeMessage({ type: 'commits', ...commit }))
      // A node with the task open rejects it; one still verifying the spec does not even hold it,
      // as the stranger is not staked. Either way exactly once per node, and nothing is held.
      const refusals = (n: (typeof net.nodes)[number]) => (n.stats().rejected.COMMIT_NOT_ASSIGNED ?? 0) + (n.stats().rejected.HELD_NOT_STAKED ?? 0)
      await waitUntil(() => net.nodes.every((n) => refusals(n) === 1))
      assert.ok(net.hub.rejectionsBy('stranger') >= 1)
      assert.ok(net.nodes.every((n) => n.stats().heldMessages === 0))
      assert.deepEqual(net.nodes[1]!.getTask(taskId)?.committed, [])
    } finally {
      await net.stop()
    }
  })

  it('holds at most its share of a staked key’s flood of commits for unknown tasks, mutes the flooding peer, and keeps verifying', async () => {
    // The reproduced attack: 86 batches of 48 bogus commits, more than the whole held buffer,
    // from one key. That key is staked here (a node's own), so the stake check does not stop it.
    const heldLimits = { ...defaultHeldLimits, muteAfter: 1_024 }
    const net = await createNetwork({ runtimes: () => honest, heldLimits })
    try {
      const flooder = net.accounts[0]!
      const attacker = net.hub.connect('flooder')
      const bogus = (b: number, i: number) => keccak256(stringToBytes(`bogus ${b}/${i}`))
      for (let b = 0; b < 86; b++) {
        const commits = Array.from({ length: 48 }, (_, i) => ({ taskId: bogus(b, i), commitment: bogus(b, i) }))
        await attacker.publish(topics.commits, encodeMessage({ type: 'commits', ...(await signCommitBatch(flooder, commits, devnetDomain)) }))
      }
      const sent = 86 * 48
      // Each commit is held, refused for its signer's full room, or dropped unread with its muted batch.
      const accounted = (stats: NodeStats) => stats.heldMessages + (stats.rejected.HELD_SIGNER_LIMIT ?? 0) + 48 * (stats.rejected.PEER_MUTED ?? 0)
      await waitUntil(() => net.nodes.every((n) => accounted(n.stats()) === sent))
      for (const node of net.nodes) {
        const stats = node.stats()
        assert.equal(stats.heldMessages, heldLimits.perSigner)
        // Muted once its refusals reached muteAfter: the rest of the flood is dropped before decoding.
        const refused = stats.rejected.HELD_SIGNER_LIMIT!
        assert.ok(refused >= heldLimits.muteAfter && refused < heldLimits.muteAfter + 48, `${refused} refused before the mute`)
        assert.ok((stats.rejected.PEER_MUTED ?? 0) > 0)
        assert.equal(stats.mutedPeers, 1)
      }
      // Held messages are not relayed, and a message is refused only by being ignored: no peer is penalised for it.
      assert.equal(net.hub.rejectionsBy('flooder'), 0)
      // The other keys' room is untouched, and the flooding key's own node is not muted (only the
      // peer that sent the flood is): an honest task verifies, its commits and reveals go through.
      const { verdicts } = await submitAndDecide(net, 1, await signedSpec(30))
      assert.equal(verdicts[0]!.outcome, 'verified')
    } finally {
      await net.stop()
    }
  })

  it('refuses a task the escrow cannot cover, and reserves nothing for it', async () => {
    const net = await createNetwork({ runtimes: () => honest, escrow: 1_500n })
    try {
      const first = await signedSpec(1)
      await submitAndDecide(net, 0, first)
      const reserved = net.nodes[0]!.stats().feesReserved
      assert.equal(reserved, 1_000n)
      const second = await signedSpec(2)
      await assert.rejects(
        net.nodes[0]!.submitTask(second.signed, second.blobs),
        (e: unknown) => e instanceof SpecRejectedError && e.code === 'SPEC_INSUFFICIENT_ESCROW',
      )
      assert.equal(net.nodes[0]!.stats().feesReserved, reserved)
      assert.equal(net.nodes[0]!.stats().specsAccepted, 1)

      // Epoch 0 settles: the chain now holds the charge, so the node drops its reservation and
      // reads the smaller balance from the next snapshot.
      assert.deepEqual(
        net.nodes[0]!.decidedTasks(0n).map((t) => [t.certificate.spec.message.requester, t.certificate.spec.message.fee, t.verdict.outcome]),
        [[first.signed.message.requester, 1_000n, 'verified']],
      )
      const epoch0 = net.chain.snapshot(0n)!
      const nodes = net.nodes.map((n) => ({ address: n.address, weight: 1n, runtimes: ['wasm'] }))
      net.chain.update({ epoch: 1n, seed: epoch0.seed, nodes, escrow: new Map([[first.signed.message.requester, 500n]]) })
      net.nodes[0]!.forgetEpoch(0n)
      assert.equal(net.nodes[0]!.stats().feesReserved, 0n)
      assert.deepEqual(net.nodes[0]!.decidedTasks(0n), [])
      // Epoch 0 is closed for new specs; in epoch 1 the requester's 500 no longer covers a fee of 1000.
      await assert.rejects(
        net.nodes[0]!.submitTask(second.signed, second.blobs),
        (e: unknown) => e instanceof SpecRejectedError && e.code === 'SPEC_WRONG_EPOCH',
      )
      const third = await signedSpec(3, { epoch: 1n })
      await assert.rejects(
        net.nodes[0]!.submitTask(third.signed, third.blobs),
        (e: unknown) => e instanceof SpecRejectedError && e.code === 'SPEC_INSUFFICIENT_ESCROW',
      )
      assert.equal(net.nodes[0]!.stats().specsAccepted, 1)
    } finally {
      await net.stop()
    }
  })

  it('refuses a submission whose program or input was not uploaded', async () => {
    const net = await createNetwork({ runtimes: () => honest })
    try {
      const { signed, blobs } = await signedSpec(3)
      await assert.rejects(net.nodes[0]!.submitTask(signed, blobs.slice(0, 1)), (e: unknown) => e instanceof SpecRejectedError && e.code === 'SPEC_MISSING_BLOB')
      assert.equal(net.nodes[0]!.stats().specsAccepted, 0)
    } finally {
      await net.stop()
    }
  })
})
