import { readFile, rename, writeFile } from 'node:fs/promises'
import {
  decodeErrorResult,
  getAddress,
  isAddress,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import {
  EscrowAbi,
  EscrowBytecode,
  NetworkParametersAbi,
  NetworkParametersBytecode,
  SettlementAbi,
  SettlementBytecode,
  StakeManagerAbi,
  StakeManagerBytecode,
  TaskAnchorsAbi,
  TaskAnchorsBytecode,
  TestTokenAbi,
  TestTokenBytecode,
  VeritaskGovernorAbi,
  VeritaskGovernorBytecode,
  VeritaskTimelockAbi,
  VeritaskTimelockBytecode,
} from './generated/contracts.ts'
import { defaultNetworkParameters, toChainValues } from './governance/parameters.ts'
import type { NetworkParameterValues } from './governance/parameters.ts'
import { waitForReceipt } from './viem/waitForReceipt.ts'
import { VeritaskError } from '../core/errors.ts'

/**
 * What the contracts are deployed with: the initial governed parameters (NetworkParameters; see
 * docs/governance.md) and the escrow's withdrawal delay. Block counts are chain blocks.
 */
export interface ChainParams extends NetworkParameterValues {
  /** Blocks between an escrow `requestWithdrawal` and `withdraw`; should exceed two epochs. */
  withdrawalDelayBlocks: bigint
}

/**
 * Devnet defaults. Epochs of 20 blocks; withdrawals wait 3 epochs, unbonding 6, so the open epoch's charges and
 * penalties always settle before money leaves.
 */
export const defaultChainParams: Readonly<ChainParams> = Object.freeze({
  ...defaultNetworkParameters,
  withdrawalDelayBlocks: 60n,
})

/** How governance decides: OpenZeppelin Governor settings and the timelock's delay. */
export interface GovernanceSettings {
  /** Blocks between a proposal and the snapshot of voting power (voting starts after it). */
  votingDelayBlocks: number
  /** Blocks the vote lasts. */
  votingPeriodBlocks: number
  /** Active stake a proposer needs (token base units). */
  proposalThreshold: bigint
  /** Percent of the total snapshot stake that must vote for or abstain. */
  quorumPercent: number
  /** Seconds a passed proposal waits in the timelock before anyone may execute it. */
  timelockDelaySeconds: bigint
}

/** Devnet defaults: fast enough to pass a proposal within a devnet run by mining blocks. */
export const defaultGovernanceSettings: Readonly<GovernanceSettings> = Object.freeze({
  votingDelayBlocks: 1,
  votingPeriodBlocks: 20,
  proposalThreshold: 100n * 10n ** 18n,
  quorumPercent: 20,
  timelockDelaySeconds: 60n,
})

export interface DeployedContracts {
  token: Address
  stakeManager: Address
  escrow: Address
  settlement: Address
  /** Task anchors: requesters' roots of task ids (TaskAnchors). */
  anchors: Address
  /** The governed parameters, owned by the timelock. */
  parameters: Address
  governor: Address
  timelock: Address
  /** The block of the first deployment transaction: scan events from here. */
  deployBlock: bigint
}

export interface DeployContractsParameters {
  walletClient: WalletClient<Transport, Chain | undefined, Account>
  publicClient: PublicClient
  params?: Partial<ChainParams>
  governance?: Partial<GovernanceSettings>
  /** Use this ERC-20 instead of deploying a TestToken (whose owner, the deployer, can mint). */
  token?: Address
  /** Receiver of slashed stake and of anchoring fees; default the deployer. */
  treasury?: Address
}

/**
 * Deploys TestToken (unless `token` is given), the governance (timelock, NetworkParameters owned by it, the
 * governor voting with stake), StakeManager, Escrow, Settlement and TaskAnchors (its fees to `treasury`); points
 * StakeManager, Escrow and NetworkParameters at Settlement; makes the governor the timelock's only proposer and
 * renounces the deployer's admin role. Transactions are sent one at a time, each awaited, from `walletClient.account`.
 */
export async function deployContracts({
  walletClient,
  publicClient,
  params: overrides,
  governance: governanceOverrides,
  token: givenToken,
  treasury,
}: DeployContractsParameters): Promise<DeployedContracts> {
  const params = { ...defaultChainParams, ...overrides }
  const governance = { ...defaultGovernanceSettings, ...governanceOverrides }
  const account = walletClient.account
  const chain = walletClient.chain ?? null
  let deployBlock: bigint | undefined

  const deploy = async (name: string, abi: Abi, bytecode: Hex, args: readonly unknown[]): Promise<Address> => {
    let hash: Hex
    try {
      hash = await walletClient.deployContract({ abi, bytecode, args, account, chain })
    } catch (cause) {
      const reverted = revertOf(cause, abi)
      if (reverted === undefined) throw cause
      throw new VeritaskError('CHAIN_DEPLOY_FAILED', `Deploying ${name} failed: ${reverted}.`, {
        cause,
        hint: 'The initial parameters must be within their bounds and consistent; see docs/governance.md.',
      })
    }
    const receipt = await waitForReceipt(publicClient, hash)
    if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`deploying ${name} failed (${hash})`)
    deployBlock ??= receipt.blockNumber
    return getAddress(receipt.contractAddress)
  }
  const send = async (name: string, hash: Hex): Promise<void> => {
    const receipt = await waitForReceipt(publicClient, hash)
    if (receipt.status !== 'success') throw new Error(`${name} failed (${hash})`)
  }

  const call = async (name: string, address: Address, abi: Abi, functionName: string, args: readonly unknown[]) =>
    send(name, await walletClient.writeContract({ address, abi, functionName, args, account, chain }))

  const token = givenToken ?? (await deploy('TestToken', TestTokenAbi, TestTokenBytecode, []))
  // The deployer is the timelock's admin only until the governor holds its roles.
  const timelock = await deploy('VeritaskTimelock', VeritaskTimelockAbi, VeritaskTimelockBytecode, [
    governance.timelockDelaySeconds,
    [],
    ['0x0000000000000000000000000000000000000000'],
    account.address,
  ])
  const parameters = await deploy('NetworkParameters', NetworkParametersAbi, NetworkParametersBytecode, [
    timelock,
    toChainValues(params),
  ])
  const stakeManager = await deploy('StakeManager', StakeManagerAbi, StakeManagerBytecode, [token, parameters])
  const escrow = await deploy('Escrow', EscrowAbi, EscrowBytecode, [token, params.withdrawalDelayBlocks])
  const settlement = await deploy('Settlement', SettlementAbi, SettlementBytecode, [
    stakeManager,
    escrow,
    treasury ?? account.address,
    parameters,
  ])
  const anchors = await deploy('TaskAnchors', TaskAnchorsAbi, TaskAnchorsBytecode, [token, parameters, treasury ?? account.address])
  const governor = await deploy('VeritaskGovernor', VeritaskGovernorAbi, VeritaskGovernorBytecode, [
    stakeManager,
    timelock,
    governance.votingDelayBlocks,
    governance.votingPeriodBlocks,
    governance.proposalThreshold,
    governance.quorumPercent,
  ])
  for (const role of ['PROPOSER_ROLE', 'CANCELLER_ROLE'] as const) {
    const id = await publicClient.readContract({ address: timelock, abi: VeritaskTimelockAbi, functionName: role })
    await call(`VeritaskTimelock.grantRole(${role})`, timelock, VeritaskTimelockAbi, 'grantRole', [id, governor])
  }
  const adminRole = await publicClient.readContract({ address: timelock, abi: VeritaskTimelockAbi, functionName: 'DEFAULT_ADMIN_ROLE' })
  await call('VeritaskTimelock.renounceRole', timelock, VeritaskTimelockAbi, 'renounceRole', [adminRole, account.address])
  await call('NetworkParameters.setSettlement', parameters, NetworkParametersAbi, 'setSettlement', [settlement])
  await call('StakeManager.setSettlement', stakeManager, StakeManagerAbi, 'setSettlement', [settlement])
  await call('Escrow.setSettlement', escrow, EscrowAbi, 'setSettlement', [settlement])
  return { token, stakeManager, escrow, settlement, anchors, parameters, governor, timelock, deployBlock: deployBlock ?? 0n }
}

