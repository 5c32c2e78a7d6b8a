import { defineChain } from 'viem'
import type { Chain } from 'viem'

/** A viem chain for a JSON-RPC endpoint known only by URL and chain id (anvil, a devnet, a test chain). */
export function defineDevChain(rpcUrl: string, id = 31337, name = 'veritask devnet'): Chain {
  return defineChain({
    id,
    name,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  })
}
