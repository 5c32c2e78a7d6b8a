import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes, toBytes } from 'viem'
import { createStaticChainView } from '../chain/memory/createStaticChainView.ts'
import { contentId } from '../core/contentId.ts'
import { devnetDomain } from '../core/eip712.ts'
import { SpecRejectedError } from '../core/errors.ts'
import { encodeMessage } from '../core/messages.ts'
import { defaultParams } from '../core/params.ts'
import { signTaskSpec } from '../core/taskSpec.ts'
import { signCommit } from '../core/commit.ts'
import type { Address, Hex, TaskSpec, Verdict } from '../core/types.ts'
import type { ExecutionRequest, ExecutionResult, Runtime } from '../ports/runtime.ts'
import { createMemoryHub } from '../net/memory/createMemoryHub.ts'
import { topics } from '../ports/network.ts'
import { requester, testAccount } from '../../test/helpers/fixtures.ts'
import { createManualClock } from './clock.ts'
import type { Clock } from './clock.ts'
import { createNode } from './createNode.ts'
import type { VeritaskNode } from './createNode.ts'

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

interface NetOptions {
  count?: number
  runtimes?: (i: number) => Runtime
  escrow?: bigint
  clock?: Clock
}

function createNetwork({ count = 5, runtimes = () => honest, escrow = 10n ** 18n, clock }: NetOptions = {}) {
  const accounts = Array.from({ length: count }, (_, i) => testAccount(`node-${i}`))
  const chain = createStaticChainView({
    seed: keccak256(stringToBytes('epoch')),
    nodes: accounts.map((a) => ({ address: a.address, weight: 100n, runtimes: ['wasm'] })),
    escrow: new Map([[requester.address, escrow]]),
  })
  const hub = createMemoryHub()
  const nodes = accounts.map((account, i) =>
    createNode({ account, network: hub.connect(`peer-${i}`), chain, runtimes: { wasm: runtimes(i) }, ...(clock ? { clock } : {}) }),
  )
  nodes.forEach((n) => n.start())
  return { hub, nodes, accounts, stop: () => Promise.all(nodes.map((n) => n.stop())) }
}

const program = stringToBytes('program bytes')

async function signedSpec(i: number, overrides: Partial<TaskSpec> = {}, now = Date.now()) {
  const input = stringToBytes(`input ${i}`)
  const spec: TaskSpec = {
    requester: requester.address,
    nonce: BigInt(i),
    runtime: 'wasm',
    program: contentId(program),
    input: contentId(input),
    limits: { fuel: 1_000n, memoryPages: 1, outputBytes: 64 },
    policy: { kind: 'replicate', k: 3, quorum: 2 },
    fee: 1_000n,
    deadline: BigInt(now + 60_000),
    ...overrides,
  }
  return { signed: await signTaskSpec(requester, spec, devnetDomain), input }
}

/** Resolves with each node's verdict for `taskId` once all of `nodes` have decided it. */
function verdictsOf(nodes: VeritaskNode[], taskId: () => Hex | undefined): Promise<Verdict[]> {
  return Promise.all(
    nodes.map(
      (node) =>
        new Promise<Verdict>((resolve) => {
          const off = node.onVerdict((v) => {
            if (v.taskId === taskId()) {
              off()
              resolve(v)
            }
          })
        }),
    ),
  )
}

