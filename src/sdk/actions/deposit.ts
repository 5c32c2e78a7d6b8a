import type { Hex } from 'viem'
import { EscrowAbi, TestTokenAbi } from '../../chain/generated/contracts.ts'
import { onChain, sendOnChain } from '../createVeritaskClient.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import { InsufficientTokensError } from '../errors.ts'
import type { ChainUnreachableError } from '../errors.ts'

export interface DepositParameters {
  /** Fee tokens to deposit, in base units. */
  amount: bigint
}

export interface DepositReturnType {
  /** The `Escrow.deposit` transaction. */
  hash: Hex
  amount: bigint
  /** Everything deposited for the requester so far (`Escrow.depositOf`). */
  deposited: bigint
}

export type DepositErrorType = InsufficientTokensError | ChainUnreachableError | RangeError

/**
 * Deposits fee tokens into escrow for the client's account: approves the escrow for `amount`,
 * then calls `Escrow.deposit`, and resolves once both are mined. Nodes see a deposit from the
 * next epoch snapshot on.
 *
 * @example
 * ```ts
 * const { deposited } = await client.deposit({ amount: 10n ** 18n })
 * ```
 */
export async function deposit(client: VeritaskClientBase, { amount }: DepositParameters): Promise<DepositReturnType> {
  if (amount <= 0n) throw new RangeError(`deposit amount must be positive, got ${amount}`)
  const { escrow, token } = await client.chain()
  const wallet = await client.wallet()
  const requester = client.account.address
  const balance = await onChain(client.rpcUrl, 'read the token balance', () =>
    client.publicClient.readContract({ address: token, abi: TestTokenAbi, functionName: 'balanceOf', args: [requester] }),
  )
  if (balance < amount) {
    throw new InsufficientTokensError('SDK_INSUFFICIENT_TOKENS', `${requester} holds ${balance} fee tokens, fewer than the ${amount} to deposit.`, {
      details: { requester, balance, amount, token },
      hint: 'Get fee tokens first (on the devnet the requester key printed by `veritask devnet --serve` is funded).',
    })
  }
  await sendOnChain(client, 'approve the escrow', () =>
    wallet.writeContract({ address: token, abi: TestTokenAbi, functionName: 'approve', args: [escrow, amount] }),
  )
  const hash = await sendOnChain(client, 'deposit into escrow', () =>
    wallet.writeContract({ address: escrow, abi: EscrowAbi, functionName: 'deposit', args: [amount] }),
  )
  const deposited = await onChain(client.rpcUrl, 'read Escrow.depositOf', () =>
    client.publicClient.readContract({ address: escrow, abi: EscrowAbi, functionName: 'depositOf', args: [requester] }),
  )
  return { hash, amount, deposited }
}
