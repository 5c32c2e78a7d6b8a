import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, size, stringToBytes, zeroAddress, zeroHash } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { buildEpochBatch, hashEpochBatch } from '../../src/core/epochBatch.ts'
import type { Balance, EpochBatch, EpochBatchResult, SettledTask } from '../../src/core/epochBatch.ts'
import { settleProposal } from '../../src/core/epochProposal.ts'
import type { Address, Hex, ProtocolDomain } from '../../src/core/types.ts'
import type { ChainView, EpochView } from '../../src/ports/node.ts'
import { aggregateBlsSignatures } from '../../src/crypto/bls.ts'
import type { AggregateSignature, SettlementPort } from '../../src/ports/settlement.ts'
import { blsKeyOf, testAccount } from './fixtures.ts'

/** A node staked before the first epoch opens. */
export interface ChainNodeSetup {
  account: PrivateKeyAccount
  stake: bigint
  /** What it advertises; undefined: nothing (it counts as running `wasm`). */
  capabilities?: readonly string[]
  /** False: staked without registering its BLS key (the fixture registers every other node's). */
  blsKey?: false
}

/** The chain to create: its nodes and the governed parameters the cases depend on. */
export interface ChainFixtureOptions {
  nodes: readonly ChainNodeSetup[]
  minStake: bigint
  committeeSize: number
  executorsBps: number
  dissentSlashBps: number
  jailBlocks: bigint
}

/** One chain under test, read through the two ports and driven through a few controls. */
export interface ChainFixture {
  chain: ChainView
  /** The settlement port of node `node` (its index in the options): batches it submits come from its account. */
  settlement(node: number): SettlementPort
  /** The EIP-712 domain batch digests are signed in. */
  domain: ProtocolDomain
  /** Adds `amount` to node `node`'s stake. */
  stake(node: number, amount: bigint): Promise<void>
  deposit(requester: PrivateKeyAccount, amount: bigint): Promise<void>
  requestWithdrawal(requester: PrivateKeyAccount, amount: bigint): Promise<void>
  /**
   * Opens the next epoch (the one before it ends) and resolves with it once `chain` shows it.
   * `between` runs after the epoch opened on the chain, before the view is asked to read it (it
   * may read it first: no outcome may depend on that).
   */
  openEpoch(between?: () => Promise<void>): Promise<bigint>
  close(): Promise<void>
}

/** A contract-level refusal: Settlement's custom error as a code (`SETTLEMENT_WRONG_EPOCH`) with its named arguments. */
export interface ChainRejection {
  code: string
  details: Record<string, unknown>
}

export interface ChainFactory {
  create(options: ChainFixtureOptions): Promise<ChainFixture>
  /** The refusal `error` carries, or undefined when it is not one. */
  rejection(error: unknown): ChainRejection | undefined
}

const nodeAccounts = Array.from({ length: 8 }, (_, i) => testAccount(`chain-node-${i}`))
const outsider = testAccount('chain-outsider')
const requester = testAccount('chain-requester-1')
const otherRequester = testAccount('chain-requester-2')

const base = { minStake: 100n, committeeSize: 128, executorsBps: 7_000, dissentSlashBps: 1_000, jailBlocks: 1_000n }

/** Options for nodes staked `stakes` (advertising `capabilities[i]`), on top of the defaults. */
function optionsFor(stakes: readonly bigint[], overrides: Partial<ChainFixtureOptions> = {}, capabilities: readonly (readonly string[] | undefined)[] = []) {
  const nodes = stakes.map((stake, i): ChainNodeSetup => {
    const advertised = capabilities[i]
    return { account: nodeAccounts[i]!, stake, ...(advertised === undefined ? {} : { capabilities: advertised }) }
  })
  return { ...base, ...overrides, nodes }
}

const byAddress = (a: { address: Address }, b: { address: Address }): number => (a.address.toLowerCase() < b.address.toLowerCase() ? -1 : 1)

function candidates(view: EpochView | undefined, runtime: string): Array<{ address: Address; weight: bigint }> {
  assert.ok(view !== undefined, 'the epoch has a snapshot')
  return view.eligibleNodes(runtime).map(({ address, weight }) => ({ address, weight })).sort(byAddress)
}

interface TaskSetup {
  label: string
  requester: Address
  fee: bigint
  executors: readonly Address[]
  dissenters?: readonly Address[]
}

