import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { createAnchorRegistry } from '../src/chain/memory/anchorSources.ts'
import type { AnchorRegistry } from '../src/chain/memory/anchorSources.ts'
import { createInstantBlocks, createManualBlocks } from '../src/chain/memory/blockSources.ts'
import { createStaticChainView } from '../src/chain/memory/createStaticChainView.ts'
import { contentId } from '../src/core/contentId.ts'
import { encodeMessage } from '../src/core/messages.ts'
import { devnetDomain, hashTaskSpec } from '../src/core/eip712.ts'
import { SpecRejectedError } from '../src/core/errors.ts'
import { anchorAlone, buildAnchorTree } from '../src/core/taskAnchor.ts'
import { MAX_DRAW_LEAD_BLOCKS, defaultParams } from '../src/core/params.ts'
import { rankTask } from '../src/core/task.ts'
import { signTaskSpec } from '../src/core/taskSpec.ts'
import type { Address, Hex, SignedSpec, TaskSpec } from '../src/core/types.ts'
import { createMemoryHub } from '../src/net/memory/createMemoryHub.ts'
import { createMemoryNodeStore } from '../src/store/memory/createMemoryStores.ts'
import { createNode } from '../src/node/createNode.ts'
import type { VeritaskNode } from '../src/node/createNode.ts'
import type { BlockView } from '../src/ports/node.ts'
import { topics } from '../src/ports/network.ts'
import type { Network } from '../src/ports/network.ts'
import type { Runtime } from '../src/ports/runtime.ts'
import { makeSpec, requester, testAccount } from './helpers/fixtures.ts'
import { program, waitUntil } from './helpers/network.ts'

// The grinding requester: it holds 10 % of the stake (2 of 20 equal nodes) and tries
// nonces until, as far as it can tell, its coalition holds 2 of a task's 3 seats. Seats come from
// the epoch's seed and the hash of the spec's draw block, which is mined after the requester signs.

const stakers = Array.from({ length: 20 }, (_, i) => testAccount(`draw-node-${i}`))
const coalition = new Set<Address>([stakers[0]!.address, stakers[1]!.address])
const snapshot = {
  seed: keccak256(stringToBytes('draw epoch seed')),
  nodes: stakers.map((a) => ({ address: a.address, weight: 100n, runtimes: ['wasm'] })),
  escrow: new Map([[requester.address, 10n ** 18n]]),
}
/** Never finishes: these tests are about who is seated, not what the seats compute. */
const idle: Runtime = { name: 'wasm', execute: () => new Promise(() => {}), close: async () => {} }
/** An honest requester's chance that the coalition holds a quorum of 2 of 3 seats: C(2,2)·C(18,1)/C(20,3). */
const HONEST_RATE = 18 / 1_140

const inputOf = (i: number) => stringToBytes(`draw input ${i}`)
const specOf = (i: number, nonce: number, drawBlock: bigint): TaskSpec =>
  makeSpec({ nonce: BigInt(nonce), program: contentId(program), input: contentId(inputOf(i)), drawBlock, deadline: BigInt(Date.now() + 60_000) })
const heldByCoalition = (seats: readonly Address[]) => seats.filter((a) => coalition.has(a)).length

/**
 * What the grinding requester submits for task `i`: the first nonce whose seats, ranked with the
 * draw hash it predicts, give the coalition a quorum. Resolves with the spec and how many nonces it tried.
 */
function grind(i: number, drawBlock: bigint, predicted: Hex, view = createStaticChainView(snapshot).snapshot(0n)!): { spec: TaskSpec; tries: number } {
  for (let nonce = 0; ; nonce++) {
    const spec = specOf(i, i * 1_000_000 + nonce, drawBlock)
    const taskId = hashTaskSpec(spec, devnetDomain)
    if (heldByCoalition(rankTask({ view, taskId, spec, draw: predicted, backups: 0 }).slice(0, 3)) >= 2) return { spec, tries: nonce + 1 }
  }
}

