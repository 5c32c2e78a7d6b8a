import { createPublicClient, createWalletClient, http } from 'viem'
import type { Hex, PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { readAddressesFile } from '../../chain/deploy.ts'
import type { AddressesFile } from '../../chain/deploy.ts'
import { createGovernanceClient } from '../../chain/viem/createGovernanceClient.ts'
import type { GovernanceClient } from '../../chain/viem/createGovernanceClient.ts'
import type { Wallet } from '../../chain/viem/createSettlementClient.ts'
import { defineDevChain } from '../../chain/viem/defineDevChain.ts'
import { UsageError, VeritaskError } from '../../core/errors.ts'
import type { CommandContext } from '../context.ts'

/** The flags every `veritask gov` command shares. */
export interface ChainFlags {
  rpcUrl: string
  addresses: string
  json: boolean
}

export interface GovConnection {
  addresses: AddressesFile
  publicClient: PublicClient
  gov: GovernanceClient
  /** The account that signs writes: the key in $VERITASK_KEY. */
  wallet(): Wallet
}

/** Reads the addresses file and connects to the chain it names. */
export async function connect(flags: ChainFlags, context: CommandContext): Promise<GovConnection> {
  let addresses: AddressesFile
  try {
    addresses = await readAddressesFile(flags.addresses)
  } catch (cause) {
    throw new VeritaskError('GOV_NO_ADDRESSES', `Cannot read the contract addresses from ${flags.addresses}.`, {
      cause,
      hint: '`veritask devnet` writes .devnet/addresses.json; pass --addresses <file> for another deployment.',
    })
  }
  const chain = defineDevChain(flags.rpcUrl, addresses.chainId)
  const transport = http(flags.rpcUrl, { retryCount: 1 })
  const publicClient = createPublicClient({ chain, transport }) as PublicClient
  let chainId: number
  try {
    chainId = await publicClient.getChainId()
  } catch (cause) {
    throw new VeritaskError('CHAIN_UNREACHABLE', `No EVM JSON-RPC endpoint answers at ${flags.rpcUrl}.`, {
      cause,
      hint: 'Pass --rpc-url for the chain the addresses file belongs to.',
    })
  }
  if (chainId !== addresses.chainId) {
    throw new VeritaskError('GOV_WRONG_CHAIN', `${flags.rpcUrl} is chain ${chainId}, but ${flags.addresses} is for chain ${addresses.chainId}.`, {
      hint: 'Pass the --rpc-url and --addresses of the same deployment.',
    })
  }
  return {
    addresses,
    publicClient,
    gov: createGovernanceClient(publicClient, addresses),
    wallet() {
      const key = context.env.VERITASK_KEY
      if (key === undefined || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
        throw new UsageError('USAGE_INVALID_OPTION', 'This command sends a transaction: set VERITASK_KEY to the private key of a staked account.', {
          hint: 'VERITASK_KEY=0x… (64 hex digits). Keys come from the environment, never from flags.',
        })
      }
      return createWalletClient({ chain, transport, account: privateKeyToAccount(key as Hex) })
    },
  }
}
