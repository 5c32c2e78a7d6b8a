import { decodeFunctionData, encodeFunctionData, keccak256, stringToBytes } from 'viem'
import type { Abi, Address, Hex, PublicClient } from 'viem'
import { VeritaskError } from '../../core/errors.ts'
import type { DeployedContracts } from '../deploy.ts'
import { NetworkParametersAbi, StakeManagerAbi, VeritaskGovernorAbi, VeritaskTimelockAbi } from '../generated/contracts.ts'
import { findNetworkParameter, fromChainValues, networkParameters } from '../governance/parameters.ts'
import type { NetworkParameterName, NetworkParameterValues } from '../governance/parameters.ts'
import { voteSupport } from '../governance/voteSupport.ts'
import type { VoteSupport } from '../governance/voteSupport.ts'
import type { Wallet } from './createSettlementClient.ts'
import { decodeRevert } from './decodeRevert.ts'
import { waitForReceipt } from './waitForReceipt.ts'

export { voteSupport }
export type { VoteSupport }

/** A proposal's state, as OpenZeppelin's Governor reports it (in its enum's order). */
export const proposalStates = ['pending', 'active', 'canceled', 'defeated', 'succeeded', 'queued', 'expired', 'executed'] as const
export type ProposalState = (typeof proposalStates)[number]

/** A proposed change of some governed parameters. */
export type ParameterChange = Partial<NetworkParameterValues>

export interface ProposalInfo {
  id: bigint
  state: ProposalState
  proposer: Address
  /** Block whose stake counts as voting power; voting starts after it. */
  snapshot: bigint
  /** Last block of the vote. */
  deadline: bigint
  /** Unix time (s) from which a queued proposal can be executed; 0 until queued. */
  eta: bigint
  votes: { against: bigint; for: bigint; abstain: bigint }
  /** For + abstain votes needed. */
  quorum: bigint
  /** The parameter changes it makes, if it is a NetworkParameters change; null for anything else. */
  changes: ParameterChange | null
  descriptionHash: Hex
}

export interface GovernanceSettingsOnChain {
  votingDelayBlocks: bigint
  votingPeriodBlocks: bigint
  proposalThreshold: bigint
  quorumPercent: bigint
  timelockDelaySeconds: bigint
}

const allErrors = [...VeritaskGovernorAbi, ...VeritaskTimelockAbi, ...NetworkParametersAbi, ...StakeManagerAbi].filter(
  (item) => item.type === 'error',
) as Abi

/** What a governance transaction that the chain refused failed with. */
export class GovernanceError extends VeritaskError<'GOV_REVERTED' | 'GOV_UNKNOWN_PARAMETER' | 'GOV_NO_CHANGE' | 'GOV_NOT_PARAMETER_CHANGE'> {
  override name = 'GovernanceError'
}

/** The ids and values NetworkParameters.setParameters takes for `changes`, in id order. */
export function toSetParametersArgs(changes: ParameterChange): [number[], bigint[]] {
  const ids: number[] = []
  const values: bigint[] = []
  for (const [name, value] of Object.entries(changes)) {
    const parameter = findNetworkParameter(name)
    if (parameter === undefined) {
      throw new GovernanceError('GOV_UNKNOWN_PARAMETER', `"${name}" is not a governed parameter.`, {
        hint: `Governed parameters: ${networkParameters.map((p) => p.name).join(', ')}.`,
      })
    }
    if (value === undefined) continue
    ids.push(parameter.id)
    values.push(BigInt(value))
  }
  const order = ids.map((_, i) => i).sort((a, b) => ids[a]! - ids[b]!)
  if (ids.length === 0) throw new GovernanceError('GOV_NO_CHANGE', 'A proposal must change at least one parameter.')
  return [order.map((i) => ids[i]!), order.map((i) => values[i]!)]
}

/** The calldata of `NetworkParameters.setParameters` for `changes`. */
export function encodeParameterChange(changes: ParameterChange): Hex {
  return encodeFunctionData({ abi: NetworkParametersAbi, functionName: 'setParameters', args: toSetParametersArgs(changes) })
}

/** The parameter changes a `setParameters` calldata makes, or null if it is another call. */
export function decodeParameterChange(calldata: Hex): ParameterChange | null {
  try {
    const { functionName, args } = decodeFunctionData({ abi: NetworkParametersAbi, data: calldata })
    if (functionName !== 'setParameters') return null
    const [ids, values] = args as readonly [readonly number[], readonly bigint[]]
    const change: Record<string, bigint | number> = {}
    ids.forEach((id, i) => {
      const parameter = networkParameters[id]
      if (parameter !== undefined) change[parameter.name] = parameter.bigint ? values[i]! : Number(values[i]!)
    })
    return change as ParameterChange
  } catch {
    return null
  }
}