const started: Array<{ stop(): Promise<void> }> = []
after(() => Promise.all(started.map((node) => node.stop())))

interface Gateway {
  node: VeritaskNode
  chain: ReturnType<typeof createStaticChainView>
  /** The chain's task anchors: each recorded in the newest block when it is made. */
  anchors: AnchorRegistry
  peer: Network
}

/** One honest node (a staker outside the coalition) that every spec is submitted to, and a peer that gossips to it. */
function startGateway(blocks: BlockView): Gateway {
  const anchors = createAnchorRegistry(blocks)
  const chain = createStaticChainView(snapshot, blocks, anchors)
  const hub = createMemoryHub()
  const node = createNode({ account: stakers[5]!, network: hub.connect('gateway'), chain, runtimes: { wasm: idle } })
  node.start()
  started.push(node)
  return { node, chain, anchors, peer: hub.connect('requester') }
}

/** `spec` signed, its id anchored alone in the newest block (of `anchors`; instant anchors without). */
async function anchored(spec: TaskSpec, anchors?: AnchorRegistry): Promise<SignedSpec> {
  const taskId = hashTaskSpec(spec, devnetDomain)
  const signed = anchorAlone(await signTaskSpec(requester, spec, devnetDomain), taskId)
  anchors?.anchor(requester.address, signed.anchor!.root, 1)
  return signed
}

async function submit(node: VeritaskNode, i: number, spec: TaskSpec, anchors?: AnchorRegistry): Promise<Hex> {
  return node.submitTask(await anchored(spec, anchors), [program, inputOf(i)])
}

