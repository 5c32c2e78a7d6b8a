import { readFileSync } from 'node:fs'
import { keccak256, stringToBytes } from 'viem'
import type { LocalAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { ApiServer } from '../../src/api/createApiServer.ts'
import { createTestChain } from './contractChain.ts'
import type { TestChain } from './contractChain.ts'
import { createStaticChainView } from '../../src/chain/memory/createStaticChainView.ts'
import { contentId } from '../../src/core/contentId.ts'
import type { ProtocolDomain } from '../../src/core/types.ts'
import { startNodeHost } from '../../src/host/startNodeHost.ts'
import { createMemoryHub } from '../../src/net/memory/createMemoryHub.ts'
import type { VeritaskNode } from '../../src/node/createNode.ts'
import type { ExecutionRequest, ExecutionResult, Runtime } from '../../src/ports/runtime.ts'
import { exampleProgramPath } from '../../src/programs/examplePrograms.ts'
import { wordCountReference } from '../../src/programs/wordCount.ts'
import { mergeWordCountsReference } from '../../examples/word-frequencies/wordFrequencies.ts'
import { testAccount, testVrfKey } from './fixtures.ts'

// A requester's view of a network, cheap to start: anvil with the contracts (escrow deposits,
// the signing domain) and three in-memory nodes behind their HTTP APIs. The nodes' runtime
// answers with the example programs' reference outputs, so tasks decide in milliseconds; the
// real WebAssembly path and on-chain settlement are test/job.test.ts's.

export const wordCountProgram = new Uint8Array(readFileSync(exampleProgramPath('word-count')))
export const mergeProgram = new Uint8Array(readFileSync(new URL('../../programs/build/word-count-merge.wasm', import.meta.url)))

export interface RuntimeSwitches {
  /** Inputs containing `SPLIT` make every node answer differently (no quorum: unresolved). */
  split: boolean
}

/** Word-count and its merge by reference; `TRAP` in an input fails everywhere. */
function referenceRuntime(node: number, switches: RuntimeSwitches): Runtime {
  const mergeId = contentId(mergeProgram)
  return {
    name: 'wasm',
    async execute({ programId, input }: ExecutionRequest): Promise<ExecutionResult> {
      const text = Buffer.from(input).toString('latin1')
      if (text.includes('TRAP')) return { status: 'failed', reason: 'trap', fuelUsed: 1n }
      if (switches.split && text.includes('SPLIT')) return { status: 'ok', output: stringToBytes(`node ${node}`), fuelUsed: 1n }
      return { status: 'ok', output: programId === mergeId ? mergeWordCountsReference(input) : wordCountReference(input), fuelUsed: 1n }
    },
    close: async () => {},
  }
}

export interface RequesterNetwork {
  chain: TestChain
  nodes: VeritaskNode[]
  /** APIs of nodes 0 and 1. */
  apis: ApiServer[]
  /** Funded with 10^18 test tokens, nothing deposited. */
  requester: LocalAccount
  requesterKey: `0x${string}`
  switches: RuntimeSwitches
  /** Specs node 0 accepted so far: what a test checks to see nothing was submitted. */
  accepted(): number
  stop(): Promise<void>
}

export async function startRequesterNetwork(label = 'requester'): Promise<RequesterNetwork> {
  const chain = await createTestChain()
  const requesterKey = keccak256(stringToBytes(`veritask-test:${label}-key`))
  const requester = privateKeyToAccount(requesterKey)
  await chain.testClient.setBalance({ address: requester.address, value: 10n ** 21n })
  await chain.mint(requester.address, 10n ** 18n)
  const domain: ProtocolDomain = { chainId: chain.chain.id, verifyingContract: chain.contracts.settlement }
  const accounts = [0, 1, 2].map((i) => testAccount(`${label}-node-${i}`))
  const view = createStaticChainView({
    seed: keccak256(stringToBytes(label)),
    nodes: accounts.map((a) => ({ address: a.address, weight: 100n, runtimes: ['wasm'] })),
    escrow: new Map([[requester.address, 10n ** 18n]]),
  })
  const hub = createMemoryHub()
  const switches: RuntimeSwitches = { split: true }
  // Nodes 0 and 1 serve the HTTP API (loopback, a free port); settlement is not these nodes' part.
  const hosts = await Promise.all(
    accounts.map((account, i) =>
      startNodeHost({
        account,
        // Its verifier's challenge decides a task's audit: a node without a VRF key stays silent.
        vrf: testVrfKey(`${label}-node-${i}`),
        network: hub.connect(`peer-${i}`),
        chain: view,
        domain,
        runtimes: { wasm: referenceRuntime(i, switches) },
        ...(i < 2 ? { api: {} } : {}),
      }),
    ),
  )
  const nodes: VeritaskNode[] = hosts.map((host) => host.node)
  const apis = hosts.flatMap((host) => (host.api === undefined ? [] : [host.api]))
  return {
    chain,
    nodes,
    apis,
    requester,
    requesterKey,
    switches,
    accepted: () => nodes[0]!.stats().specsAccepted,
    async stop() {
      await Promise.all(hosts.map((host) => host.stop()))
      await chain.stop()
    },
  }
}