describe('node: replicate end to end on the memory transport', () => {
  it('verifies tasks, every node reaches the same verdict, and gossip is 1 + 2k messages per task', async () => {
    const net = createNetwork()
    try {
      for (let i = 0; i < 6; i++) {
        const { signed, input } = await signedSpec(i)
        let id: Hex | undefined
        const all = verdictsOf(net.nodes, () => id)
        id = await net.nodes[i % 5]!.submitTask(signed, [program, input])
        const verdicts = await all
        for (const v of verdicts) assert.deepEqual(v, verdicts[0])
        assert.equal(verdicts[0]!.outcome, 'verified')
        assert.equal(verdicts[0]!.resultHash, contentId(toBytes(keccak256(input))))
        assert.equal(verdicts[0]!.executors.length, 3)
        // The result is served by content id once revealed.
        const holder = net.nodes.find((n) => n.address === verdicts[0]!.executors[0])!
        assert.deepEqual(holder.getBlob(verdicts[0]!.resultHash), toBytes(keccak256(input)))
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
    const net = createNetwork({ runtimes: (i) => (i === liarIndex ? liar : honest) })
    try {
      let sawLiar = false
      for (let i = 0; i < 8; i++) {
        const { signed, input } = await signedSpec(i)
        let id: Hex | undefined
        const all = verdictsOf(net.nodes, () => id)
        id = await net.nodes[0]!.submitTask(signed, [program, input])
        const [v] = await all
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
    const net = createNetwork({ runtimes: (i) => (i === offlineIndex ? offline : honest), clock })
    const offlineAddress: Address = net.accounts[offlineIndex]!.address
    try {
      // Find a task for which the offline node is an executor.
      for (let i = 0; ; i++) {
        const { signed, input } = await signedSpec(i, {}, clock.now())
        let id: Hex | undefined
        const all = verdictsOf(net.nodes, () => id)
        id = await net.nodes[1]!.submitTask(signed, [program, input])
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

describe('node: bad input', () => {
  it('rejects malformed, forged and unassigned messages, counts them, and keeps working', async () => {
    const net = createNetwork()
    try {
      const attacker = net.hub.connect('mallory')
      const { signed, input } = await signedSpec(1)
      // Forged: the spec is changed after signing.
      const forged = { ...signed, message: { ...signed.message, fee: 1n } }
      // A commit from an account that holds no seat (not even a staked node).
      const stranger = testAccount('stranger')
      const taskId = keccak256(stringToBytes('whatever'))
      const unassigned = await signCommit(stranger, { taskId, commitment: taskId }, devnetDomain)
      const rejectedBefore = net.hub.rejectionsBy('mallory')
      await attacker.publish(topics.specs, new TextEncoder().encode('{"not": "a message"'))
      await attacker.publish(topics.specs, new Uint8Array(defaultParams.maxMessageBytes + 1))
      await attacker.publish(topics.specs, encodeMessage({ type: 'spec', ...forged }))
      await attacker.publish(topics.commits, encodeMessage({ type: 'commit', ...unassigned, signature: `0x${'22'.repeat(65)}` }))
      await waitUntil(() => net.hub.rejectionsBy('mallory') - rejectedBefore >= 4 * net.nodes.length)
      const codes = net.nodes[0]!.stats().rejected
      assert.equal(codes.MESSAGE_MALFORMED, 1)
      assert.equal(codes.MESSAGE_TOO_LARGE, 1)
      assert.equal(codes.SPEC_BAD_SIGNATURE, 1)
      assert.equal(codes.COMMIT_BAD_SIGNATURE, 1)
      assert.equal(net.nodes[0]!.stats().specsAccepted, 0)

      // The network still verifies the genuine task afterwards.
      let id: Hex | undefined
      const all = verdictsOf(net.nodes, () => id)
      id = await net.nodes[0]!.submitTask(signed, [program, input])
      assert.equal((await all)[0]!.outcome, 'verified')
    } finally {
      await net.stop()
    }
  })

  it('rejects a validly signed commit from a node that holds no seat', async () => {
    // Every executor is stuck, so the task stays in its commit phase while the stranger commits.
    const net = createNetwork({ runtimes: () => offline })
    try {
      const { signed, input } = await signedSpec(4)
      const taskId = await net.nodes[0]!.submitTask(signed, [program, input])
      const stranger = testAccount('stranger')
      const commit = await signCommit(stranger, { taskId, commitment: taskId }, devnetDomain)
      const attacker = net.hub.connect('stranger')
      await attacker.publish(topics.commits, encodeMessage({ type: 'commit', ...commit }))
      // A node still verifying the spec holds the commit back and rejects it once the task opens.
      await waitUntil(() => net.nodes.every((n) => n.stats().rejected.COMMIT_NOT_ASSIGNED === 1))
      assert.ok(net.hub.rejectionsBy('stranger') >= 1)
      assert.deepEqual(net.nodes[1]!.getTask(taskId)?.committed, [])
    } finally {
      await net.stop()
    }
  })

  it('refuses a task the escrow cannot cover, and reserves nothing for it', async () => {
    const net = createNetwork({ escrow: 1_500n })
    try {
      const first = await signedSpec(1)
      let id: Hex | undefined
      const all = verdictsOf(net.nodes, () => id)
      id = await net.nodes[0]!.submitTask(first.signed, [program, first.input])
      await all
      const reserved = net.nodes[0]!.stats().feesReserved
      assert.equal(reserved, 1_000n)
      const second = await signedSpec(2)
      await assert.rejects(
        net.nodes[0]!.submitTask(second.signed, [program, second.input]),
        (e: unknown) => e instanceof SpecRejectedError && e.code === 'SPEC_INSUFFICIENT_ESCROW',
      )
      assert.equal(net.nodes[0]!.stats().feesReserved, reserved)
      assert.equal(net.nodes[0]!.stats().specsAccepted, 1)
    } finally {
      await net.stop()
    }
  })

  it('refuses a submission whose program or input was not uploaded', async () => {
    const net = createNetwork()
    try {
      const { signed } = await signedSpec(3)
      await assert.rejects(net.nodes[0]!.submitTask(signed, [program]), (e: unknown) => e instanceof SpecRejectedError && e.code === 'SPEC_MISSING_BLOB')
      assert.equal(net.nodes[0]!.stats().specsAccepted, 0)
    } finally {
      await net.stop()
    }
  })
})

/** Waits, turn by turn of the event loop, until `condition` holds: progress is driven by events, not time. */
async function waitUntil(condition: () => boolean, maxTurns = 100_000): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn++) {
    if (condition()) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error('condition not reached')
}
