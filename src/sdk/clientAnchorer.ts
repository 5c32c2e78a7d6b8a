import type { Address, PublicClient } from 'viem'
import { NetworkParametersAbi, TaskAnchorsAbi } from '../chain/generated/contracts.ts'
import { findNetworkParameter } from '../chain/governance/parameters.ts'
import { AnchorFailedError, anchorRoot } from '../chain/viem/anchors.ts'
import { VeritaskError } from '../core/errors.ts'
import { anchorAlone } from '../core/taskAnchor.ts'
import { onChain } from './createVeritaskClient.ts'
import type { ChainInfo, RequesterWallet } from './createVeritaskClient.ts'
import { ChainUnreachableError, InsufficientTokensError, TaskAnchorFailedError } from './errors.ts'
import { createTaskAnchorer } from './taskAnchorer.ts'
import type { TaskAnchorer } from './taskAnchorer.ts'

/**
 * Leaves the client approves TaskAnchors for at a time, at the minimum fee it read first: most
 * anchors are then one transaction (the anchor), not two (an approval, then the anchor). At the
 * devnet's minimum fee of one base unit that is 1,024 base units; `anchorRoot` approves what an
 * anchor needs whenever the allowance falls short (the fee changed, or it was spent).
 */
export const ANCHOR_APPROVAL_LEAVES = 1_024n

const MIN_FEE_ID = findNetworkParameter('minFee')!.id

/** What the client's anchorer uses of the client. */
export interface ClientAnchorerSource {
  rpcUrl: string
  publicClient: PublicClient
  chain(): Promise<ChainInfo>
  wallet(): Promise<RequesterWallet>
}

/**
 * The client's one task anchorer (core/taskAnchor.ts): the specs it signs close together share
 * one `TaskAnchors.anchor` transaction from its wallet, which pays the minimum fee per task id
 * from the wallet's tokens (not the escrow). Against a node that names no anchors contract
 * (`ChainInfo.anchors` undefined: it reads no chain, and takes any root as anchored), each spec
 * travels with the anchor of its own id alone, and nothing is sent.
 *
 * A refusal by the contract becomes a `TaskAnchorFailedError` (an `InsufficientTokensError` when
 * the wallet cannot pay), an RPC failure a `ChainUnreachableError`.
 */
export function createClientAnchorer(client: ClientAnchorerSource): TaskAnchorer {
  let minFee: Promise<bigint> | undefined
  /** The minimum fee per leaf, read once (for the approval only: `anchorRoot` reads the active one). */
  const readMinFee = (anchors: Address) =>
    (minFee ??= (async () => {
      const parameters = await client.publicClient.readContract({ address: anchors, abi: TaskAnchorsAbi, functionName: 'parameters' })
      return client.publicClient.readContract({ address: parameters, abi: NetworkParametersAbi, functionName: 'activeValue', args: [MIN_FEE_ID] })
    })().catch((error: unknown) => {
      minFee = undefined
      throw error
    }))

  const chainAnchorer = createTaskAnchorer(async (root, count) => {
    const { anchors, token } = await client.chain()
    try {
      const leaves = BigInt(count) > ANCHOR_APPROVAL_LEAVES ? BigInt(count) : ANCHOR_APPROVAL_LEAVES
      const approve = (await readMinFee(anchors!)) * leaves
      const walletClient = await client.wallet()
      return await anchorRoot({ walletClient, publicClient: client.publicClient, anchors: anchors!, token, root, count, approve })
    } catch (error) {
      throw anchorError(error, client.rpcUrl, count)
    }
  }, { head: () => onChain(client.rpcUrl, 'read the block number', () => client.publicClient.getBlockNumber({ cacheTime: 0 })) })

  return {
    async anchor(signed, taskId) {
      const { anchors } = await client.chain()
      return anchors === undefined ? { signed: anchorAlone(signed, taskId), block: 0n } : chainAnchorer.anchor(signed, taskId)
    },
  }
}

/** The SDK's error for a failed anchor. */
function anchorError(error: unknown, rpcUrl: string, count: number): Error {
  if (error instanceof AnchorFailedError) {
    if (error.details.error === 'ERC20InsufficientBalance') {
      return new InsufficientTokensError('SDK_INSUFFICIENT_TOKENS', `The wallet cannot pay to anchor ${count} task ids: ${error.message}`, {
        cause: error,
        details: error.details,
        hint: 'Each task id is anchored on-chain before its draw at the minimum fee (`veritask gov params`), paid from the wallet, not the escrow: keep fee tokens beside the deposit.',
      })
    }
    return new TaskAnchorFailedError('SDK_ANCHOR_FAILED', error.message, { cause: error, details: error.details, ...(error.hint === undefined ? {} : { hint: error.hint }) })
  }
  if (error instanceof VeritaskError) return error
  return new ChainUnreachableError('SDK_CHAIN_UNREACHABLE', `Could not anchor ${count} task ids on the chain at ${rpcUrl}.`, {
    cause: error,
    hint: 'Is the chain running, and is the anchors contract (`anchors`, or the node status) right?',
    details: { rpcUrl },
  })
}
