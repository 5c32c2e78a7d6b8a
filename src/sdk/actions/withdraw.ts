import { zeroHash } from 'viem'
import type { Hex } from 'viem'
import { EscrowAbi, SettlementAbi } from '../../chain/generated/contracts.ts'
import { onChain, sendOnChain } from '../createVeritaskClient.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import { BadResponseError, NodeApiError, NoPendingWithdrawalError, TimeoutError, WithdrawalNotReadyError } from '../errors.ts'
import type { ChainUnreachableError, NodeUnreachableError } from '../errors.ts'
import { sleep } from '../sleep.ts'

export interface WithdrawParameters {
  /** Wait until the withdrawal can be paid (default false: a `SDK_WITHDRAWAL_NOT_READY` error instead). */
  wait?: boolean
  /** With `wait`, give up after this long, in ms (default 600,000). */
  timeoutMs?: number
  signal?: AbortSignal
}

export interface WithdrawReturnType {
  /** The `Escrow.withdraw` transaction. */
  hash: Hex
  /** What was paid: the request, or less when tasks charged part of it. */
  amount: bigint
  requested: bigint
}

export type WithdrawErrorType =
  | NoPendingWithdrawalError
  | WithdrawalNotReadyError
  | TimeoutError
  | BadResponseError
  | NodeApiError
  | NodeUnreachableError
  | ChainUnreachableError

interface BalanceBody {
  earned?: unknown
  charged?: unknown
  proof?: unknown
}

interface BalanceLeaf {
  earned: bigint
  charged: bigint
  proof: Hex[]
}

const hex32 = /^0x[0-9a-fA-F]{64}$/
const parseLeaf = (body: BalanceBody): BalanceLeaf | undefined =>
  typeof body.earned === 'string' && /^\d+$/.test(body.earned) &&
  typeof body.charged === 'string' && /^\d+$/.test(body.charged) &&
  Array.isArray(body.proof) && body.proof.every((p) => typeof p === 'string' && hex32.test(p))
    ? { earned: BigInt(body.earned), charged: BigInt(body.charged), proof: body.proof as Hex[] }
    : undefined

/**
 * Pays out the requester's pending withdrawal (`Escrow.withdraw`): proves its cumulative charges
 * with its leaf in the chain's balances root, which a node serves (`GET /v1/balances/:account`)
 * and this checks against the chain before sending. Every depositor has a leaf once an epoch has
 * settled after its deposit, charged or not. With `wait`, polls until the request is ready and a
 * node holds the leaf of the current root.
 *
 * @example
 * ```ts
 * await client.requestWithdrawal({ amount: 10n ** 18n })
 * const { amount } = await client.withdraw({ wait: true })
 * ```
 */
export async function withdraw(
  client: VeritaskClientBase,
  { wait = false, timeoutMs = 600_000, signal }: WithdrawParameters = {},
): Promise<WithdrawReturnType> {
  const { escrow, settlement } = await client.chain()
  const requester = client.account.address
  const read = <T>(what: string, call: () => Promise<T>) => onChain(client.rpcUrl, `read ${what}`, call)
  const started = Date.now()
  let delay = Math.max(client.pollIntervalMs, 250)
  const notYet = async (error: Error): Promise<void> => {
    if (!wait) throw error
    if (Date.now() - started > timeoutMs) {
      throw new TimeoutError('SDK_TIMEOUT', `The withdrawal of ${requester} is not payable after ${timeoutMs} ms.`, {
        cause: error,
        details: { requester },
        hint: 'It waits for its delay and for an epoch after the request to settle; try again later.',
      })
    }
    await sleep(delay, signal)
    delay = Math.min(2_000, Math.round(delay * 1.5))
  }

  for (;;) {
    const [requested, requestedAtBlock, availableAtBlock] = await read('Escrow.pendingWithdrawalOf', () =>
      client.publicClient.readContract({ address: escrow, abi: EscrowAbi, functionName: 'pendingWithdrawalOf', args: [requester] }),
    )
    if (requested === 0n) {
      throw new NoPendingWithdrawalError('SDK_NO_PENDING_WITHDRAWAL', `${requester} has no withdrawal requested.`, {
        details: { requester },
        hint: 'Request one first (client.requestWithdrawal); it is payable once its delay has passed and the next epoch has settled.',
      })
    }
    const ready = await read('Escrow.isWithdrawalReady', () =>
      client.publicClient.readContract({ address: escrow, abi: EscrowAbi, functionName: 'isWithdrawalReady', args: [requester] }),
    )
    if (!ready) {
      await notYet(
        new WithdrawalNotReadyError('SDK_WITHDRAWAL_NOT_READY', `The withdrawal of ${requester} is not payable yet.`, {
          details: { requester, requested, requestedAtBlock, availableAtBlock },
          hint: `It is payable from block ${availableAtBlock}, once an epoch whose snapshot is at or after block ${requestedAtBlock} has settled. Pass wait: true to wait.`,
        }),
      )
      continue
    }
    const root = await read('Settlement.balancesRoot', () =>
      client.publicClient.readContract({ address: settlement, abi: SettlementAbi, functionName: 'balancesRoot' }),
    )
    let leaf: BalanceLeaf = { earned: 0n, charged: 0n, proof: [] }
    if (root !== zeroHash) {
      let body: BalanceBody
      try {
        body = await client.api.json<BalanceBody>(`/v1/balances/${requester}`, signal ? { signal } : {})
      } catch (error) {
        if (error instanceof NodeApiError && error.code === 'BALANCE_NOT_FOUND') {
          await notYet(error)
          continue
        }
        throw error
      }
      const parsed = parseLeaf(body)
      if (parsed === undefined) {
        throw new BadResponseError('SDK_BAD_RESPONSE', `The node answered a balance leaf for ${requester} that does not parse.`, { details: { requester } })
      }
      leaf = parsed
    }
    const valid = await read('Escrow.verifyBalance', () =>
      client.publicClient.readContract({
        address: escrow,
        abi: EscrowAbi,
        functionName: 'verifyBalance',
        args: [requester, leaf.earned, leaf.charged, leaf.proof],
      }),
    )
    if (!valid) {
      // The node has not seen the newest settlement yet (or serves a stale leaf): ask again.
      await notYet(
        new WithdrawalNotReadyError('SDK_WITHDRAWAL_NOT_READY', `The node's balance leaf for ${requester} is not in the chain's balances root ${root}.`, {
          details: { requester, root },
          hint: 'The node has not followed the newest settlement yet; try again shortly, or pass wait: true.',
        }),
      )
      continue
    }
    const { result: amount, request } = await read('Escrow.withdraw (simulated)', () =>
      client.publicClient.simulateContract({
        account: client.account,
        address: escrow,
        abi: EscrowAbi,
        functionName: 'withdraw',
        args: [leaf.earned, leaf.charged, leaf.proof],
      }),
    )
    const wallet = await client.wallet()
    const hash = await sendOnChain(client, 'withdraw from escrow', () => wallet.writeContract(request))
    return { hash, amount, requested }
  }
}