const revertHints: Record<string, string> = {
  GovernorInsufficientProposerVotes: 'The proposer needs at least the proposal threshold in active stake (see `veritask gov params`).',
  GovernorAlreadyCastVote: 'Each account votes once per proposal.',
  GovernorUnexpectedProposalState: 'See the proposal’s state with `veritask gov status <id>`: vote while active, queue once succeeded, execute once queued and past its eta.',
  TimelockUnexpectedOperationState: 'The timelock delay has not passed yet (see the eta in `veritask gov status <id>`).',
  GovernorNonexistentProposal: 'No proposal has this id; list them with `veritask gov status`.',
  NetworkParametersOutOfBounds: 'See each parameter’s bounds with `veritask gov params` and docs/governance.md.',
  NetworkParametersInvalidQuorum: 'The quorum must be a strict majority of k and at most k: change both together.',
  NetworkParametersUnbondingTooShort: 'Unbonding must last at least two epochs.',
}

/**
 * Governance through viem: propose parameter changes, vote with stake, queue and execute passed
 * proposals, and read proposals and settings. Writes resolve once mined; a write the chain refuses
 * throws a `GovernanceError` naming the contract's custom error.
 */
export function createGovernanceClient(
  publicClient: PublicClient,
  contracts: Pick<DeployedContracts, 'governor' | 'parameters' | 'timelock' | 'stakeManager'>,
) {
  const governor = { address: contracts.governor, abi: VeritaskGovernorAbi } as const
  const parameters = { address: contracts.parameters, abi: NetworkParametersAbi } as const

  async function write(what: string, send: () => Promise<Hex>): Promise<{ hash: Hex; gasUsed: bigint; blockNumber: bigint }> {
    let hash: Hex
    try {
      hash = await send()
    } catch (cause) {
      const revert = decodeRevert(cause, allErrors)
      if (revert === undefined) throw cause
      const args = revert.args.map((a) => String(a)).join(', ')
      throw new GovernanceError('GOV_REVERTED', `${what} was refused by the chain: ${revert.name}(${args}).`, {
        cause,
        details: { error: revert.name, args: revert.args.map((a) => String(a)) },
        ...(revertHints[revert.name] === undefined ? {} : { hint: revertHints[revert.name] }),
      })
    }
    const receipt = await waitForReceipt(publicClient, hash)
    if (receipt.status !== 'success') throw new GovernanceError('GOV_REVERTED', `${what} reverted (${hash}).`)
    return { hash, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber }
  }

  const call = (wallet: Wallet, functionName: string, args: readonly unknown[]) => () =>
    wallet.writeContract({ ...governor, functionName, args, chain: wallet.chain, account: wallet.account } as never)

  async function details(id: bigint) {
    try {
      return await publicClient.readContract({ ...governor, functionName: 'proposalDetails', args: [id] })
    } catch (cause) {
      throw new GovernanceError('GOV_REVERTED', `No proposal ${id}.`, { cause, hint: revertHints.GovernorNonexistentProposal })
    }
  }

  async function state(id: bigint): Promise<ProposalState> {
    const value = await publicClient.readContract({ ...governor, functionName: 'state', args: [id] })
    return proposalStates[value]!
  }

  return {
    contracts,

    /**
     * Checks `changes` as the timelock would apply them now (an `eth_call` of `setParameters` from
     * the timelock): throws a `GovernanceError` naming the bound it breaks. A proposal that fails
     * this would pass its vote and then fail to execute.
     */
    async checkParameterChange(changes: ParameterChange): Promise<void> {
      try {
        await publicClient.simulateContract({
          ...parameters,
          functionName: 'setParameters',
          args: toSetParametersArgs(changes),
          account: contracts.timelock,
        })
      } catch (cause) {
        const revert = decodeRevert(cause, allErrors)
        if (revert === undefined) throw cause
        throw new GovernanceError('GOV_REVERTED', `The change would be refused: ${revert.name}(${revert.args.map(String).join(', ')}).`, {
          cause,
          details: { error: revert.name, args: revert.args.map(String) },
          ...(revertHints[revert.name] === undefined ? {} : { hint: revertHints[revert.name] }),
        })
      }
    },

    /** Proposes `changes` to the governed parameters; the proposal id is known before it is mined. */
    async propose(wallet: Wallet, changes: ParameterChange, description: string) {
      const calldata = encodeParameterChange(changes)
      const args = [[contracts.parameters], [0n], [calldata], description] as const
      const proposalId = await publicClient.readContract({
        ...governor,
        functionName: 'hashProposal',
        args: [[contracts.parameters], [0n], [calldata], keccak256(stringToBytes(description))],
      })
      const mined = await write('propose', call(wallet, 'propose', args))
      return { proposalId, ...mined }
    },
    /** Votes `support` on proposal `id` with the wallet's stake at the proposal's snapshot. */
    castVote: (wallet: Wallet, id: bigint, support: VoteSupport) =>
      write('vote', call(wallet, 'castVote', [id, voteSupport[support]])),
    /** Queues a succeeded proposal in the timelock. */
    queue: (wallet: Wallet, id: bigint) => write('queue', call(wallet, 'queue', [id])),
    /** Executes a queued proposal whose timelock delay has passed. */
    execute: (wallet: Wallet, id: bigint) => write('execute', call(wallet, 'execute', [id])),

    state,

    async proposal(id: bigint): Promise<ProposalInfo> {
      const [targets, , calldatas, descriptionHash] = await details(id)
      const [current, proposer, snapshot, deadline, eta, [against, forVotes, abstain]] = await Promise.all([
        state(id),
        publicClient.readContract({ ...governor, functionName: 'proposalProposer', args: [id] }),
        publicClient.readContract({ ...governor, functionName: 'proposalSnapshot', args: [id] }),
        publicClient.readContract({ ...governor, functionName: 'proposalDeadline', args: [id] }),
        publicClient.readContract({ ...governor, functionName: 'proposalEta', args: [id] }),
        publicClient.readContract({ ...governor, functionName: 'proposalVotes', args: [id] }),
      ])
      const block = await publicClient.getBlockNumber({ cacheTime: 0 })
      // The quorum is fixed at the snapshot; before it is past, it is estimated from the stake now.
      const quorum = await publicClient.readContract({
        ...governor,
        functionName: 'quorum',
        args: [snapshot < block ? snapshot : block - 1n],
      })
      const onlyParameters = targets.length === 1 && targets[0]!.toLowerCase() === contracts.parameters.toLowerCase()
      return {
        id,
        state: current,
        proposer,
        snapshot,
        deadline,
        eta,
        votes: { against, for: forVotes, abstain },
        quorum,
        changes: onlyParameters ? decodeParameterChange(calldatas[0]!) : null,
        descriptionHash,
      }
    },

    /** Every proposal's id, oldest first. */
    async proposalIds(): Promise<bigint[]> {
      const count = await publicClient.readContract({ ...governor, functionName: 'proposalCount' })
      const ids: bigint[] = []
      for (let i = 0n; i < count; i++) {
        const [id] = await publicClient.readContract({ ...governor, functionName: 'proposalDetailsAt', args: [i] })
        ids.push(id)
      }
      return ids
    },

    async settings(): Promise<GovernanceSettingsOnChain> {
      const [votingDelayBlocks, votingPeriodBlocks, proposalThreshold, quorumPercent, timelockDelaySeconds] = await Promise.all([
        publicClient.readContract({ ...governor, functionName: 'votingDelay' }),
        publicClient.readContract({ ...governor, functionName: 'votingPeriod' }),
        publicClient.readContract({ ...governor, functionName: 'proposalThreshold' }),
        publicClient.readContract({ ...governor, functionName: 'quorumNumerator' }),
        publicClient.readContract({ address: contracts.timelock, abi: VeritaskTimelockAbi, functionName: 'getMinDelay' }),
      ])
      return { votingDelayBlocks, votingPeriodBlocks, proposalThreshold, quorumPercent, timelockDelaySeconds }
    },

    /** The versions of the governed parameters: the one in effect and the latest scheduled. */
    async versions(): Promise<{ active: number; latest: number }> {
      const [active, latest] = await Promise.all([
        publicClient.readContract({ ...parameters, functionName: 'activeVersion' }),
        publicClient.readContract({ ...parameters, functionName: 'latestVersion' }),
      ])
      return { active, latest }
    },
    async valuesAt(version: number): Promise<NetworkParameterValues> {
      return fromChainValues(await publicClient.readContract({ ...parameters, functionName: 'valuesAt', args: [version] }))
    },
    /** Each parameter's bounds as the contract enforces them. */
    async bounds(): Promise<Record<NetworkParameterName, { min: bigint; max: bigint }>> {
      const out: Partial<Record<NetworkParameterName, { min: bigint; max: bigint }>> = {}
      for (const p of networkParameters) {
        const [min, max] = await publicClient.readContract({ ...parameters, functionName: 'boundsOf', args: [p.id] })
        out[p.name] = { min, max }
      }
      return out as Record<NetworkParameterName, { min: bigint; max: bigint }>
    },
    /** An account's voting power now (its active stake). */
    votesOf: (account: Address) =>
      publicClient.readContract({ address: contracts.stakeManager, abi: StakeManagerAbi, functionName: 'getVotes', args: [account] }),
  }
}

export type GovernanceClient = ReturnType<typeof createGovernanceClient>
