import { startLocalNetwork } from '../../devnet/localNetwork.ts'
import type { LocalNetwork } from '../../devnet/localNetwork.ts'
import type { Logger } from '../../node/logger.ts'
import type { CommandContext } from '../context.ts'

export interface ServeOptions {
  nodes: number
  seed: string
  json: boolean
  logger: Logger
}

/** What `devnet --serve` prints: everything an SDK or CLI needs to point at the network. */
export function describeNetwork(net: LocalNetwork) {
  return {
    rpcUrl: net.rpcUrl,
    chainId: net.chainId,
    contracts: {
      token: net.contracts.token,
      stakeManager: net.contracts.stakeManager,
      escrow: net.contracts.escrow,
      settlement: net.contracts.settlement,
      deployBlock: net.contracts.deployBlock.toString(),
    },
    nodes: net.nodeAddresses.map((address, i) => ({ address, api: net.nodeApiUrls[i]! })),
    requester: { address: net.requester, privateKey: net.requesterKey },
  }
}

/** Runs the live local network until the command's signal (Ctrl-C) aborts, then stops it cleanly. */
export async function serveDevnet(context: CommandContext, options: ServeOptions): Promise<void> {
  const net = await startLocalNetwork({ nodes: options.nodes, seed: options.seed, logger: options.logger, signal: context.signal })
  try {
    const info = describeNetwork(net)
    if (options.json) {
      context.stdout(JSON.stringify(info))
    } else {
      context.stdout(
        [
          `veritask devnet: ${info.nodes.length} nodes serving; Ctrl-C stops them.`,
          '',
          `  rpc url        ${info.rpcUrl}  (chain id ${info.chainId})`,
          `  settlement     ${info.contracts.settlement}`,
          `  escrow         ${info.contracts.escrow}`,
          `  token          ${info.contracts.token}`,
          `  stake manager  ${info.contracts.stakeManager}`,
          ...info.nodes.map((n, i) => `  node ${i}         ${n.api}  (${n.address})`),
          '',
          `  requester      ${info.requester.address}  (1,000 test tokens, nothing deposited)`,
          `  requester key  ${info.requester.privateKey}  (a public devnet key: never use it elsewhere)`,
        ].join('\n'),
      )
    }
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) return resolve()
      context.signal.addEventListener('abort', () => resolve(), { once: true })
    })
  } finally {
    await net.stop()
  }
}
