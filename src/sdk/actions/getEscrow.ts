import type { Address } from 'viem'
import { EscrowAbi } from '../../chain/generated/contracts.ts'
import { onChain } from '../createVeritaskClient.ts'
import type { VeritaskClientBase } from '../createVeritaskClient.ts'
import { NodeApiError } from '../errors.ts'
import type { ChainUnreachableError, NodeUnreachableError } from '../errors.ts'

export interface GetEscrowReturnType {
  requester: Address
  /** Everything ever deposited (`Escrow.depositOf`). */
  deposited: bigint
  /** Everything withdrawn (`Escrow.withdrawnOf`). */
  withdrawn: bigint
  /** What can still be charged: deposits less settled charges and withdrawals, as the node's epoch snapshot has it. */
  balance: bigint
  /** Fees of accepted tasks not settled yet. */
  reserved: bigint
  /** `balance - reserved`: the fees new tasks may spend now. */
  spendable: bigint
  /**
   * `node`: balance and reserved as the node reports them (`GET /v1/escrow/:requester`), the
   * very numbers it checks a spec against. `client`: the node cannot report them, so balance is
   * deposits less withdrawals from the chain and reserved is every fee this client submitted —
   * never more than is really spendable.
   */
  source: 'node' | 'client'
}

export type GetEscrowErrorType = ChainUnreachableError | NodeUnreachableError | NodeApiError

interface EscrowBody {
  balance?: unknown
  reserved?: unknown
}

const toBigint = (value: unknown): bigint | undefined =>
  typeof value === 'string' && /^\d+$/.test(value) ? BigInt(value) : typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : undefined

/**
 * The requester's escrow: what is deposited, and what new tasks may still spend.
 *
 * @example
 * ```ts
 * const { spendable } = await client.getEscrow()
 * if (spendable < fee * BigInt(chunks)) await client.deposit({ amount: fee * BigInt(chunks) - spendable })
 * ```
 */
export async function getEscrow(client: VeritaskClientBase): Promise<GetEscrowReturnType> {
  const { escrow } = await client.chain()
  const requester = client.account.address
  const read = (functionName: 'depositOf' | 'withdrawnOf') =>
    onChain(client.rpcUrl, `read Escrow.${functionName}`, () =>
      client.publicClient.readContract({ address: escrow, abi: EscrowAbi, functionName, args: [requester] }),
    )
  const [deposited, withdrawn] = [await read('depositOf'), await read('withdrawnOf')]
  try {
    const body = await client.api.json<EscrowBody>(`/v1/escrow/${requester}`)
    const balance = toBigint(body.balance)
    const reserved = toBigint(body.reserved)
    if (balance !== undefined && reserved !== undefined) {
      return { requester, deposited, withdrawn, balance, reserved, spendable: balance - reserved, source: 'node' }
    }
  } catch (error) {
    // A node without the route answers 404 API_NOT_FOUND; anything else is a real failure.
    if (!(error instanceof NodeApiError && error.code === 'API_NOT_FOUND')) throw error
  }
  const balance = deposited - withdrawn
  const reserved = client.ledger.submittedFees
  return { requester, deposited, withdrawn, balance, reserved, spendable: balance - reserved, source: 'client' }
}