/** The epoch's batch as a settler builds it: core's settleProposal over the port's epoch facts. */
async function buildBatch(port: SettlementPort, epoch: bigint, tasks: readonly TaskSetup[], previous: ReadonlyMap<Address, Balance> = new Map()): Promise<EpochBatchResult> {
  const settled: SettledTask[] = tasks.map((t) => ({
    verdict: {
      taskId: keccak256(stringToBytes(`task:${t.label}`)),
      outcome: 'verified',
      resultHash: keccak256(stringToBytes(`result:${t.label}`)),
      executors: [...t.executors],
      dissenters: [...(t.dissenters ?? [])],
    },
    requester: t.requester,
    fee: t.fee,
  }))
  const requesters = [...new Set(tasks.map((t) => t.requester))]
  const dissenters = [...new Set(tasks.flatMap((t) => t.dissenters ?? []))]
  return settleProposal({ epoch, previous, tasks: settled }, await port.epochFacts(epoch, requesters, dissenters))
}

/** `signer`'s BLS signature (compressed) of the batch digest. */
async function signOne(signer: PrivateKeyAccount, batch: EpochBatch, domain: ProtocolDomain): Promise<Hex> {
  return (await blsKeyOf(signer)).sign(hashEpochBatch(batch, domain))
}

/** The G2 point at infinity, compressed: the aggregate of no signatures. */
const INFINITY_G2: Hex = `0xc0${'00'.repeat(95)}`

/**
 * What Settlement takes: the aggregate of `signers`' BLS signatures of the batch digest, and the
 * rest of the epoch's committee (as `port` reads it) as non-signers, by increasing address.
 */
async function signBatch(port: SettlementPort, signers: readonly PrivateKeyAccount[], batch: EpochBatch, domain: ProtocolDomain): Promise<AggregateSignature> {
  const signatures = await Promise.all(signers.map((signer) => signOne(signer, batch, domain)))
  const signing = new Set(signers.map((s) => s.address))
  const committee = await port.committee(batch.epoch)
  return {
    signature: signatures.length === 0 ? INFINITY_G2 : aggregateBlsSignatures(signatures),
    nonSigners: committee.map((m) => m.node).filter((node) => !signing.has(node)),
  }
}

/**
 * The behaviour every chain adapter must show through `ChainView` and `SettlementPort` (the anvil
 * contracts with their viem adapters, the in-memory chain), like js-libp2p's interface compliance
 * suites. Nothing here depends on gas or block numbers, where adapters legitimately differ.
 */
