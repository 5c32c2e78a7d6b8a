import { getAddress, parseEventLogs } from 'viem'
import type { Abi, Address, Hex, PublicClient } from 'viem'
import { VeritaskError } from '../../core/errors.ts'
import { MAX_ANCHOR_LEAVES } from '../../core/taskAnchor.ts'
import type { AnchorRecord } from '../../core/taskAnchor.ts'
import { NetworkParametersAbi, TaskAnchorsAbi, TestTokenAbi } from '../generated/contracts.ts'
import { findNetworkParameter } from '../governance/parameters.ts'
import type { Wallet } from './createSettlementClient.ts'
import { decodeRevert } from './decodeRevert.ts'
import { waitForReceipt } from './waitForReceipt.ts'

/** The id of `minFee` in NetworkParameters.Parameter: what each anchored leaf pays. */
const MIN_FEE_ID = findNetworkParameter('minFee')!.id

/** An anchor the chain refused (or that could not be sent): the contract's custom error names why. */
export class AnchorFailedError extends VeritaskError<'CHAIN_ANCHOR_FAILED'> {
  override name = 'AnchorFailedError'
}

/**
 * When `requester` anchored `root` at the TaskAnchors contract `anchors`, and how many task ids it
 * paid for; undefined when it did not (as of `blockNumber`, the newest block by default).
 */
export async function readAnchor(client: PublicClient, anchors: Address, requester: Address, root: Hex, blockNumber?: bigint): Promise<AnchorRecord | undefined> {
  const [atBlock, count] = await client.readContract({
    address: anchors,
    abi: TaskAnchorsAbi,
    functionName: 'anchorOf',
    args: [requester, root],
    ...(blockNumber === undefined ? {} : { blockNumber }),
  })
  return atBlock === 0n ? undefined : { block: atBlock, count }
}

export interface AnchorRootParameters {
  /** The requester: it signs the approval and the anchor, and pays. */
  walletClient: Wallet
  publicClient: PublicClient
  /** The TaskAnchors contract. */
  anchors: Address
  /** The fee token (the anchors contract's `token()`). */
  token: Address
  /** The Merkle root of the task ids. */
  root: Hex
  /** How many task ids the tree holds: 1 to MAX_ANCHOR_LEAVES, each paying the minimum fee. */
  count: number
  /**
   * What to approve when the allowance is short (at least what this anchor needs): a requester
   * anchoring often approves ahead, and saves a transaction (and a block of waiting) per anchor.
   */
  approve?: bigint
}

export interface AnchorRootReturnType {
  /** The block that anchored the root: the tasks' draw blocks must come after it. */
  block: bigint
  /** What the treasury was paid: `count` × the minimum fee. */
  paid: bigint
  txHash: Hex
}

/**
 * Anchors `root`, the Merkle root of `count` of the wallet's task ids, paying `count` × the active
 * minimum fee to the treasury. If the anchors contract's allowance is short, it first checks that
 * the anchor would pass TaskAnchors' own checks (an `eth_call`) and then approves it for that
 * amount; it sends `anchor` and waits for it to be mined. A refusal (zero root, bad count, root
 * already anchored, too few tokens) throws an `AnchorFailedError` naming the contract's error; one
 * refused by TaskAnchors' checks sends no transaction at all. Not for concurrent calls from one
 * wallet: each approval replaces the last, so anchor one root at a time (as createTaskAnchorer does).
 */
