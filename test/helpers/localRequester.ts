import type { LocalNetwork } from '../../src/devnet/localNetwork.ts'
import { createVeritaskClient } from '../../src/sdk/index.ts'
import type { VeritaskClient } from '../../src/sdk/index.ts'

/** The SDK client of a local network's requester, asking every node API in turn. */
export function localRequester(net: LocalNetwork, overrides: Partial<Parameters<typeof createVeritaskClient>[0]> = {}): VeritaskClient {
  return createVeritaskClient({
    rpcUrl: net.rpcUrl,
    nodeApiUrl: net.nodeApiUrls,
    account: net.requesterKey,
    settlement: net.contracts.settlement,
    chainId: net.chainId,
    pollIntervalMs: 100,
    ...overrides,
  })
}