/** What `writeAddressesFile` stores: where the contracts of one chain live. */
export interface AddressesFile extends DeployedContracts {
  chainId: number
}

/** Writes the addresses of a deployment as JSON (atomically), for later runs against the same chain. */
export async function writeAddressesFile(path: string, contents: AddressesFile): Promise<void> {
  const json = {
    chainId: contents.chainId,
    token: contents.token,
    stakeManager: contents.stakeManager,
    escrow: contents.escrow,
    settlement: contents.settlement,
    anchors: contents.anchors,
    parameters: contents.parameters,
    governor: contents.governor,
    timelock: contents.timelock,
    deployBlock: contents.deployBlock.toString(),
  }
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, `${JSON.stringify(json, null, 2)}\n`)
  await rename(temporary, path)
}

/** Reads and checks a file written by `writeAddressesFile`. */
export async function readAddressesFile(path: string): Promise<AddressesFile> {
  const fail = (why: string): never => {
    throw new Error(`invalid addresses file ${path}: ${why}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
  if (typeof raw !== 'object' || raw === null) return fail('not a JSON object')
  const record = raw as Record<string, unknown>
  const address = (key: string): Address => {
    const value = record[key]
    if (typeof value !== 'string' || !isAddress(value, { strict: false })) return fail(`'${key}' is not an address`)
    return getAddress(value)
  }
  const { chainId, deployBlock } = record
  if (typeof chainId !== 'number' || !Number.isSafeInteger(chainId) || chainId <= 0) {
    return fail("'chainId' is not a positive integer")
  }
  const contracts = {
    token: address('token'),
    stakeManager: address('stakeManager'),
    escrow: address('escrow'),
    settlement: address('settlement'),
    anchors: address('anchors'),
    parameters: address('parameters'),
    governor: address('governor'),
    timelock: address('timelock'),
  }
  if (typeof deployBlock !== 'string' || !/^\d+$/.test(deployBlock)) return fail("'deployBlock' is not a decimal string")
  return {
    chainId,
    ...contracts,
    deployBlock: BigInt(deployBlock),
  }
}

/** The custom error a failed deployment reverted with, as `Name(args)`, found in the error's cause chain. */
function revertOf(error: unknown, abi: Abi): string | undefined {
  for (let e: unknown = error; typeof e === 'object' && e !== null; e = (e as { cause?: unknown }).cause) {
    const data = (e as { data?: unknown }).data
    if (typeof data !== 'string' || !/^0x[0-9a-f]{8}/i.test(data)) continue
    try {
      const { errorName, args } = decodeErrorResult({ abi, data: data as Hex })
      return `${errorName}(${(args ?? []).map(String).join(', ')})`
    } catch {
      return undefined
    }
  }
  return undefined
}
