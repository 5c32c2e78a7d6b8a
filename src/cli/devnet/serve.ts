import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { writeAddressesFile } from '../../chain/deploy.ts'
import { startLocalNetwork } from '../../devnet/localNetwork.ts'
import type { LocalNetwork } from '../../devnet/localNetwork.ts'
import type { Logger } from '../../node/logger.ts'
import type { CommandContext } from '../context.ts'

export interface ServeOptions {
  nodes: number
  seed: string
  json: boolean
  logger: Logger
  /** Where to write what the output describes (for `veritask submit/job …`), and the contract addresses (for `veritask node`, `veritask gov`). */
  networkFile: string
  addressesFile: string
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
      anchors: net.contracts.anchors,
      parameters: net.contracts.parameters,
      governor: net.contracts.governor,
      timelock: net.contracts.timelock,
      deployBlock: net.contracts.deployBlock.toString(),
    },
    /** The web explorer every node serves at `/` on its API port; node 0's. */
    explorer: `${net.nodeApiUrls[0]!}/`,
    nodes: net.nodeAddresses.map((address, i) => ({ address, api: net.nodeApiUrls[i]!, explorer: `${net.nodeApiUrls[i]!}/` })),
    requester: { address: net.requester, privateKey: net.requesterKey },
  }
}

/** Runs the live local network until the command's signal (Ctrl-C) aborts, then stops it cleanly. */
export async function serveDevnet(context: CommandContext, options: ServeOptions): Promise<void> {
  const net = await startLocalNetwork({ nodes: options.nodes, seed: options.seed, logger: options.logger, signal: context.signal })
  try {
    const info = describeNetwork(net)
    await mkdir(dirname(options.networkFile), { recursive: true })
    await writeFile(options.networkFile, `${JSON.stringify(info, null, 1)}\n`)
    await mkdir(dirname(options.addressesFile), { recursive: true })
    await writeAddressesFile(options.addressesFile, { chainId: net.chainId, ...net.contracts })
    if (options.json) {
      context.stdout(JSON.stringify(info))
    } else {
      context.stdout(
        [
          `veritask devnet: ${info.nodes.length} nodes serving; Ctrl-C stops them.`,
          '',
          `  explorer       ${info.explorer}  (open it in a browser: live tasks, nodes, epochs, receipts)`,
          `  rpc url        ${info.rpcUrl}  (chain id ${info.chainId})`,
          `  settlement     ${info.contracts.settlement}`,
          `  escrow         ${info.contracts.escrow}`,
          `  token          ${info.contracts.token}`,
          `  stake manager  ${info.contracts.stakeManager}`,
          `  governor       ${info.contracts.governor}`,
          ...info.nodes.map((n, i) => `  node ${i}         ${n.api}  (${n.address})`),
          '',
          `  requester      ${info.requester.address}  (1,000 test tokens, nothing deposited)`,
          `  requester key  ${info.requester.privateKey}  (a public devnet key: never use it elsewhere)`,
          '',
          `  written        ${options.networkFile} (for veritask submit/job/status/result), ${options.addressesFile}`,
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