export function describeChainCompliance(name: string, factory: ChainFactory): void {
  async function withChain(options: ChainFixtureOptions, run: (fixture: ChainFixture) => Promise<void>): Promise<void> {
    const fixture = await factory.create(options)
    try {
      await run(fixture)
    } finally {
      await fixture.close()
    }
  }

  async function assertRejected(promise: Promise<unknown>, code: string, details?: Record<string, unknown>): Promise<void> {
    await assert.rejects(promise, (error: unknown) => {
      const rejection = factory.rejection(error)
      assert.ok(rejection !== undefined, `expected the chain to refuse with ${code}, got ${String(error)}`)
      assert.equal(rejection.code, code)
      if (details !== undefined) assert.deepEqual(rejection.details, details)
      return true
    })
  }

  async function assertNothingSettled(port: SettlementPort): Promise<void> {
    assert.equal(await port.lastSettledEpoch(), null)
    assert.equal(await port.settledDigest(0n), null)
    assert.equal(await port.balancesRoot(), zeroHash)
  }


  describe(`Chain compliance: ${name}`, () => {
    it('numbers epochs from 0 and keeps the snapshot of each opened epoch', () =>
      withChain(optionsFor([100n, 100n, 100n]), async (f) => {
        assert.equal(f.chain.epoch(), -1n)
        assert.equal(f.chain.snapshot(0n), undefined)
        await assertNothingSettled(f.settlement(0))
        assert.equal(await f.openEpoch(), 0n)
        assert.equal(f.chain.epoch(), 0n)
        const first = f.chain.snapshot(0n)
        assert.equal(first?.epoch, 0n)
        assert.equal(size(first.seed), 32)
        assert.notEqual(first.seed, zeroHash)
        assert.equal(await f.openEpoch(), 1n)
        assert.equal(f.chain.epoch(), 1n)
        assert.equal(f.chain.snapshot(1n)?.epoch, 1n)
        assert.notEqual(f.chain.snapshot(1n)?.seed, first.seed, 'each epoch has its own seed')
        assert.equal(f.chain.snapshot(0n)?.seed, first.seed, 'an older snapshot stays as it was')
        assert.equal(f.chain.snapshot(2n), undefined)
        if (f.chain.loadSnapshot !== undefined) assert.equal((await f.chain.loadSnapshot(0n))?.seed, first.seed)
      }))

    it('lists nodes at or above the minimum stake, weighted by stake, for the runtimes they advertised', () =>
      withChain(optionsFor([100n, 200n, 50n, 300n], {}, [undefined, ['wasm', 'onnx:tiny'], ['wasm'], ['onnx:tiny']]), async (f) => {
        await f.openEpoch()
        const [a, b, , d] = nodeAccounts
        const view = f.chain.snapshot(0n)
        assert.deepEqual(candidates(view, 'wasm'), [{ address: a!.address, weight: 100n }, { address: b!.address, weight: 200n }].sort(byAddress))
        assert.deepEqual(candidates(view, 'onnx:tiny'), [{ address: b!.address, weight: 200n }, { address: d!.address, weight: 300n }].sort(byAddress))
        assert.deepEqual(candidates(view, 'python'), [])
      }))

    it('counts stake added after an epoch opened from the next epoch on', () =>
      withChain(optionsFor([100n, 100n, 100n]), async (f) => {
        await f.openEpoch()
        await f.stake(0, 200n)
        const a = nodeAccounts[0]!.address
        const port = f.settlement(1)
        assert.equal(candidates(f.chain.snapshot(0n), 'wasm').find((c) => c.address === a)?.weight, 100n)
        assert.equal(await port.committeeWeight(0n, a), 100n)
        assert.equal(await port.requiredWeight(0n), 200n)
        assert.deepEqual((await port.epochFacts(0n, [], [a])).stakes, new Map([[a, 100n]]))
        await f.openEpoch()
        assert.equal(candidates(f.chain.snapshot(1n), 'wasm').find((c) => c.address === a)?.weight, 300n)
        assert.equal(await port.committeeWeight(1n, a), 300n)
        assert.equal(await port.requiredWeight(1n), 334n, '⌈2/3 · 500⌉')
        assert.deepEqual((await port.epochFacts(1n, [], [a])).stakes, new Map([[a, 300n]]))
      }))

    it('counts escrow as it stood at the snapshot: a later deposit counts from the next epoch', () =>
      withChain(optionsFor([100n, 100n, 100n]), async (f) => {
        const port = f.settlement(0)
        await f.deposit(requester, 1_000n)
        await f.openEpoch()
        assert.equal(f.chain.escrowBalance(requester.address, 0n), 1_000n)
        assert.equal(f.chain.escrowBalance(otherRequester.address, 0n), 0n)
        assert.equal(f.chain.escrowBalance(requester.address, 1n), 0n, 'an epoch not open yet holds nothing')
        const before = await port.epochFacts(0n, [requester.address, otherRequester.address], [])
        assert.deepEqual(before.funded, new Map([[requester.address, 1_000n], [otherRequester.address, 0n]]))
        assert.deepEqual(before.depositors, [requester.address])

        await f.deposit(requester, 500n)
        await f.deposit(otherRequester, 700n)
        assert.equal(f.chain.escrowBalance(requester.address, 0n), 1_000n, 'a deposit after the snapshot does not count in this epoch')
        assert.equal(f.chain.escrowBalance(otherRequester.address, 0n), 0n)
        const still = await port.epochFacts(0n, [requester.address, otherRequester.address], [])
        assert.deepEqual(still.funded, before.funded)
        assert.deepEqual(still.depositors, [requester.address])

        await f.openEpoch()
        assert.equal(f.chain.escrowBalance(requester.address, 1n), 1_500n)
        assert.equal(f.chain.escrowBalance(otherRequester.address, 1n), 700n)
        // A spec of epoch 0 still in grace is charged by epoch 0's batch: only epoch 0's escrow covers it.
        assert.equal(f.chain.escrowBalance(requester.address, 0n), 1_000n)
        assert.equal(f.chain.escrowBalance(otherRequester.address, 0n), 0n)
        const next = await port.epochFacts(1n, [requester.address, otherRequester.address], [])
        assert.deepEqual(next.funded, new Map([[requester.address, 1_500n], [otherRequester.address, 700n]]))
        assert.deepEqual(next.depositors, [requester.address, otherRequester.address], 'in order of first deposit')
      }))

    it('reads escrow at the snapshot even when it changed both before and after it', () =>
      withChain(optionsFor([100n, 100n, 100n]), async (f) => {
        await f.deposit(requester, 1_000n)
        await f.openEpoch(() => f.deposit(requester, 300n))
        assert.equal(f.chain.escrowBalance(requester.address, 0n), 1_000n)
        assert.deepEqual((await f.settlement(0).epochFacts(0n, [requester.address], [])).funded, new Map([[requester.address, 1_000n]]))
        await f.openEpoch(() => f.requestWithdrawal(requester, 200n))
        assert.equal(f.chain.escrowBalance(requester.address, 1n), 1_300n)
        await f.openEpoch()
        assert.equal(f.chain.escrowBalance(requester.address, 2n), 1_100n)
        assert.equal(f.chain.escrowBalance(requester.address, 1n), 1_300n)
        assert.equal(f.chain.escrowBalance(requester.address, 0n), 1_000n)
      }))

    it('does not count a pending withdrawal as spendable, from the next snapshot on', () =>
      withChain(optionsFor([100n, 100n, 100n]), async (f) => {
        await f.deposit(requester, 1_000n)
        await f.openEpoch()
        await f.requestWithdrawal(requester, 400n)
        assert.equal(f.chain.escrowBalance(requester.address, 0n), 1_000n)
        assert.deepEqual((await f.settlement(0).epochFacts(0n, [requester.address], [])).funded, new Map([[requester.address, 1_000n]]))
        await f.openEpoch()
        assert.equal(f.chain.escrowBalance(requester.address, 1n), 600n)
        assert.equal(f.chain.escrowBalance(requester.address, 0n), 1_000n)
        assert.deepEqual((await f.settlement(0).epochFacts(1n, [requester.address], [])).funded, new Map([[requester.address, 600n]]))
      }))

    it('weighs committee members by snapshot stake and requires ⌈2/3⌉ of it; others weigh 0', () =>
      withChain(optionsFor([100n, 150n, 250n]), async (f) => {
        await f.openEpoch()
        for (const node of [0, 1, 2]) {
          const port = f.settlement(node)
          assert.equal(await port.committeeWeight(0n, nodeAccounts[0]!.address), 100n)
          assert.equal(await port.committeeWeight(0n, nodeAccounts[2]!.address), 250n)
          assert.equal(await port.committeeWeight(0n, outsider.address), 0n)
          assert.equal(await port.requiredWeight(0n), 334n, '⌈2/3 · 500⌉')
        }
        const facts = await f.settlement(0).epochFacts(0n, [], [])
        assert.deepEqual(facts.split, { executorsBps: base.executorsBps })
        assert.equal(facts.dissentSlashBps, base.dissentSlashBps)
        // Not opened yet.
        assert.equal(await f.settlement(0).committeeWeight(1n, nodeAccounts[0]!.address), 0n)
        assert.equal(await f.settlement(0).requiredWeight(1n), 0n)
      }))

    it('fixes committee weights at the snapshot: a jail after it changes the next epoch, not the open one', () =>
      withChain(optionsFor([100n, 100n, 100n, 100n]), async (f) => {
        const [a, b, c, d] = nodeAccounts as [PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount]
        const port = f.settlement(0)
        await f.deposit(requester, 1_000n)
        await f.openEpoch()
        assert.equal(await port.committeeWeight(1n, a.address), 0n, 'epoch 1 is not opened yet')
        await f.openEpoch()
        assert.equal(await port.committeeWeight(1n, a.address), 100n)
        assert.equal(await port.committeeWeight(1n, d.address), 100n)
        const { batch } = await buildBatch(port, 0n, [{ label: 'jail', requester: requester.address, fee: 100n, executors: [a.address], dissenters: [d.address] }])
        await port.submitBatch(batch, await signBatch(port, [a, b, c], batch, f.domain))
        // d is jailed now, after epoch 1's snapshot: it still sits on epoch 1's committee (so a member
        // cannot void a batch it signed by getting itself jailed before the batch lands), not on epoch 2's.
        assert.equal(await port.committeeWeight(1n, d.address), 100n, 'epoch 1 keeps the committee of its snapshot')
        await f.openEpoch()
        assert.equal(await port.committeeWeight(2n, d.address), 0n, 'jailed at the snapshot of epoch 2')
      }))

    it('takes the whole signing set as the committee: every eligible node with a BLS key, with its key and stake', () =>
      withChain(optionsFor([1_000_000n, 100n, 100n, 100n, 100n, 100n, 100n, 50n]), async (f) => {
        const port = f.settlement(0)
        assert.deepEqual(await port.committee(0n), [], 'not opened yet')
        await f.openEpoch()
        const expected = await Promise.all(
          nodeAccounts.slice(0, 7).map(async (account, i) => ({ node: account.address, weight: i === 0 ? 1_000_000n : 100n, publicKey: (await blsKeyOf(account)).publicKey })),
        )
        assert.deepEqual(await port.committee(0n), expected.sort((x, y) => (x.node.toLowerCase() < y.node.toLowerCase() ? -1 : 1)))
        for (const member of expected) assert.equal(await port.committeeWeight(0n, member.node), member.weight)
        assert.equal(await port.committeeWeight(0n, nodeAccounts[7]!.address), 0n, 'below the minimum stake: not a member')
        assert.equal(await port.requiredWeight(0n), 667_067n, '⌈2/3 · 1,000,600⌉')
      }))

    it('registers a node’s BLS key once, with a proof of possession of its own; its stake joins the committee from the next snapshot', () =>
      withChain({ ...optionsFor([100n, 100n, 100n]), nodes: [...optionsFor([100n, 100n, 100n]).nodes, { account: nodeAccounts[3]!, stake: 100n, blsKey: false }] }, async (f) => {
        const [a, , , late] = nodeAccounts as [PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount]
        const port = f.settlement(3)
        await f.openEpoch()
        assert.equal(await port.hasBlsKey(late.address), false)
        assert.equal(await port.committeeWeight(0n, late.address), 0n, 'staked without a key: not on the committee')
        assert.equal(await port.requiredWeight(0n), 200n, '⌈2/3 · 300⌉: its stake cannot sign, so it is not waited for')
        const [lateKey, otherKey] = [await blsKeyOf(late), await blsKeyOf(a)]
        await assertRejected(port.registerBlsKey(late.address, lateKey.publicKey, lateKey.proofOfPossession(a.address)), 'STAKE_MANAGER_INVALID_PROOF_OF_POSSESSION', {})
        await assertRejected(port.registerBlsKey(late.address, lateKey.publicKey, otherKey.proofOfPossession(late.address)), 'STAKE_MANAGER_INVALID_PROOF_OF_POSSESSION', {})
        await assertRejected(port.registerBlsKey(late.address, `0x${'00'.repeat(128)}`, lateKey.proofOfPossession(late.address)), 'STAKE_MANAGER_INVALID_BLS_KEY', {})
        // A coordinate at p: not a field element.
        const atP = `0x${'00'.repeat(16)}1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab${lateKey.publicKey.slice(130)}` as Hex
        await assertRejected(port.registerBlsKey(late.address, atP, lateKey.proofOfPossession(late.address)), 'STAKE_MANAGER_INVALID_BLS_KEY', {})
        assert.equal(await port.hasBlsKey(late.address), false, 'nothing registered by the refused calls')
        await port.registerBlsKey(late.address, lateKey.publicKey, lateKey.proofOfPossession(late.address))
        assert.equal(await port.hasBlsKey(late.address), true)
        await assertRejected(port.registerBlsKey(late.address, lateKey.publicKey, lateKey.proofOfPossession(late.address)), 'STAKE_MANAGER_BLS_KEY_ALREADY_REGISTERED', { node: late.address })
        assert.equal(await port.committeeWeight(0n, late.address), 0n, 'the open epoch keeps the committee of its snapshot')
        await f.openEpoch()
        assert.deepEqual((await port.committee(1n)).find((m) => m.node === late.address), { node: late.address, weight: 100n, publicKey: lateKey.publicKey })
        assert.equal(await port.requiredWeight(1n), 267n, '⌈2/3 · 400⌉')
      }))

    it('settles a batch signed with exactly the required weight and records its digest and balances root', () =>
      withChain(optionsFor([100n, 100n, 100n]), async (f) => {
        const [a, b] = nodeAccounts as [PrivateKeyAccount, PrivateKeyAccount]
        await f.deposit(requester, 1_000n)
        await f.openEpoch()
        await f.openEpoch()
        const port = f.settlement(2)
        const { batch } = await buildBatch(port, 0n, [{ label: 'settles', requester: requester.address, fee: 600n, executors: [a.address, b.address] }])
        assert.equal(batch.totalFees, 600n, 'the escrow at the snapshot covers the fee')
        const result = await port.submitBatch(batch, await signBatch(port, [a, b], batch, f.domain))
        assert.equal(typeof result.gasUsed, 'bigint')
        for (const reader of [port, f.settlement(0)]) {
          assert.equal(await reader.settledDigest(0n), hashEpochBatch(batch, f.domain))
          assert.equal(await reader.lastSettledEpoch(), 0n)
          assert.equal(await reader.balancesRoot(), batch.balancesRoot)
          assert.equal(await reader.settledDigest(1n), null)
        }
        assert.notEqual(batch.balancesRoot, zeroHash)
      }))

    it('rejects a batch signed with too little weight, naming it, and changes nothing', () =>
      withChain(optionsFor([100n, 100n, 100n]), async (f) => {
        const [a] = nodeAccounts as [PrivateKeyAccount]
        await f.deposit(requester, 1_000n)
        await f.openEpoch()
        await f.openEpoch()
        const port = f.settlement(0)
        const { batch } = await buildBatch(port, 0n, [{ label: 'few', requester: requester.address, fee: 600n, executors: [a.address] }])
        await assertRejected(port.submitBatch(batch, await signBatch(port, [a], batch, f.domain)), 'SETTLEMENT_INSUFFICIENT_SIGNATURES', { signed: 100n, required: 200n })
        await assertRejected(port.submitBatch(batch, await signBatch(port, [], batch, f.domain)), 'SETTLEMENT_INSUFFICIENT_SIGNATURES', { signed: 0n, required: 200n })
        await assertNothingSettled(port)
      }))

    it('rejects duplicated or unsorted non-signers', () =>
      withChain(optionsFor([100n, 100n, 100n, 100n, 100n, 100n]), async (f) => {
        await f.openEpoch()
        await f.openEpoch()
        const port = f.settlement(0)
        const { batch } = await buildBatch(port, 0n, [])
        const { signature, nonSigners } = await signBatch(port, nodeAccounts.slice(0, 4), batch, f.domain)
        assert.equal(nonSigners.length, 2)
        await assertRejected(port.submitBatch(batch, { signature, nonSigners: [nonSigners[0]!, nonSigners[0]!, nonSigners[1]!] }), 'SETTLEMENT_NON_SIGNERS_NOT_SORTED', {})
        await assertRejected(port.submitBatch(batch, { signature, nonSigners: [...nonSigners].reverse() }), 'SETTLEMENT_NON_SIGNERS_NOT_SORTED', {})
        await assertNothingSettled(port)
        await port.submitBatch(batch, { signature, nonSigners })
        assert.equal(await port.lastSettledEpoch(), 0n)
      }))

    it('rejects non-signers that are not members, and aggregates that are not the signers’ own', () =>
      withChain(optionsFor([100n, 100n, 100n, 50n]), async (f) => {
        const [a, b, c, poor] = nodeAccounts as [PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount]
        await f.openEpoch()
        await f.openEpoch()
        const port = f.settlement(0)
        const { batch } = await buildBatch(port, 0n, [])
        const signed = await signBatch(port, [a, b], batch, f.domain)
        for (const stranger of [outsider, poor]) {
          const nonSigners = [...signed.nonSigners, stranger.address].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1))
          await assertRejected(port.submitBatch(batch, { ...signed, nonSigners }), 'SETTLEMENT_NOT_COMMITTEE_MEMBER', { node: stranger.address })
        }
        // c counted as a signer without its signature; a stranger's signature in c's place; a signature of another batch.
        await assertRejected(port.submitBatch(batch, { ...signed, nonSigners: [] }), 'SETTLEMENT_INVALID_SIGNATURE', {})
        const withStranger = aggregateBlsSignatures([signed.signature, await signOne(outsider, batch, f.domain)])
        await assertRejected(port.submitBatch(batch, { signature: withStranger, nonSigners: [] }), 'SETTLEMENT_INVALID_SIGNATURE', {})
        const other = await signBatch(port, [a, b], { ...batch, taskCount: 1 }, f.domain)
        await assertRejected(port.submitBatch(batch, other), 'SETTLEMENT_INVALID_SIGNATURE', {})
        await assertNothingSettled(port)
        assert.deepEqual(signed.nonSigners, [c.address])
      }))

    it('rejects a second batch for a settled epoch and keeps the first', () =>
      withChain(optionsFor([100n, 100n, 100n]), async (f) => {
        const signers = nodeAccounts.slice(0, 3)
        await f.deposit(requester, 1_000n)
        await f.openEpoch()
        await f.openEpoch()
        const port = f.settlement(0)
        const first = await buildBatch(port, 0n, [{ label: 'first', requester: requester.address, fee: 300n, executors: [signers[0]!.address] }])
        await port.submitBatch(first.batch, await signBatch(port, signers, first.batch, f.domain))
        const second = await buildBatch(port, 0n, [{ label: 'second', requester: requester.address, fee: 500n, executors: [signers[1]!.address] }])
        await assertRejected(port.submitBatch(second.batch, await signBatch(port, signers, second.batch, f.domain)), 'SETTLEMENT_WRONG_EPOCH', { expected: 1n, got: 0n })
        await assertRejected(port.submitBatch(first.batch, await signBatch(port, signers, first.batch, f.domain)), 'SETTLEMENT_WRONG_EPOCH', { expected: 1n, got: 0n })
        assert.equal(await port.settledDigest(0n), hashEpochBatch(first.batch, f.domain))
        assert.equal(await port.balancesRoot(), first.batch.balancesRoot)
        assert.equal(await port.lastSettledEpoch(), 0n)
      }))

    it('rejects a batch for an epoch not opened yet, and one that skips the next epoch to settle', () =>
      withChain(optionsFor([100n, 100n, 100n]), async (f) => {
        const signers = nodeAccounts.slice(0, 3)
        const port = f.settlement(0)
        const empty = (epoch: bigint) =>
          buildEpochBatch({ epoch, tasks: [], previous: new Map(), chargeable: new Map(), treasury: zeroAddress, split: { executorsBps: base.executorsBps } }).batch
        await assertRejected(port.submitBatch(empty(0n), await signBatch(port, signers, empty(0n), f.domain)), 'SETTLEMENT_EPOCH_NOT_OPENED', { epoch: 0n })
        await f.openEpoch()
        await f.openEpoch()
        await f.openEpoch()
        await assertRejected(port.submitBatch(empty(1n), await signBatch(port, signers, empty(1n), f.domain)), 'SETTLEMENT_WRONG_EPOCH', { expected: 0n, got: 1n })
        await assertNothingSettled(port)
        await port.submitBatch(empty(0n), await signBatch(port, signers, empty(0n), f.domain))
        await assertRejected(port.submitBatch(empty(2n), await signBatch(port, signers, empty(2n), f.domain)), 'SETTLEMENT_WRONG_EPOCH', { expected: 1n, got: 2n })
        await port.submitBatch(empty(1n), await signBatch(port, signers, empty(1n), f.domain))
        assert.equal(await port.lastSettledEpoch(), 1n)
      }))

    it('rejects a batch whose rewards and treasury share do not add up to its fees', () =>
      withChain(optionsFor([100n, 100n, 100n]), async (f) => {
        const signers = nodeAccounts.slice(0, 3)
        await f.deposit(requester, 1_000n)
        await f.openEpoch()
        await f.openEpoch()
        const port = f.settlement(0)
        const { batch } = await buildBatch(port, 0n, [{ label: 'unbalanced', requester: requester.address, fee: 1_000n, executors: [signers[0]!.address] }])
        const skimmed = { ...batch, treasuryAmount: batch.treasuryAmount + 1n }
        await assertRejected(port.submitBatch(skimmed, await signBatch(port, signers, skimmed, f.domain)), 'SETTLEMENT_UNBALANCED', {
          totalFees: 1_000n,
          totalRewards: 700n,
          treasuryAmount: 301n,
        })
        await assertNothingSettled(port)
      }))

    it('applies a settled batch’s penalties: the slash and the jail count from the next snapshot', () =>
      withChain(optionsFor([100n, 100n, 100n, 100n]), async (f) => {
        const [a, b, c, d] = nodeAccounts as [PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount]
        await f.deposit(requester, 1_000n)
        await f.openEpoch()
        await f.openEpoch()
        const port = f.settlement(1)
        const { batch } = await buildBatch(port, 0n, [{ label: 'dissent', requester: requester.address, fee: 100n, executors: [a.address, b.address], dissenters: [d.address] }])
        assert.deepEqual(
          batch.penalties.map(({ node, slashAmount }) => ({ node, slashAmount })),
          [{ node: d.address, slashAmount: 10n }],
        )
        await port.submitBatch(batch, await signBatch(port, [a, b, c], batch, f.domain))
        assert.equal(await port.committeeWeight(1n, d.address), 100n, 'the open epoch keeps the committee of its snapshot')
        assert.equal(await port.committeeWeight(1n, a.address), 100n)
        assert.equal(await port.requiredWeight(1n), 267n, 'the open epoch keeps its snapshot')
        await f.openEpoch()
        assert.deepEqual(
          candidates(f.chain.snapshot(2n), 'wasm').map((n) => n.address),
          [a.address, b.address, c.address].sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1)),
        )
        assert.deepEqual((await port.epochFacts(2n, [], [d.address])).stakes, new Map([[d.address, 90n]]))
        assert.equal(await port.requiredWeight(2n), 200n, '⌈2/3 · 300⌉: the jailed stake is not waited for')
        assert.equal(await port.committeeWeight(2n, d.address), 0n)
      }))

    it('proves an equivocation once: the signer of two batches of one round is slashed and jailed from the next snapshot', () =>
      withChain(optionsFor([100n, 100n, 100n, 100n]), async (f) => {
        const [a, b] = nodeAccounts as [PrivateKeyAccount, PrivateKeyAccount]
        await f.deposit(requester, 1_000n)
        await f.openEpoch()
        const port = f.settlement(1)
        const { batch: one } = await buildBatch(port, 0n, [{ label: 'one', requester: requester.address, fee: 100n, executors: [a.address] }])
        const { batch: two } = await buildBatch(port, 0n, [{ label: 'two', requester: requester.address, fee: 100n, executors: [a.address] }])
        const sigOne = await signOne(a, one, f.domain)
        const sigTwo = await signOne(a, two, f.domain)
        const otherTwo = await signOne(b, two, f.domain)
        await assertRejected(port.proveEquivocation(one, sigOne, one, sigOne, a.address), 'SETTLEMENT_NOT_EQUIVOCATION')
        const nextRound = { ...two, round: 1 }
        const sigNextRound = await signOne(a, nextRound, f.domain)
        await assertRejected(port.proveEquivocation(one, sigOne, nextRound, sigNextRound, a.address), 'SETTLEMENT_NOT_EQUIVOCATION')
        await assertRejected(port.proveEquivocation(one, sigOne, two, otherTwo, a.address), 'SETTLEMENT_NOT_EQUIVOCATION')
        await assertRejected(port.proveEquivocation(one, sigOne, two, sigTwo, b.address), 'SETTLEMENT_NOT_EQUIVOCATION')
        await assertRejected(port.proveEquivocation(one, sigOne, two, sigTwo, outsider.address), 'SETTLEMENT_NOT_COMMITTEE_MEMBER', { node: outsider.address })
        assert.equal(await port.isEquivocationPunished(0n, a.address), false)
        await port.proveEquivocation(one, sigOne, two, sigTwo, a.address)
        assert.equal(await port.isEquivocationPunished(0n, a.address), true)
        await assertRejected(port.proveEquivocation(two, sigTwo, one, sigOne, a.address), 'SETTLEMENT_ALREADY_PUNISHED')
        await f.openEpoch()
        assert.deepEqual((await port.epochFacts(1n, [], [a.address, b.address])).stakes, new Map([[a.address, 90n], [b.address, 100n]]))
        assert.equal(await port.committeeWeight(1n, a.address), 0n, 'jailed at the next snapshot')
      }))

    it('waits only for eligible stake: members jailed after two equivocations leave the threshold, and come back by a refresh after their jail', () =>
      withChain(optionsFor([200n, 200n, 200n, 200n], { jailBlocks: 3n }), async (f) => {
        const [a, b, c, d] = nodeAccounts as [PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount, PrivateKeyAccount]
        await f.deposit(requester, 1_000n)
        await f.openEpoch()
        const port = f.settlement(2)
        for (const cheater of [a, b]) {
          const { batch: one } = await buildBatch(port, 0n, [{ label: `one-${cheater.address}`, requester: requester.address, fee: 100n, executors: [c.address] }])
          const { batch: two } = await buildBatch(port, 0n, [{ label: `two-${cheater.address}`, requester: requester.address, fee: 100n, executors: [c.address] }])
          await port.proveEquivocation(one, await signOne(cheater, one, f.domain), two, await signOne(cheater, two, f.domain), cheater.address)
        }
        await f.openEpoch()
        // Epoch 0 keeps its snapshot's committee; epoch 1's waits for c and d alone. Before, the
        // jailed 360 still counted: ⌈2/3 · 760⌉ = 507 of the 400 that could sign, for good.
        assert.equal(await port.requiredWeight(0n), 534n)
        assert.equal(await port.requiredWeight(1n), 267n, '⌈2/3 · 400⌉')
        assert.equal(await port.committeeWeight(1n, a.address), 0n)
        const { batch: zero } = await buildBatch(port, 0n, [])
        await port.submitBatch(zero, await signBatch(port, [a, b, c], zero, f.domain))
        await f.openEpoch()
        const { batch: first } = await buildBatch(port, 1n, [{ label: 'after the jail', requester: requester.address, fee: 100n, executors: [c.address, d.address] }])
        await port.submitBatch(first, await signBatch(port, [c, d], first, f.domain))
        assert.equal(await port.lastSettledEpoch(), 1n)
        // The jails run out with no transaction: a node counts again once anyone refreshes it.
        for (let i = 0; !(await port.eligibilityOf(a.address)).stale; i++) {
          assert.ok(i < 10, 'the jail of 3 blocks runs out')
          await f.deposit(requester, 1n)
        }
        assert.deepEqual(await port.eligibilityOf(b.address), { eligibleStake: 0n, stale: true })
        await port.refreshEligibility(a.address)
        assert.deepEqual(await port.eligibilityOf(a.address), { eligibleStake: 180n, stale: false })
        await f.openEpoch()
        assert.equal(await port.committeeWeight(3n, a.address), 180n, 'a, refreshed, signs again with its slashed stake')
        assert.equal(await port.committeeWeight(3n, b.address), 0n, 'b, not refreshed, does not')
        assert.equal(await port.requiredWeight(3n), 387n, '⌈2/3 · 580⌉')
      }))

    it('rejects a batch for the epoch still running, and takes it once the epoch has ended', () =>
      withChain(optionsFor([100n, 100n, 100n]), async (f) => {
        await f.openEpoch()
        const port = f.settlement(0)
        const { batch } = await buildBatch(port, 0n, [])
        const signatures = await signBatch(port, nodeAccounts.slice(0, 3), batch, f.domain)
        await assertRejected(port.submitBatch(batch, signatures), 'SETTLEMENT_EPOCH_NOT_ENDED')
        await assertNothingSettled(port)
        await f.openEpoch()
        await port.submitBatch(batch, signatures)
        assert.equal(await port.lastSettledEpoch(), 0n)
      }))
  })
}
