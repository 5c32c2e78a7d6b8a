import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createWalletClient, http, parseEther } from 'viem'
import type { Address, Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { EscrowAbi, SettlementAbi, TestTokenAbi } from '../src/chain/generated/contracts.ts'
import { defineDevChain } from '../src/chain/viem/defineDevChain.ts'
import { waitForReceipt } from '../src/chain/viem/waitForReceipt.ts'
import { startLocalNetwork } from '../src/devnet/localNetwork.ts'
import type { LocalNetwork } from '../src/devnet/localNetwork.ts'
import { buildWorkload } from '../src/devnet/workload.ts'
import type { WorkloadItem } from '../src/devnet/workload.ts'
import { NodeApiError, WithdrawalNotReadyError } from '../src/sdk/index.ts'
import type { VeritaskClient } from '../src/sdk/index.ts'
import { eventually } from './helpers/eventually.ts'
import { testAccount } from './helpers/fixtures.ts'
import { localRequester } from './helpers/localRequester.ts'

const FEE = 10n ** 15n
/** Tokens each requester holds beyond what it deposits: anchoring task ids pays the minimum fee per id from the wallet. */
const ANCHOR_TOKENS = 10n ** 12n

/**
 * The attacks of the escrow issue, replayed by requesters against a live local network (anvil,
 * four nodes following the chain and settling every epoch themselves). Each ends with the money
 * balancing: the escrow holds at least what it owes to every depositor and every earner.
 */
describe('escrow on a live network: what a node accepts is what the batch charges', () => {
  let net: LocalNetwork
  let workload: WorkloadItem[]
  let next = 0
  const deposited = new Map<Address, bigint>()

  const read = <T>(address: Address, abi: readonly unknown[], functionName: string, args: readonly unknown[] = []) =>
    net.publicClient.readContract({ address, abi, functionName, args } as never) as Promise<T>
  const escrowRead = <T>(functionName: string, args: readonly unknown[] = []) => read<T>(net.contracts.escrow, EscrowAbi, functionName, args)

  /** The network's requester funds one fresh requester at a time: its nonces must not race. */
  let funding: Promise<unknown> = Promise.resolve()
  /** A fresh requester with gas and `tokens` fee tokens (and `ANCHOR_TOKENS` more), paid by the network's requester. */
  async function requesterWith(label: string, tokens: bigint): Promise<VeritaskClient> {
    const chain = defineDevChain(net.rpcUrl, net.chainId)
    const funder = createWalletClient({ chain, transport: http(net.rpcUrl), account: privateKeyToAccount(net.requesterKey) })
    const account = testAccount(`escrow-${label}`)
    const funded = funding.then(async () => {
      await waitForReceipt(net.publicClient, await funder.sendTransaction({ to: account.address, value: parseEther('1') }))
      await waitForReceipt(
        net.publicClient,
        await funder.writeContract({ address: net.contracts.token, abi: TestTokenAbi, functionName: 'transfer', args: [account.address, tokens + ANCHOR_TOKENS] }),
      )
    })
    funding = funded.catch(() => undefined)
    await funded
    return localRequester(net, { account })
  }
  async function deposit(client: VeritaskClient, amount: bigint): Promise<bigint> {
    await client.deposit({ amount })
    deposited.set(client.account.address, (deposited.get(client.account.address) ?? 0n) + amount)
    return net.publicClient.getBlockNumber()
  }
  const submit = (client: VeritaskClient, options: { escrowWaitMs?: number } = {}) => {
    const item = workload[next++ % workload.length]!
    return client.submitTask({ program: item.programBytes, input: item.input, limits: item.limits, fee: FEE, ...options })
  }
  /**
   * The account's leaf in the chain's balances root, as the nodes' APIs serve it: the first that
   * proves against the root (a node may not have followed the newest settlement yet). With
   * `optional`, zeros for an account every node says has no leaf.
   */
  async function leafOf(account: Address, optional = false): Promise<{ earned: bigint; charged: bigint }> {
    return eventually(async () => {
      let missing = 0
      for (const url of net.nodeApiUrls) {
        const res = await fetch(`${url}/v1/balances/${account}`)
        const body = (await res.json()) as { earned: string; charged: string; proof: Hex[]; error?: { code: string } }
        if (res.status === 404 && body.error?.code === 'BALANCE_NOT_FOUND') {
          missing++
          continue
        }
        assert.equal(res.status, 200, JSON.stringify(body))
        const leaf = { earned: BigInt(body.earned), charged: BigInt(body.charged) }
        if (await escrowRead<boolean>('verifyBalance', [account, leaf.earned, leaf.charged, body.proof])) return leaf
      }
      return optional && missing === net.nodeApiUrls.length ? { earned: 0n, charged: 0n } : undefined
    })
  }
  /**
   * What settlement charges for `taskIds`: the fee of each task settled with a receipt, nothing for
   * one its epoch omitted (decided after the batch was built).
   */
  async function chargedFor(client: VeritaskClient, taskIds: readonly Hex[]): Promise<bigint> {
    let charged = 0n
    for (const taskId of taskIds) {
      const receipt = await client.getReceipt({ taskId, wait: true }).catch((error: unknown) => {
        if (error instanceof NodeApiError && error.code === 'RECEIPT_OMITTED') return undefined
        throw error
      })
      if (receipt !== undefined) charged += FEE
    }
    return charged
  }
  const settledEpochs = () => read<bigint>(net.contracts.settlement, SettlementAbi, 'settledEpochCount')
  /** Waits until an epoch whose snapshot is at or after `block` has settled. */
  async function settledAfter(block: bigint): Promise<void> {
    await eventually(async () => {
      const count = await settledEpochs()
      if (count === 0n) return undefined
      const snapshot = await read<bigint>(net.contracts.settlement, SettlementAbi, 'snapshotBlockOf', [count - 1n])
      return snapshot >= block ? true : undefined
    })
  }

  before(async () => {
    // Epochs of 3 s (30 blocks), so that the withdrawal waits below take a few epochs, not minutes.
    net = await startLocalNetwork({ nodes: 4, blockMs: 100, epochBlocks: 30n })
    workload = await buildWorkload('escrow', 8)
  })
  after(async () => {
    await net?.stop()
  })

  // Each case has its own requesters, so the three run side by side; the solvency check comes after all.
  describe('the attacks', { concurrency: true }, () => {
    it('spend, then withdraw: the withdrawal waits for the epoch that charges the spending, and pays only the rest', async () => {
      const attacker = await requesterWith('attacker', 10n * FEE)
      const victim = await requesterWith('victim', 10n * FEE)
      await deposit(attacker, 4n * FEE)
      await deposit(victim, 10n * FEE)
      // Both spend once their deposits count (the SDK waits for the nodes' snapshot to include them).
      const victimTask = (await submit(victim)).taskId
      await victim.waitForResult({ taskId: victimTask })
      const spent = await submit(attacker)
      // The attacker asks for everything back while its task is still unsettled, and spends again at once.
      const { requestedAtBlock } = await attacker.requestWithdrawal({ amount: 4n * FEE })
      const second = await submit(attacker, { escrowWaitMs: 0 }).catch((error: unknown) => error)
      // Withdrawing before an epoch after the request has settled is refused, whatever the delay.
      await assert.rejects(attacker.withdraw(), WithdrawalNotReadyError)

      const { amount, requested } = await attacker.withdraw({ wait: true })
      assert.equal(requested, 4n * FEE)
      // The second spec names the epoch of the first, whose snapshot precedes the request: it is
      // spendable there, unless that epoch ended in between and the next one's snapshot has the request.
      if (second instanceof Error) assert.ok(second instanceof NodeApiError && second.code === 'SPEC_INSUFFICIENT_ESCROW', String(second))
      const accepted = second instanceof Error ? [spent.taskId] : [spent.taskId, (second as { taskId: Hex }).taskId]
      // The settled root charges exactly what settled of what the nodes accepted, and the withdrawal pays the rest.
      const settledCharges = await chargedFor(attacker, accepted)
      const { charged } = await leafOf(attacker.account.address)
      assert.equal(charged, settledCharges)
      assert.equal(amount, 4n * FEE - charged)
      // After the request's snapshot, nothing is spendable any more: a spec is refused, not run for free.
      const settledSnapshot = await read<bigint>(net.contracts.settlement, SettlementAbi, 'snapshotBlockOf', [(await settledEpochs()) - 1n])
      assert.ok(settledSnapshot >= requestedAtBlock)
      await assert.rejects(submit(attacker, { escrowWaitMs: 0 }), (error: unknown) => error instanceof NodeApiError && error.code === 'SPEC_INSUFFICIENT_ESCROW')

      // The victim withdraws everything it did not spend.
      const victimCharges = await chargedFor(victim, [victimTask])
      const victimCharged = (await leafOf(victim.account.address)).charged
      assert.equal(victimCharged, victimCharges)
      await victim.requestWithdrawal({ amount: 10n * FEE - victimCharged })
      assert.equal((await victim.withdraw({ wait: true })).amount, 10n * FEE - victimCharged)
    })

    it('late deposit: a spec only a deposit after its epoch snapshot covers is refused, then charged from the next epoch', async () => {
      const late = await requesterWith('late', 10n * FEE)
      // Deposit just after an epoch opens, so that the spec below names an epoch whose snapshot precedes it.
      const opened = net.nodes[0]!.node.currentEpoch()
      await eventually(() => (net.nodes.every((n) => n.node.currentEpoch() > opened) ? true : undefined))
      const epoch = net.nodes[0]!.node.currentEpoch()
      const depositBlock = await deposit(late, 2n * FEE)
      const snapshot = await read<bigint>(net.contracts.settlement, SettlementAbi, 'snapshotBlockOf', [epoch])
      assert.ok(snapshot < depositBlock, 'the deposit follows the snapshot of the epoch the spec names')
      assert.equal(net.nodes[0]!.node.currentEpoch(), epoch, 'the epoch is still open (it lasts 30 blocks)')
      const refused = await submit(late, { escrowWaitMs: 0 }).catch((error: unknown) => error)
      assert.ok(refused instanceof NodeApiError, `refused: ${String(refused)}`)
      assert.equal(refused.code, 'SPEC_INSUFFICIENT_ESCROW')
      assert.match(refused.describe(), /snapshot/)

      // From the next epoch on the deposit counts: the task runs, and the batch charges for it.
      const { taskId } = await submit(late)
      assert.equal((await late.waitForResult({ taskId })).outcome, 'verified')
      const charged = await chargedFor(late, [taskId])
      assert.equal((await leafOf(late.account.address)).charged, charged)
    })

    it('never charged: a depositor that never ran a task withdraws all of it', async () => {
      const idle = await requesterWith('idle', 3n * FEE)
      const block = await deposit(idle, 3n * FEE)
      await settledAfter(block)
      // Every depositor gets a leaf, charged or not.
      assert.deepEqual(await leafOf(idle.account.address), { earned: 0n, charged: 0n })
      await idle.requestWithdrawal({ amount: 3n * FEE })
      assert.equal((await idle.withdraw({ wait: true })).amount, 3n * FEE)
      assert.equal(await read(net.contracts.token, TestTokenAbi, 'balanceOf', [idle.account.address]), 3n * FEE + ANCHOR_TOKENS, 'its deposit back, beside the tokens it kept for anchors')
    })
  })

  it('the escrow covers everything it owes: unspent deposits and unclaimed earnings', async () => {
    const block = await net.publicClient.getBlockNumber()
    await settledAfter(block)
    const treasury = await read<Address>(net.contracts.settlement, SettlementAbi, 'treasury')
    let owed = 0n
    for (const account of [...net.nodeAddresses, treasury]) {
      const { earned } = await leafOf(account, true)
      owed += earned - (await escrowRead<bigint>('claimedOf', [account]))
    }
    for (const [requester, amount] of deposited) {
      const { charged } = await leafOf(requester)
      owed += amount - charged - (await escrowRead<bigint>('withdrawnOf', [requester]))
    }
    const held = await read<bigint>(net.contracts.token, TestTokenAbi, 'balanceOf', [net.contracts.escrow])
    assert.ok(held >= owed, `escrow holds ${held}, owes ${owed}`)
    // Only these requesters ever deposited here, so nothing else is in the escrow either.
    assert.equal(held, owed)
  })
})
