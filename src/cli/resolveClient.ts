import { readFile } from 'node:fs/promises'
import { isAddress, isHex } from 'viem'
import type { Address, Hex } from 'viem'
import { UsageError } from '../core/errors.ts'
import { createVeritaskClient } from '../sdk/createVeritaskClient.ts'
import type { VeritaskClient } from '../sdk/createVeritaskClient.ts'
import { sleep } from '../sdk/sleep.ts'
import { defaultNetworkFile } from './connection.ts'
import type { ConnectionFlags, NetworkFile } from './connection.ts'
import type { CommandContext } from './context.ts'

/** How long to wait for a network file that exists but is still empty (`devnet --serve` starting). */
const STARTING_NETWORK_WAIT_MS = 60_000

async function readNetworkFile(path: string, explicit: boolean, signal: AbortSignal): Promise<NetworkFile> {
  let text: string
  const started = Date.now()
  for (;;) {
    try {
      text = await readFile(path, 'utf8')
    } catch (cause) {
      if (!explicit) return {}
      throw new UsageError('USAGE_INVALID_OPTION', `Cannot read the network file ${path}.`, { cause, hint: 'Write it with `veritask devnet --serve --json > <file>`, or pass --network <file>.' })
    }
    if (text.trim() !== '' || Date.now() - started > STARTING_NETWORK_WAIT_MS) break
    // The network writing it is still starting.
    await sleep(250, signal)
  }
  try {
    return JSON.parse(text) as NetworkFile
  } catch (cause) {
    throw new UsageError('USAGE_INVALID_OPTION', `${path} is not JSON.`, { cause })
  }
}

/** Resolves the connection settings and the requester key (from $VERITASK_KEY, never a flag) into an SDK client. */
export async function resolveClient(flags: ConnectionFlags, context: CommandContext): Promise<VeritaskClient> {
  const env = context.env
  const file = await readNetworkFile(flags.network, flags.network !== defaultNetworkFile, context.signal)
  const rpcUrl = flags.rpcUrl ?? env.VERITASK_RPC_URL ?? file.rpcUrl
  const fileNodes = file.nodeApiUrls ?? file.nodes?.flatMap((n) => (typeof n.api === 'string' ? [n.api] : []))
  const nodes = flags.node ?? env.VERITASK_NODE_URLS?.split(',').map((s) => s.trim()).filter(Boolean) ?? fileNodes
  const settlement = flags.settlement ?? env.VERITASK_SETTLEMENT ?? file.contracts?.settlement
  // The anchors contract, from the file only when the settlement is too (one deployment); else the
  // client asks the node (GET /v1/status).
  const anchors = flags.settlement === undefined && env.VERITASK_SETTLEMENT === undefined ? file.contracts?.anchors : undefined
  const key = env.VERITASK_KEY ?? file.requesterKey ?? file.requester?.privateKey
  const missing = (what: string, flag: string) =>
    new UsageError('USAGE_INVALID_OPTION', `No ${what} given.`, {
      hint: `Pass ${flag}, or run \`veritask devnet --serve --json > ${defaultNetworkFile}\`, or pass --network <file>.`,
    })
  if (rpcUrl === undefined) throw missing('RPC URL', '--rpc-url')
  if (nodes === undefined || nodes.length === 0) throw missing('node API URL', '--node <url>')
  if (settlement === undefined) throw missing('settlement contract', '--settlement')
  if (!isAddress(settlement)) throw new UsageError('USAGE_INVALID_OPTION', `"${settlement}" is not an address.`, { hint: 'An address is 0x and 40 hex digits.' })
  if (key === undefined) {
    throw new UsageError('USAGE_INVALID_OPTION', 'No requester key: set $VERITASK_KEY.', {
      hint: 'Keys are read from the environment, never from flags. `veritask devnet --serve` prints a funded devnet key.',
    })
  }
  if (!isHex(key) || key.length !== 66) throw new UsageError('USAGE_INVALID_OPTION', '$VERITASK_KEY is not a private key (0x and 64 hex digits).')
  return createVeritaskClient({
    rpcUrl,
    nodeApiUrl: nodes,
    account: key as Hex,
    settlement: settlement as Address,
    ...(anchors !== undefined && isAddress(anchors) ? { anchors } : {}),
    ...(file.chainId !== undefined && flags.rpcUrl === undefined ? { chainId: file.chainId } : {}),
  })
}
