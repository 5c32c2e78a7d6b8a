import type { Address, PublicClient } from 'viem'
import { VeritaskError } from '../../core/errors.ts'
import type { ProtocolParams } from '../../core/params.ts'
import { NetworkParametersAbi, SettlementAbi } from '../generated/contracts.ts'
import { fromChainValues, toProtocolParams } from '../governance/parameters.ts'
import type { NetworkParameterValues } from '../governance/parameters.ts'

export interface ReadParametersParameters {
  /** The Settlement contract: it records which parameter version each epoch uses. */
  settlement: Address
  /** An opened epoch. */
  epoch: bigint
}

export interface EpochParameters {
  epoch: bigint
  /** The NetworkParameters version fixed for the epoch when it opened. */
  version: number
  values: NetworkParameterValues
}

/**
 * The governed parameters of `epoch`, as fixed when it opened: every node that reads them gets the
 * same values, however late it reads. Throws if the epoch is not opened yet.
 */
export async function readNetworkParameters(
  publicClient: PublicClient,
  { settlement, epoch }: ReadParametersParameters,
): Promise<EpochParameters> {
  const [opened, version, parameters] = await Promise.all([
    publicClient.readContract({ address: settlement, abi: SettlementAbi, functionName: 'isEpochOpened', args: [epoch] }),
    publicClient.readContract({ address: settlement, abi: SettlementAbi, functionName: 'parametersVersionOf', args: [epoch] }),
    publicClient.readContract({ address: settlement, abi: SettlementAbi, functionName: 'parameters' }),
  ])
  if (!opened) {
    throw new VeritaskError('CHAIN_EPOCH_NOT_OPENED', `Epoch ${epoch} is not opened yet: its parameters are not fixed.`, {
      details: { epoch },
      hint: 'An epoch’s parameters are fixed when Settlement.openEpoch runs at its first block; ask for an opened epoch.',
    })
  }
  const values = await publicClient.readContract({
    address: parameters,
    abi: NetworkParametersAbi,
    functionName: 'valuesAt',
    args: [version],
  })
  return { epoch, version, values: fromChainValues(values) }
}

/**
 * The node-facing parameters of `epoch` (ProtocolParams): the governed values of the epoch, the
 * node's own `base` settings for what is not governed (backups, maxK, maxMessageBytes).
 */
export async function readParameters(
  publicClient: PublicClient,
  parameters: ReadParametersParameters & { base?: ProtocolParams },
): Promise<ProtocolParams> {
  const { values } = await readNetworkParameters(publicClient, parameters)
  return toProtocolParams(values, parameters.base)
}
