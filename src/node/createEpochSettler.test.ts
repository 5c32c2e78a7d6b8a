import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { eventually } from '../../test/helpers/eventually.ts'
import { blsKeyOf, registerBlsKey, testAccount } from '../../test/helpers/fixtures.ts'
import { createMemoryChain } from '../chain/memory/createMemoryChain.ts'
import { devnetDomain, hashBatchProposal } from '../core/eip712.ts'
import { encodeMessage } from '../core/messages.ts'
import { signDigest } from '../core/signing.ts'
import { roundAggregator } from '../core/rounds.ts'
import type { BatchProposal } from '../core/types.ts'
import { startNodeHost } from '../host/startNodeHost.ts'
import type { NodeHost } from '../host/startNodeHost.ts'
import { createMemoryHub } from '../net/memory/createMemoryHub.ts'
import { topics } from '../ports/network.ts'
import type { NodeStore } from '../ports/node.ts'
import type { NodeEvent } from './events.ts'
import { createMemoryNodeStore } from '../store/memory/createMemoryStores.ts'

const STAKE = 1_000n * 10n ** 18n

/**
 * The real settler of every node, over the in-memory chain (the compliance suite's second
 * adapter) and the memory transport: what an epoch's aggregators and committee do, in milliseconds.
 */
describe('epoch settler on the in-memory chain', () => {
  const hosts: NodeHost[] = []
  after(async () => {
    for (const host of hosts.splice(0)) await host.stop()
  })

  it('settles an epoch when its first aggregator floods proposals instead of making one', async () => {
    const accounts = Array.from({ length: 4 }, (_, i) => testAccount(`settler-${i}`))
    const chain = createMemoryChain({ treasury: testAccount('settler-treasury').address, domain: devnetDomain })
    for (const account of accounts) {
      await registerBlsKey(chain, account)
      chain.stake(account.address, STAKE)
    }
    const epoch = chain.openEpoch()
    const view = chain.snapshot(epoch)!
    const first = roundAggregator({ seed: view.seed, epoch, round: 0, candidates: view.eligibleNodes('wasm') })
    // Round 0's aggregator is the attacker: it runs no settler, it floods. The other three are honest.
    const attacker = accounts.find((a) => a.address === first)!
    const hub = createMemoryHub()
    const stores = new Map<number, NodeStore>()
    for (const [i, account] of accounts.entries()) {
      if (account === attacker) continue
      stores.set(i, createMemoryNodeStore())
      hosts.push(
        await startNodeHost({
          store: stores.get(i)!,
          account,
          network: hub.connect(`node-${i}`),
          chain,
          settlement: chain,
          domain: devnetDomain,
          runtimes: {},
          epochGraceMs: 0,
          settlerTimers: { takeoverMs: 200, pollMs: 10 },
        }),
      )
    }
    // Validly signed proposals for the epoch, each naming a blob nobody has, sent without pause
    // until the epoch settles (at most 20,000). Before, three of them filled a node's queue between
    // two of its steps, so the proposals of the aggregators taking over were dropped and the epoch
    // could never gather two thirds of the stake.
    const flood = hub.connect('attacker')
    const bogus = new Set<string>()
    let settled = false
    const flooding = (async () => {
      for (let i = 0; i < 20_000 && !settled; i++) {
        const proposal: BatchProposal = { epoch, round: 0, digest: keccak256(stringToBytes(`bogus ${i}`)), tasks: keccak256(stringToBytes(`no blob ${i}`)) }
        bogus.add(proposal.digest)
        const signed = await signDigest(attacker, proposal, hashBatchProposal(proposal, devnetDomain))
        await flood.publish(topics.batches, encodeMessage({ type: 'proposal', ...signed }))
        await new Promise(setImmediate) // let the nodes run between two messages
      }
    })()
    chain.openEpoch() // epoch 0 ends
    await eventually(async () => ((await chain.lastSettledEpoch()) === epoch ? true : undefined))
    settled = true
    await flooding
    const digest = await chain.settledDigest(epoch)
    assert.ok(digest !== null && !bogus.has(digest), 'an honest aggregator took over')
    // Every honest node saw the same batch settle, and none signed a bogus proposal.
    await eventually(() => (hosts.every((h) => h.settler!.stats().epochsSettled === 1) ? true : undefined))
    // A member signs one digest per round; here it signed the settled one and never a bogus one.
    for (const store of stores.values()) {
      const signed = Array.from({ length: 8 }, (_, round) => store.getBatchSignature(epoch, round)?.digest).filter((d) => d !== undefined)
      assert.ok(signed.includes(digest), 'it signed the settled batch')
      assert.ok(signed.every((d) => !bogus.has(d)), 'and no bogus proposal')
    }
  })

  it('retries a failed submission until the epoch settles', async () => {
    const accounts = Array.from({ length: 3 }, (_, i) => testAccount(`retry-${i}`))
    const chain = createMemoryChain({ treasury: testAccount('retry-treasury').address, domain: devnetDomain })
    for (const account of accounts) {
      await registerBlsKey(chain, account)
      chain.stake(account.address, STAKE)
    }
    const epoch = chain.openEpoch()
    // The chain refuses the first two submissions (a dropped transaction, an RPC error): before,
    // the aggregator gave up after one and the epoch never settled.
    let failures = 2
    const flaky: typeof chain = {
      ...chain,
      submitBatch: async (batch, signed) => {
        if (failures > 0) {
          failures--
          throw new Error('the RPC endpoint went away')
        }
        return chain.submitBatch(batch, signed)
      },
    }
    const hub = createMemoryHub()
    for (const [i, account] of accounts.entries()) {
      hosts.push(
        await startNodeHost({
          account,
          network: hub.connect(`retry-${i}`),
          chain,
          settlement: flaky,
          domain: devnetDomain,
          runtimes: {},
          epochGraceMs: 0,
          settlerTimers: { takeoverMs: 10_000, pollMs: 10, retryMs: 20 },
        }),
      )
    }
    chain.openEpoch()
    await eventually(async () => ((await chain.lastSettledEpoch()) === epoch ? true : undefined))
    const retryHosts = hosts.slice(-3)
    const failed = retryHosts.reduce((sum, h) => sum + h.settler!.stats().submissionsFailed, 0)
    const submitted = retryHosts.reduce((sum, h) => sum + h.settler!.stats().batchesSubmitted, 0)
    assert.equal(failed, 2, 'both failures were the first aggregator’s, retried before anyone took over')
    assert.equal(submitted, 1)
  })

  it('settles in a later round when the first one split the committee', async () => {
    const accounts = Array.from({ length: 4 }, (_, i) => testAccount(`split-${i}`))
    const chain = createMemoryChain({ treasury: testAccount('split-treasury').address, domain: devnetDomain })
    for (const account of accounts) {
      await registerBlsKey(chain, account)
      chain.stake(account.address, STAKE)
    }
    const epoch = chain.openEpoch()
    // Two members already signed another round-0 batch (an aggregator sent them a different valid
    // proposal, or their view of the epoch differed): round 0 can gather at most two of four
    // signatures, below two thirds. Before rounds, a member signed one digest per epoch, forever,
    // and the epoch never settled.
    const split = keccak256(stringToBytes('the other round-0 batch'))
    const stores = accounts.map(() => createMemoryNodeStore())
    for (const i of [0, 1]) stores[i]!.putBatchSignature(epoch, 0, split, (await blsKeyOf(accounts[i]!)).sign(split))
    const hub = createMemoryHub()
    const started: NodeHost[] = []
    for (const [i, account] of accounts.entries()) {
      started.push(
        await startNodeHost({
          store: stores[i]!,
          account,
          network: hub.connect(`split-${i}`),
          chain,
          settlement: chain,
          domain: devnetDomain,
          runtimes: {},
          epochGraceMs: 0,
          settlerTimers: { takeoverMs: 150, pollMs: 10 },
        }),
      )
    }
    hosts.push(...started)
    chain.openEpoch()
    await eventually(async () => ((await chain.lastSettledEpoch()) === epoch ? true : undefined))
    const digest = await chain.settledDigest(epoch)
    assert.notEqual(digest, split)
    // The split members never signed a second round-0 batch; the batch that settled is a later round's.
    for (const i of [0, 1]) assert.equal(stores[i]!.getBatchSignature(epoch, 0)?.digest, split)
    const rounds = stores.flatMap((store) => Array.from({ length: 16 }, (_, round) => (store.getBatchSignature(epoch, round)?.digest === digest ? [round] : [])).flat())
    assert.ok(rounds.length >= 3 && rounds.every((round) => round >= 1), `settled in round ${rounds.join(', ')}`)
  })

  it('takes a batch signature only if it verifies against its member’s registered BLS key', async () => {
    const accounts = Array.from({ length: 3 }, (_, i) => testAccount(`bls-gossip-${i}`))
    const outsider = testAccount('bls-gossip-outsider')
    const chain = createMemoryChain({ treasury: testAccount('bls-gossip-treasury').address, domain: devnetDomain })
    for (const account of accounts) {
      await registerBlsKey(chain, account)
      chain.stake(account.address, STAKE)
    }
    const epoch = chain.openEpoch()
    const hub = createMemoryHub()
    const started: NodeHost[] = []
    /** The signatures node 0's settler took (it reports each as `epoch.signed`). */
    const taken: string[] = []
    for (const [i, account] of accounts.entries()) {
      started.push(
        await startNodeHost({
          account,
          ...(i === 0 ? { events: { emit: (e: NodeEvent) => void (e.type === 'epoch.signed' && taken.push(e.signer)) } } : {}),
          network: hub.connect(`bls-gossip-${i}`),
          chain,
          settlement: chain,
          domain: devnetDomain,
          runtimes: {},
          epochGraceMs: 0,
          settlerTimers: { takeoverMs: 60_000, pollMs: 10_000 },
        }),
      )
    }
    hosts.push(...started)
    const relay = hub.connect('bls-gossip-relay')
    const digest = keccak256(stringToBytes('a batch digest'))
    const tasks = keccak256(stringToBytes('a proposal blob'))
    const send = (signer: `0x${string}`, signature: `0x${string}`) =>
      relay.publish(topics.batches, encodeMessage({ type: 'batch-signature', message: { epoch, round: 0, digest, tasks }, signer, signature }))
    const rejected = () => started.map((h) => h.settler!.stats().rejected['BATCH_BAD_SIGNATURE'] ?? 0)
    // A member's name on someone else's signature, and on a signature of another digest: refused by every node.
    await send(accounts[0]!.address, (await blsKeyOf(outsider)).sign(digest))
    await send(accounts[0]!.address, (await blsKeyOf(accounts[0]!)).sign(keccak256(digest)))
    await eventually(() => (rejected().every((n) => n === 2) ? true : undefined))
    // An outsider's own valid signature: not a member, ignored (nothing counted against it, nothing kept).
    await send(outsider.address, (await blsKeyOf(outsider)).sign(digest))
    // A member's real signature is taken: the equivocation watch and the collectors see it, and nothing more is refused.
    await send(accounts[1]!.address, (await blsKeyOf(accounts[1]!)).sign(digest))
    await eventually(() => (taken.length > 0 ? true : undefined))
    assert.deepEqual(taken, [accounts[1]!.address], 'only the member’s own signature was taken')
    assert.deepEqual(rejected(), [2, 2, 2])
    assert.equal(await chain.lastSettledEpoch(), null)
  })
})
