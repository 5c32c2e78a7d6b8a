import { randomBytes } from 'node:crypto'
import { createPublicClient, createWalletClient, getAddress, http, isAddress } from 'viem'
import type { Account, Address, Chain, Hex, LocalAccount, PublicClient, Transport, WalletClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { defineDevChain } from '../chain/viem/defineDevChain.ts'
import { waitForReceipt } from '../chain/viem/waitForReceipt.ts'
import { EscrowAbi, SettlementAbi } from '../chain/generated/contracts.ts'
import type { ProtocolDomain } from '../core/types.ts'
import { createClientAnchorer } from './clientAnchorer.ts'
import { ChainUnreachableError } from './errors.ts'
import { createEventStream } from './eventStream.ts'
import type { EventStream } from './eventStream.ts'
import { createNodeApi } from './nodeApi.ts'
import type { Fetch, NodeApi } from './nodeApi.ts'
import type { RetryPolicy } from './retry.ts'
import type { TaskAnchorer } from './taskAnchorer.ts'
import { deposit } from './actions/deposit.ts'
import { getEscrow } from './actions/getEscrow.ts'
import { getReceipt } from './actions/getReceipt.ts'
import { getResult } from './actions/getResult.ts'
import { getTask } from './actions/getTask.ts'
import { requestWithdrawal } from './actions/requestWithdrawal.ts'
import { submitJob } from './actions/submitJob.ts'
import { submitTask } from './actions/submitTask.ts'
import { uploadProgram } from './actions/uploadProgram.ts'
import { verifyReceipt } from './actions/verifyReceipt.ts'
import { waitForResult } from './actions/waitForResult.ts'
import { withdraw } from './actions/withdraw.ts'

export interface CreateVeritaskClientParameters {
  /** The EVM JSON-RPC endpoint (`veritask devnet --serve` prints it). */
  rpcUrl: string
  /** A node's API URL, or several: the first is preferred, the others are fallbacks. */
  nodeApiUrl: string | readonly string[]
  /** The requester: a viem local account, or its private key. */
  account: LocalAccount | Hex
  /** The Settlement contract; the escrow and fee token are read from it. */
  settlement: Address
  /**
   * The TaskAnchors contract, where the client anchors its task ids before their draw blocks.
   * Read from the node's `GET /v1/status` (`anchors`) when left out.
   */
  anchors?: Address
  /** The chain id; read from `rpcUrl` when left out. */
  chainId?: number
  /** Retries against a failing node API (default 4 attempts per URL, 100 ms doubling to 2 s). */
  retry?: Partial<RetryPolicy>
  /** Per-request timeout against the node API, in ms (default 30,000). */
  timeoutMs?: number
  /** First wait between polls of a task, in ms (default 250; it grows to 2 s). */
  pollIntervalMs?: number
  /** `fetch` for the node API, e.g. to add headers; the global one by default. */
  fetch?: Fetch
  /**
   * Listen to the node's event stream (`GET /v1/events`, this requester's verdicts) instead of
   * polling task status while waiting for results (default true). Polling remains the fallback.
   */
  eventStream?: boolean
}

/** What the client learned from the chain once: ids and addresses every action needs. */
export interface ChainInfo {
  chainId: number
  settlement: Address
  escrow: Address
  token: Address
  /**
   * The TaskAnchors contract task ids are anchored at (`CreateVeritaskClientParameters.anchors`,
   * else the node's status). Undefined when the node names none: it reads no chain (an in-memory
   * network), and takes a spec with the anchor of its own id alone, for which nothing is sent.
   */
  anchors?: Address
  /** The EIP-712 domain task specs are signed under. */
  domain: ProtocolDomain
}

export type RequesterWallet = WalletClient<Transport, Chain, Account>

/** The state actions share. Actions are plain functions of it (`submitTask(client, …)`), as in viem. */
export interface VeritaskClientBase {
  readonly account: LocalAccount
  readonly api: NodeApi
  readonly rpcUrl: string
  readonly publicClient: PublicClient
  readonly pollIntervalMs: number
  /** The node's verdicts (`task.decided`) for this requester's tasks, shared by every wait; undefined when turned off. */
  readonly events?: EventStream
  /** Chain id, contract addresses and signing domain, read once (the anchors contract from the node's status unless given). */
  chain(): Promise<ChainInfo>
  /** A wallet client for the requester's own transactions (deposits, task anchors). */
  wallet(): Promise<RequesterWallet>
  /** A fresh task nonce: random 63 bits, so two clients of one requester never collide. */
  nextNonce(): bigint
  /** Programs handed to `uploadProgram`, by program id: later tasks name them by id. */
  readonly programs: Map<Hex, Uint8Array>
  /** Fees of tasks this client submitted: used for the escrow check when the node cannot report charges. */
  readonly ledger: { submittedFees: bigint }
  /**
   * Anchors the client's task ids on-chain before their draw blocks (`createClientAnchorer`): the
   * specs signed while an anchor transaction is under way share the next one.
   */
  readonly anchorer: TaskAnchorer
}

/** Wraps a chain call so a dead RPC endpoint reads as one clear error. */
export async function onChain<T>(rpcUrl: string, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (cause) {
    throw new ChainUnreachableError('SDK_CHAIN_UNREACHABLE', `Could not ${what} on the chain at ${rpcUrl}.`, {
      cause,
      hint: 'Is the chain running (veritask devnet --serve prints its RPC URL), and are the contract addresses right?',
      details: { rpcUrl },
    })
  }
}

/** Sends the requester's transaction `what` and waits for it to be mined; a revert is an error. */
export async function sendOnChain(client: VeritaskClientBase, what: string, write: () => Promise<Hex>): Promise<Hex> {
  const hash = await onChain(client.rpcUrl, what, write)
  const receipt = await onChain(client.rpcUrl, `wait for ${what}`, () => waitForReceipt(client.publicClient, hash))
  if (receipt.status !== 'success') {
    throw new ChainUnreachableError('SDK_CHAIN_UNREACHABLE', `${what} reverted (${hash}).`, { details: { hash } })
  }
  return hash
}

/**
 * Creates a requester client: typed actions over a node API (with retries and fallback URLs)
 * and an EVM chain (escrow deposits, task anchors, on-chain receipt checks). Its wallet pays
 * the escrow deposits and, for every task, the minimum fee that anchors the task's id
 * (`submitTask`): keep fee tokens in it beside what is deposited.
 *
 * @example
 * ```ts
 * import { createVeritaskClient } from 'veritask/sdk'
 *
 * const client = createVeritaskClient({
 *   rpcUrl: 'http://127.0.0.1:8545',
 *   nodeApiUrl: ['http://127.0.0.1:40123', 'http://127.0.0.1:40124'],
 *   account: process.env.VERITASK_KEY as `0x${string}`,
 *   settlement: '0x…',
 * })
 * await client.deposit({ amount: 10n ** 18n })
 * const { taskId } = await client.submitTask({ program, input })
 * const result = await client.waitForResult({ taskId })
 * const receipt = await client.getReceipt({ taskId, wait: true })
 * console.log(result.outcome, (await client.verifyReceipt({ receipt })).valid)
 * ```
 */
export function createVeritaskClient(parameters: CreateVeritaskClientParameters) {
  const { rpcUrl, settlement, pollIntervalMs = 250 } = parameters
  const account = typeof parameters.account === 'string' ? privateKeyToAccount(parameters.account) : parameters.account
  const api = createNodeApi({
    urls: typeof parameters.nodeApiUrl === 'string' ? [parameters.nodeApiUrl] : parameters.nodeApiUrl,
    ...(parameters.retry ? { retry: parameters.retry } : {}),
    ...(parameters.timeoutMs ? { timeoutMs: parameters.timeoutMs } : {}),
    ...(parameters.fetch ? { fetch: parameters.fetch } : {}),
  })
  const transport = http(rpcUrl, { retryCount: 2 })
  const publicClient = createPublicClient({ transport, pollingInterval: 100 }) as PublicClient

  /** The anchors contract the node names in its status; undefined when it names none (no chain). */
  const anchorsOfNode = async (): Promise<Address | undefined> => {
    const { anchors } = await api.json<{ anchors?: unknown }>('/v1/status')
    return typeof anchors === 'string' && isAddress(anchors) ? getAddress(anchors) : undefined
  }
  let chainInfo: Promise<ChainInfo> | undefined
  const chain = () =>
    (chainInfo ??= (async () => {
      const chainId = parameters.chainId ?? (await onChain(rpcUrl, 'read the chain id', () => publicClient.getChainId()))
      const escrow = await onChain(rpcUrl, `read Settlement.escrow() at ${settlement}`, () =>
        publicClient.readContract({ address: settlement, abi: SettlementAbi, functionName: 'escrow' }),
      )
      const token = await onChain(rpcUrl, `read Escrow.token() at ${escrow}`, () =>
        publicClient.readContract({ address: escrow, abi: EscrowAbi, functionName: 'token' }),
      )
      const verifyingContract = getAddress(settlement)
      const anchors = parameters.anchors === undefined ? await anchorsOfNode() : getAddress(parameters.anchors)
      return { chainId, settlement: verifyingContract, escrow, token, ...(anchors === undefined ? {} : { anchors }), domain: { chainId, verifyingContract } }
    })().catch((error: unknown) => {
      chainInfo = undefined // a later call may find the chain up
      throw error
    }))
  let walletClient: RequesterWallet | undefined
  const wallet = async () =>
    (walletClient ??= createWalletClient({ chain: defineDevChain(rpcUrl, (await chain()).chainId), transport, account }))

  const base: VeritaskClientBase = {
    account,
    api,
    rpcUrl,
    publicClient,
    pollIntervalMs,
    ...(parameters.eventStream === false
      ? {}
      : { events: createEventStream({ url: () => api.preferredUrl, requester: account.address, types: ['task.decided'], ...(parameters.fetch ? { fetch: parameters.fetch } : {}) }) }),
    chain,
    wallet,
    nextNonce: () => randomBytes(8).readBigUInt64BE() >> 1n,
    programs: new Map(),
    ledger: { submittedFees: 0n },
    anchorer: createClientAnchorer({ rpcUrl, publicClient, chain, wallet }),
  }
  type P<F extends (client: VeritaskClientBase, parameters: never) => unknown> = Parameters<F>[1]
  return {
    ...base,
    deposit: (p: P<typeof deposit>) => deposit(base, p),
    getEscrow: () => getEscrow(base),
    requestWithdrawal: (p: P<typeof requestWithdrawal>) => requestWithdrawal(base, p),
    withdraw: (p: P<typeof withdraw> = {}) => withdraw(base, p),
    uploadProgram: (p: P<typeof uploadProgram>) => uploadProgram(base, p),
    submitTask: (p: P<typeof submitTask>) => submitTask(base, p),
    getTask: (p: P<typeof getTask>) => getTask(base, p),
    waitForResult: (p: P<typeof waitForResult>) => waitForResult(base, p),
    getResult: (p: P<typeof getResult>) => getResult(base, p),
    getReceipt: (p: P<typeof getReceipt>) => getReceipt(base, p),
    verifyReceipt: (p: P<typeof verifyReceipt>) => verifyReceipt(base, p),
    submitJob: (p: P<typeof submitJob>) => submitJob(base, p),
  }
}

export type VeritaskClient = ReturnType<typeof createVeritaskClient>