describe('the draw: seats no requester can steer', () => {
  it('control: where the draw is known when the requester signs, grinding seats its coalition in every task', async () => {
    const { node, chain, anchors } = startGateway(createInstantBlocks(keccak256(stringToBytes('known blocks'))))
    for (let i = 0; i < 10; i++) {
      const { spec } = grind(i, 1n, chain.blockHash(1n)!)
      const taskId = await submit(node, i, spec, anchors)
      assert.ok(heldByCoalition(node.getTask(taskId)!.seats) >= 2, 'the coalition holds a quorum of the seats the node drew')
    }
  })

  it('whatever nonces a requester tries before its draw block, its 10 % coalition holds a quorum at the honest rate', async () => {
    const blocks = createManualBlocks(keccak256(stringToBytes('blocks the requester cannot see ahead')), 10n)
    const { node, chain, anchors } = startGateway(blocks)
    // Its best guess at the draw is the newest hash it knows; any other guess does as well.
    const drawBlock = blocks.head() + 2n
    const guess = blocks.blockHash(blocks.head())!
    const tasks = 100
    const ids: Hex[] = []
    let tries = 0
    for (let i = 0; i < tasks; i++) {
      const ground = grind(i, drawBlock, guess)
      tries += ground.tries
      ids.push(await submit(node, i, ground.spec, anchors))
    }
    assert.ok(ids.every((id) => node.getTask(id)?.phase === 'draw' && node.getTask(id)?.seats.length === 0), 'nobody is seated before the draw block')
    blocks.mine(2)
    await waitUntil(() => ids.every((id) => node.getTask(id)?.phase !== 'draw'))
    const draw = chain.blockHash(drawBlock)!
    let held = 0
    for (const id of ids) {
      const task = node.getTask(id)!
      assert.deepEqual(task.seats, rankTask({ view: chain.snapshot(0n)!, taskId: id, spec: task.spec, draw, backups: 0 }).slice(0, 3), 'seats drawn from the draw block')
      if (heldByCoalition(task.seats) >= 2) held++
    }
    // Honest rate 1.58 %: 1.6 of 100 tasks expected. At or above 9 with probability 3.2·10⁻⁵.
    assert.ok(held <= 8, `the coalition held a quorum of ${held} of ${tasks} ground tasks (honest rate ${(HONEST_RATE * tasks).toFixed(1)})`)
    assert.ok(tries > tasks * 10, `the requester did grind (${tries} nonces tried)`)
  })

  it('refuses a spec not anchored before its draw block, or with a proof that does not hold, or drawn too far ahead, and reserves nothing for it', async () => {
    const blocks = createManualBlocks(keccak256(stringToBytes('mined blocks')), 10n)
    const { node, anchors } = startGateway(blocks)
    // The patient requester: it waits for a block, grinds against its hash and anchors its choice
    // now, in the draw block itself; the node sees the anchor is not before the draw.
    const patient = grind(0, blocks.head(), blocks.blockHash(blocks.head())!).spec
    const late = await anchored(patient, anchors)
    const unanchored = await signTaskSpec(requester, specOf(1, 1, blocks.head() + 1n), devnetDomain)
    // An anchor proof of another task id, anchored in time.
    const other = await anchored(specOf(2, 2, blocks.head() + 1n), anchors)
    const borrowed = { ...(await signTaskSpec(requester, specOf(3, 3, blocks.head() + 1n), devnetDomain)), anchor: other.anchor! }
    const far = await anchored(specOf(4, 4, blocks.head() + MAX_DRAW_LEAD_BLOCKS + 1n), anchors)
    for (const [i, signed, code, reason] of [
      [0, late, 'SPEC_NOT_ANCHORED', 'ANCHOR_TOO_LATE'],
      [1, unanchored, 'SPEC_NOT_ANCHORED', 'ANCHOR_MISSING'],
      [3, borrowed, 'SPEC_NOT_ANCHORED', 'ANCHOR_BAD_PROOF'],
      [4, far, 'SPEC_DRAW_TOO_FAR', undefined],
    ] as const) {
      await assert.rejects(node.submitTask(signed, [program, inputOf(i)]), (error: unknown) => error instanceof SpecRejectedError && error.code === code && error.details.reason === reason)
      assert.equal(node.getTask(hashTaskSpec(signed.message, devnetDomain)), undefined)
    }
    assert.equal(node.stats().feesReserved, 0n)
    assert.equal(node.stats().specsAccepted, 0)
    // A draw block already mined is no reason to refuse: a spec anchored before it is taken.
    const early = specOf(5, 5, blocks.head() + 1n)
    const signed = await anchored(early, anchors)
    blocks.mine(3)
    const taskId = await node.submitTask(signed, [program, inputOf(5)])
    assert.ok(node.getTask(taskId)!.seats.length > 0, 'seated at once: its draw block is here')
    assert.equal(node.stats().feesReserved, early.fee)
  })

  it('a requester that waits for its draw block cannot choose its seats: a spec anchored too late is dropped when it comes by gossip, whenever it comes', async () => {
    const blocks = createManualBlocks(keccak256(stringToBytes('blocks a patient requester waits for')), 10n)
    const { node, peer, anchors } = startGateway(blocks)
    // Gossiped before the anchor shows on the chain it names a block still to come: the node
    // admits it and checks the anchor at the draw. Gossiped after, it is refused at once.
    const drawBlock = blocks.head() + 1n
    const before = await signTaskSpec(requester, specOf(0, 0, drawBlock), devnetDomain)
    const beforeId = hashTaskSpec(before.message, devnetDomain)
    const beforeAnchored = anchorAlone(before, beforeId)
    await peer.publish(topics.specs, encodeMessage({ type: 'spec', ...beforeAnchored }))
    await waitUntil(() => node.getTask(beforeId)?.phase === 'draw')
    assert.equal(node.stats().feesReserved, before.message.fee)
    blocks.mine()
    // It anchors only now, in the draw block, with the draw's hash known to it.
    anchors.anchor(requester.address, beforeAnchored.anchor!.root, 1)
    const { spec } = grind(1, drawBlock, blocks.blockHash(drawBlock)!)
    const patient = await anchored(spec, anchors)
    await peer.publish(topics.specs, encodeMessage({ type: 'spec', ...patient }))
    await waitUntil(() => (node.stats().rejected.SPEC_NOT_ANCHORED ?? 0) >= 2)
    for (const signed of [beforeAnchored, patient]) assert.equal(node.getTask(hashTaskSpec(signed.message, devnetDomain)), undefined, 'never seated')
    assert.equal(node.stats().feesReserved, 0n, 'the admitted one released its fee')
    assert.equal(node.pendingTasks(0n), 0)
  })

  it('a copy relayed with a bogus anchor proof does not push the task out: every proof that came is tried at the draw, and a task dropped there is not known', async () => {
    // The proof is not signed: anyone can relay a copy of a spec with a root nobody anchored, and
    // get it to a node before the genuine one.
    const blocks = createManualBlocks(keccak256(stringToBytes('copies with other proofs')), 10n)
    const store = createMemoryNodeStore()
    const anchors = createAnchorRegistry(blocks)
    const hub = createMemoryHub()
    const node = createNode({ account: stakers[5]!, network: hub.connect('gateway'), chain: createStaticChainView(snapshot, blocks, anchors), runtimes: { wasm: idle }, store })
    node.start()
    started.push(node)
    const peer = hub.connect('relay')
    const bogus = (signed: SignedSpec, i: number) => ({ ...signed, anchor: { root: keccak256(stringToBytes(`a root nobody anchored ${i}`)), index: 0, proof: [] } })
    const genuine = await anchored(specOf(0, 0, blocks.head() + 1n), anchors)
    const taskId = hashTaskSpec(genuine.message, devnetDomain)
    await peer.publish(topics.specs, encodeMessage({ type: 'spec', ...bogus(genuine, 0) }))
    await waitUntil(() => node.getTask(taskId)?.phase === 'draw')
    await peer.publish(topics.specs, encodeMessage({ type: 'spec', ...genuine }))
    // Only bogus copies of another task: it never opens, and is not known.
    const orphan = await signTaskSpec(requester, specOf(1, 1, blocks.head() + 1n), devnetDomain)
    const orphanId = hashTaskSpec(orphan.message, devnetDomain)
    anchors.anchor(requester.address, anchorAlone(orphan, orphanId).anchor!.root, 1)
    for (const i of [1, 2]) await peer.publish(topics.specs, encodeMessage({ type: 'spec', ...bogus(orphan, i) }))
    await waitUntil(() => node.getTask(orphanId)?.phase === 'draw')
    assert.equal(store.getSpec(taskId), undefined, 'nothing stored before the draw')
    blocks.mine()
    await waitUntil(() => node.getTask(taskId)?.phase !== 'draw' && node.getTask(orphanId) === undefined)
    assert.ok(node.getTask(taskId)!.seats.length > 0, 'opened with the genuine proof')
    assert.deepEqual(store.getSpec(taskId)?.anchor, genuine.anchor, 'stored with the proof that holds')
    assert.equal(store.getSpec(orphanId), undefined, 'a task dropped at its draw is not known here')
    assert.equal(node.stats().feesReserved, genuine.message.fee)
  })

  it('a copy whose anchor the chain already shows displaces bogus copies that took every proof slot first', async () => {
    const blocks = createManualBlocks(keccak256(stringToBytes('slots filled by a relay')), 10n)
    const anchors = createAnchorRegistry(blocks)
    const hub = createMemoryHub()
    const node = createNode({ account: stakers[5]!, network: hub.connect('gateway'), chain: createStaticChainView(snapshot, blocks, anchors), runtimes: { wasm: idle } })
    node.start()
    started.push(node)
    const relay = hub.connect('relay')
    // Signed and relayed in bogus copies before its anchor is mined; anchored in the next block.
    const spec = specOf(0, 0, blocks.head() + 3n)
    const taskId = hashTaskSpec(spec, devnetDomain)
    const unanchored = await signTaskSpec(requester, spec, devnetDomain)
    for (let i = 0; i < 4; i++) {
      await relay.publish(topics.specs, encodeMessage({ type: 'spec', ...unanchored, anchor: { root: keccak256(stringToBytes(`bogus ${i}`)), index: 0, proof: [] } }))
    }
    await waitUntil(() => node.getTask(taskId)?.phase === 'draw')
    blocks.mine()
    const genuine = anchorAlone(unanchored, taskId)
    anchors.anchor(requester.address, genuine.anchor!.root, 1)
    blocks.mine()
    // The genuine copy comes after the slots are full; the chain shows its anchor, before the draw block.
    assert.equal(await node.submitTask(genuine, [program, inputOf(0)]), taskId, 'taken, not a duplicate')
    blocks.mine()
    await waitUntil(() => node.getTask(taskId)?.phase !== 'draw')
    assert.ok(node.getTask(taskId)!.seats.length > 0, 'opened with the genuine proof')
    assert.equal(node.stats().rejected.SPEC_NOT_ANCHORED, undefined)
  })

  it('grinding anchored variants is paid for: of the task ids a requester anchors, its coalition holds a quorum at the honest rate', async () => {
    // Its only way to choose after the draw: anchor many variants of a task in one root before the
    // draw block, paying the minimum fee for each, then submit the best. Over every id it paid for,
    // the draw seats its coalition at the honest rate; choosing among them costs ~1 / rate leaves a task.
    const blocks = createManualBlocks(keccak256(stringToBytes('variants anchored ahead')), 10n)
    const { node, chain, anchors } = startGateway(blocks)
    const drawBlock = blocks.head() + 2n
    const variants = await Promise.all(Array.from({ length: 1_000 }, (_, nonce) => signTaskSpec(requester, specOf(0, nonce, drawBlock), devnetDomain)))
    const ids = variants.map((v) => hashTaskSpec(v.message, devnetDomain))
    const tree = buildAnchorTree(ids)
    assert.equal(anchors.anchor(requester.address, tree.root, tree.count).count, 1_000, 'every variant is a paid leaf')
    blocks.mine(2)
    const draw = chain.blockHash(drawBlock)!
    const view = chain.snapshot(0n)!
    const quorum = ids.filter((taskId, i) => heldByCoalition(rankTask({ view, taskId, spec: variants[i]!.message, draw, backups: 0 }).slice(0, 3)) >= 2).length
    // 15.8 expected of 1,000; outside 4…32 with probability below 10⁻⁴ (binomial tails).
    assert.ok(quorum >= 4 && quorum <= 32, `${quorum} of 1,000 anchored ids seat a coalition quorum (honest rate ${(HONEST_RATE * 1_000).toFixed(1)})`)
    // The best variant is taken: its leaf proves it under the paid root.
    const best = ids.findIndex((taskId, i) => heldByCoalition(rankTask({ view, taskId, spec: variants[i]!.message, draw, backups: 0 }).slice(0, 3)) >= 2)
    const taskId = await node.submitTask({ ...variants[best]!, anchor: tree.anchors[best]! }, [program, inputOf(0)])
    assert.ok(heldByCoalition(node.getTask(taskId)!.seats) >= 2)
  })

  it('reads no anchor for a spec it refuses anyway: one its requester cannot pay for, or a copy of a known task', async () => {
    const blocks = createManualBlocks(keccak256(stringToBytes('reads counted')), 10n)
    const registry = createAnchorRegistry(blocks)
    let reads = 0
    const counted = { anchorOf: (requester: Address, root: Hex) => (reads++, registry.anchorOf(requester, root)) }
    const node = createNode({ account: stakers[5]!, network: createMemoryHub().connect('gateway'), chain: createStaticChainView(snapshot, blocks, counted), runtimes: { wasm: idle } })
    node.start()
    started.push(node)
    const poor = testAccount('a requester without escrow')
    const unpaid = { ...specOf(0, 0, blocks.head() + 1n), requester: poor.address }
    const unpaidId = hashTaskSpec(unpaid, devnetDomain)
    const signedUnpaid = anchorAlone(await signTaskSpec(poor, unpaid, devnetDomain), unpaidId)
    registry.anchor(poor.address, signedUnpaid.anchor!.root, 1)
    await assert.rejects(node.submitTask(signedUnpaid, [program, inputOf(0)]), (error: unknown) => error instanceof SpecRejectedError && error.code === 'SPEC_INSUFFICIENT_ESCROW')
    assert.equal(reads, 0)
    const signed = await anchored(specOf(1, 1, blocks.head() + 1n), registry)
    await node.submitTask(signed, [program, inputOf(1)])
    assert.equal(reads, 1)
    await assert.rejects(node.submitTask(signed, [program, inputOf(1)]), (error: unknown) => error instanceof SpecRejectedError && error.code === 'SPEC_DUPLICATE')
    assert.equal(reads, 1)
  })

  it('drops a task whose draw block does not come before its deadline, and releases its fee', async () => {
    // Windows of 10 ms let a deadline 60 ms away be a valid one: the chain stalls past it.
    const blocks = createManualBlocks(keccak256(stringToBytes('a stalled chain')), 10n)
    const hub = createMemoryHub()
    const node = createNode({
      account: stakers[5]!,
      network: hub.connect('gateway'),
      chain: createStaticChainView(snapshot, blocks),
      runtimes: { wasm: idle },
      params: { ...defaultParams, commitWindowMs: 10, revealWindowMs: 10 },
    })
    node.start()
    started.push(node)
    const spec = { ...specOf(0, 0, blocks.head() + 1n), deadline: BigInt(Date.now() + 60) }
    const taskId = await submit(node, 0, spec)
    assert.equal(node.getTask(taskId)?.phase, 'draw')
    assert.equal(node.stats().feesReserved, spec.fee)
    await waitUntil(() => node.stats().feesReserved === 0n, 10_000_000)
    assert.equal(node.getTask(taskId), undefined, 'the task is gone: nobody could seat it')
    assert.equal(node.pendingTasks(0n), 0, 'its epoch does not wait for it')
  })

  it('waits for a gossiped draw block no chain will reach only so long, then drops the task and frees its epoch', async () => {
    // Gossiped specs are taken whatever their draw block: a block 2⁶⁴ − 1 and a deadline weeks
    // away must not hold the fee and the epoch's settlement that long (maxDrawWaitMs).
    const blocks = createManualBlocks(keccak256(stringToBytes('a block that never comes')), 10n)
    const hub = createMemoryHub()
    const node = createNode({ account: stakers[5]!, network: hub.connect('gateway'), chain: createStaticChainView(snapshot, blocks), runtimes: { wasm: idle }, maxDrawWaitMs: 50 })
    node.start()
    started.push(node)
    const spec = { ...specOf(0, 0, 2n ** 64n - 1n), deadline: BigInt(Date.now() + 30 * 24 * 3_600_000) }
    const signed = await anchored(spec)
    const taskId = hashTaskSpec(spec, devnetDomain)
    await hub.connect('stranger').publish(topics.specs, encodeMessage({ type: 'spec', ...signed }))
    await waitUntil(() => node.getTask(taskId) !== undefined)
    assert.equal(node.pendingTasks(0n), 1)
    await waitUntil(() => node.pendingTasks(0n) === 0, 10_000_000)
    assert.equal(node.stats().feesReserved, 0n)
    assert.equal(node.getTask(taskId), undefined)
  })

  it('forgets a task still in its draw with its epoch: no fee released twice, and it never opens in a settled epoch', async () => {
    const blocks = createManualBlocks(keccak256(stringToBytes('an epoch settled before the draw')), 10n)
    const { node } = startGateway(blocks)
    const spec = specOf(0, 0, blocks.head() + 1n)
    const taskId = await submit(node, 0, spec)
    assert.equal(node.stats().feesReserved, spec.fee)
    node.forgetEpoch(0n)
    assert.equal(node.stats().feesReserved, 0n)
    assert.equal(node.pendingTasks(0n), 0)
    blocks.mine()
    // The draw's waiter runs in the turn after the block: give it that turn.
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(node.getTask(taskId), undefined, 'not opened')
    assert.equal(node.stats().feesReserved, 0n, 'nothing released twice')
  })
})
