import type { Command } from 'commander'
import { Option } from 'commander'
import type { Hex } from 'viem'
import { UsageError } from '../core/errors.ts'
import type { VeritaskClient } from '../sdk/createVeritaskClient.ts'
import type { CommandContext } from './context.ts'

/** How requester commands reach the network; flags win over environment variables, which win over the network file. */
export interface ConnectionFlags {
  rpcUrl?: string
  node?: string[]
  settlement?: string
  network: string
}

/**
 * A connection file: what `veritask devnet --serve --json` prints (redirect it to the file), or the
 * flat form below. Everything a requester needs to connect.
 * The requester key is a devnet key, public knowledge, never one holding value.
 */
export interface NetworkFile {
  rpcUrl?: string
  chainId?: number
  /** `anchors`: the TaskAnchors contract, where task ids are anchored (else the node's status names it). */
  contracts?: { settlement?: string; anchors?: string }
  nodeApiUrls?: string[]
  requesterKey?: string
  /** The shape `veritask devnet --serve --json` prints: nodes with their API URLs, the requester's key. */
  nodes?: Array<{ api?: string }>
  requester?: { privateKey?: string }
}

export const defaultNetworkFile = '.devnet/network.json'

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value]

/** Adds --rpc-url, --node (repeatable), --settlement and --network to a requester command. */
export function withConnectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--rpc-url <url>', 'EVM JSON-RPC endpoint (env VERITASK_RPC_URL)'))
    .addOption(new Option('--node <url>', 'node API URL; repeat for fallbacks (env VERITASK_NODE_URLS, comma-separated)').argParser(collect))
    .addOption(new Option('--settlement <address>', 'Settlement contract (env VERITASK_SETTLEMENT)'))
    .addOption(new Option('--network <file>', 'connection file, as `veritask devnet --serve --json` prints it').default(defaultNetworkFile))
}

/**
 * Resolves the connection settings and the requester key (from $VERITASK_KEY, never a flag) into an
 * SDK client. The SDK (and viem) load here, when a command connects, not when the CLI starts.
 */
export async function connectClient(flags: ConnectionFlags, context: CommandContext): Promise<VeritaskClient> {
  const { resolveClient } = await import('./resolveClient.ts')
  return resolveClient(flags, context)
}

/** Parses a task id argument. */
export function parseTaskId(raw: string): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(raw)) {
    throw new UsageError('USAGE_INVALID_OPTION', `"${raw}" is not a task id.`, { hint: 'A task id is 0x followed by 64 hex digits.' })
  }
  return raw.toLowerCase() as Hex
}

/** JSON with bigints as decimal strings and bytes as base64. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v))
}
