import { readFile, rename, writeFile } from 'node:fs/promises'
import {
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
  SettlementAbi,
  SettlementBytecode,
  StakeManagerAbi,
  StakeManagerBytecode,
  TestTokenAbi,
  TestTokenBytecode,
} from './generated/contracts.ts'
import { waitForReceipt } from './viem/waitForReceipt.ts'

/** The governed parameters the contracts are deployed with. Block counts are chain blocks. */
export interface ChainParams {
  /** Smallest snapshot stake that makes a node a committee candidate (token units, 18 decimals). */
  minStake: bigint
  /** Blocks between `requestUnbond` and `withdraw`; must exceed the time to settle an epoch's penalties. */
  unbondingBlocks: bigint
  /** Blocks between an escrow `requestWithdrawal` and `withdraw`; should exceed two epochs. */
  withdrawalDelayBlocks: bigint
  /** Blocks per epoch. */
  epochLength: bigint
  /** Expected committee size C of the threshold sortition. */
  committeeSize: number
  /** Share of an equivocator's bonded stake slashed, in basis points. */
  equivocationSlashBps: number
  /** Blocks an equivocator is jailed. */
  jailBlocks: bigint
}

/**
 * Devnet defaults. Epochs of 20 blocks; withdrawals wait 3 epochs, unbonding 6, so the open epoch's charges and
 * penalties always settle before money leaves.
 */
export const defaultChainParams: Readonly<ChainParams> = Object.freeze({
  minStake: 100n * 10n ** 18n,
  unbondingBlocks: 120n,
  withdrawalDelayBlocks: 60n,
  epochLength: 20n,
  committeeSize: 16,
  equivocationSlashBps: 1_000,
  jailBlocks: 100n,
})

export interface DeployedContracts {
  token: Address
  stakeManager: Address
  escrow: Address
  settlement: Address
  /** The block of the first deployment transaction: scan events from here. */
  deployBlock: bigint
}

export interface DeployContractsParameters {
  walletClient: WalletClient<Transport, Chain | undefined, Account>
  publicClient: PublicClient
  params?: Partial<ChainParams>
  /** Use this ERC-20 instead of deploying a TestToken (whose owner, the deployer, can mint). */
  token?: Address
  /** Receiver of slashed stake; default the deployer. */
  treasury?: Address
}

/**
 * Deploys TestToken (unless `token` is given), StakeManager, Escrow and Settlement, and points StakeManager and
 * Escrow at Settlement. Transactions are sent one at a time, each awaited, from `walletClient.account`.
 */
export async function deployContracts({
  walletClient,
  publicClient,
  params: overrides,
  token: givenToken,
  treasury,
}: DeployContractsParameters): Promise<DeployedContracts> {
  const params = { ...defaultChainParams, ...overrides }
  const account = walletClient.account
  const chain = walletClient.chain ?? null
  let deployBlock: bigint | undefined

  const deploy = async (name: string, abi: Abi, bytecode: Hex, args: readonly unknown[]): Promise<Address> => {
    const hash = await walletClient.deployContract({ abi, bytecode, args, account, chain })
    const receipt = await waitForReceipt(publicClient, hash)
    if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`deploying ${name} failed (${hash})`)
    deployBlock ??= receipt.blockNumber
    return getAddress(receipt.contractAddress)
  }
  const send = async (name: string, hash: Hex): Promise<void> => {
    const receipt = await waitForReceipt(publicClient, hash)
    if (receipt.status !== 'success') throw new Error(`${name} failed (${hash})`)
  }

  const token = givenToken ?? (await deploy('TestToken', TestTokenAbi, TestTokenBytecode, []))
  const stakeManager = await deploy('StakeManager', StakeManagerAbi, StakeManagerBytecode, [
    token,
    params.minStake,
    params.unbondingBlocks,
  ])
  const escrow = await deploy('Escrow', EscrowAbi, EscrowBytecode, [token, params.withdrawalDelayBlocks])
  const settlement = await deploy('Settlement', SettlementAbi, SettlementBytecode, [
    stakeManager,
    escrow,
    treasury ?? account.address,
    params.epochLength,
    params.committeeSize,
    params.equivocationSlashBps,
    params.jailBlocks,
  ])
  await send(
    'StakeManager.setSettlement',
    await walletClient.writeContract({
      address: stakeManager,
      abi: StakeManagerAbi,
      functionName: 'setSettlement',
      args: [settlement],
      account,
      chain,
    }),
  )
  await send(
    'Escrow.setSettlement',
    await walletClient.writeContract({
      address: escrow,
      abi: EscrowAbi,
      functionName: 'setSettlement',
      args: [settlement],
      account,
      chain,
    }),
  )
  return { token, stakeManager, escrow, settlement, deployBlock: deployBlock ?? 0n }
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
  }
  if (typeof deployBlock !== 'string' || !/^\d+$/.test(deployBlock)) return fail("'deployBlock' is not a decimal string")
  return {
    chainId,
    ...contracts,
    deployBlock: BigInt(deployBlock),
  }
}