export async function anchorRoot({ walletClient, publicClient, anchors, token, root, count, approve = 0n }: AnchorRootParameters): Promise<AnchorRootReturnType> {
  const failed = (message: string, options: { cause?: unknown; hint?: string; details?: Record<string, unknown> } = {}) =>
    new AnchorFailedError('CHAIN_ANCHOR_FAILED', `Anchoring root ${root} (${count} task ids) failed: ${message}`, {
      ...options,
      details: { anchors, root, count, ...options.details },
    })
  if (!Number.isSafeInteger(count) || count < 0 || count > 0xffff_ffff) {
    throw failed(`${count} is not a task id count.`, { hint: `A root holds 1 to ${MAX_ANCHOR_LEAVES} task ids.` })
  }
  const account = walletClient.account
  const chain = walletClient.chain
  const contract = { address: anchors, abi: TaskAnchorsAbi } as const
  const [parameters, anchorsToken] = await Promise.all([
    publicClient.readContract({ ...contract, functionName: 'parameters' }),
    publicClient.readContract({ ...contract, functionName: 'token' }),
  ])
  if (getAddress(anchorsToken) !== getAddress(token)) {
    throw failed(`the anchors contract takes fees in ${anchorsToken}, not ${token}.`, { hint: 'Pass the token of the same deployment.' })
  }
  const [minFee, allowance, balance] = await Promise.all([
    publicClient.readContract({ address: parameters, abi: NetworkParametersAbi, functionName: 'activeValue', args: [MIN_FEE_ID] }),
    publicClient.readContract({ address: token, abi: TestTokenAbi, functionName: 'allowance', args: [account.address, anchors] }),
    publicClient.readContract({ address: token, abi: TestTokenAbi, functionName: 'balanceOf', args: [account.address] }),
  ])
  const needed = BigInt(count) * minFee

  const refused = (what: string, cause: unknown, revert: { name: string; args: readonly unknown[] }) => {
    const args = revert.args.map(String)
    return failed(`${what} reverted with ${revert.name}(${args.join(', ')}).`, {
      cause,
      details: { error: revert.name, args },
      ...(revertHints[revert.name] === undefined ? {} : { hint: revertHints[revert.name] }),
    })
  }
  /** Sends a transaction and waits for it; a refusal becomes an AnchorFailedError. */
  const send = async (what: string, write: () => Promise<Hex>) => {
    let hash: Hex
    try {
      hash = await write()
    } catch (cause) {
      const revert = decodeRevert(cause, allErrors)
      throw revert === undefined ? cause : refused(what, cause, revert)
    }
    const receipt = await waitForReceipt(publicClient, hash)
    if (receipt.status !== 'success') {
      throw failed(`${what} was mined but reverted (${hash}).`, {
        details: { txHash: hash },
        hint: 'Another transaction came first: the root anchored meanwhile, or the minimum fee changed (it changes when an epoch opens). Check readAnchor, then try again.',
      })
    }
    return receipt
  }

  if (allowance < needed) {
    // Without the allowance the anchor fails only at payment, after every check of its own: so a call
    // that fails otherwise (a TaskAnchors error) is refused for good, and no approval is sent for it;
    // nor for one the requester cannot pay.
    try {
      await publicClient.simulateContract({ ...contract, functionName: 'anchor', args: [root, count], account })
    } catch (cause) {
      const revert = decodeRevert(cause, allErrors)
      if (revert?.name.startsWith('TaskAnchors') === true) throw refused('anchor', cause, revert)
    }
    if (balance < needed) {
      throw failed(`${account.address} holds ${balance} tokens; ${count} task ids at the minimum fee of ${minFee} cost ${needed}.`, {
        details: { error: 'ERC20InsufficientBalance', balance, needed },
        hint: revertHints.ERC20InsufficientBalance,
      })
    }
    // `approve` sets the allowance: what is needed at least, so the anchor can spend it.
    const amount = approve > needed ? approve : needed
    await send('approve', () => walletClient.writeContract({ address: token, abi: TestTokenAbi, functionName: 'approve', args: [anchors, amount], account, chain }))
  }
  const receipt = await send('anchor', () => walletClient.writeContract({ ...contract, functionName: 'anchor', args: [root, count], account, chain }))
  const [anchored] = parseEventLogs({ abi: TaskAnchorsAbi, eventName: 'TasksAnchored', logs: receipt.logs })
  return { block: receipt.blockNumber, paid: anchored?.args.paid ?? needed, txHash: receipt.transactionHash }
}

const allErrors = [...TaskAnchorsAbi, ...TestTokenAbi].filter((item) => item.type === 'error') as Abi

const revertHints: Record<string, string> = {
  TaskAnchorsZeroRoot: 'Anchor the Merkle root of the task ids; a root of zero is refused.',
  TaskAnchorsBadCount: `A root holds 1 to ${MAX_ANCHOR_LEAVES} task ids: split a larger batch over several roots.`,
  TaskAnchorsAlreadyAnchored: 'Anchors are write-once: this requester already anchored this root (readAnchor gives its block); use it as it is, or anchor a new root.',
  ERC20InsufficientBalance: 'The requester needs count × the minimum fee in tokens (see `veritask gov params` for minFee).',
  ERC20InsufficientAllowance: 'The minimum fee may have changed between reading it and anchoring (it changes when an epoch opens): try again.',
}

