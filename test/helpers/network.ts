import { keccak256, stringToBytes } from 'viem'
import { createStaticChainView } from '../../src/chain/memory/createStaticChainView.ts'
import { contentId } from '../../src/core/contentId.ts'
import { devnetDomain, hashTaskSpec } from '../../src/core/eip712.ts'
import { anchorAlone } from '../../src/core/taskAnchor.ts'
import { signTaskSpec } from '../../src/core/taskSpec.ts'
import type { Hex, TaskSpec, Verdict } from '../../src/core/types.ts'
import { startNodeHost } from '../../src/host/startNodeHost.ts'
import { createMemoryHub } from '../../src/net/memory/createMemoryHub.ts'
import type { Clock } from '../../src/node/clock.ts'
import type { VeritaskNode } from '../../src/node/createNode.ts'
import type { HeldLimits } from '../../src/node/gossipIntake.ts'
import type { Network } from '../../src/ports/network.ts'
import type { Runtime } from '../../src/ports/runtime.ts'
import { requester, testAccount, testVrfKey } from './fixtures.ts'

// A small network of nodes on the memory transport, for node-level and end-to-end tests.

export interface NetOptions {
  count?: number
  runtimes: (i: number) => Runtime
  escrow?: bigint
  clock?: Clock
  /** Node i's own clock, where it differs from the others' (`clock`). */
  clockOf?: (i: number) => Clock | undefined
  /** Node i's transport, wrapped as a test needs it. */
  wrap?: (i: number, network: Network) => Network
  heldLimits?: HeldLimits
}

export type TestNetwork = Awaited<ReturnType<typeof createNetwork>>

/** Starts `count` nodes through the node host (no settlement: there is no chain here). */
export async function createNetwork({ count = 5, runtimes, escrow = 10n ** 18n, clock, clockOf, wrap, heldLimits }: NetOptions) {
  const accounts = Array.from({ length: count }, (_, i) => testAccount(`node-${i}`))
  const chain = createStaticChainView({
    seed: keccak256(stringToBytes('epoch')),
    nodes: accounts.map((a) => ({ address: a.address, weight: 100n, runtimes: ['wasm'] })),
    escrow: new Map([[requester.address, escrow]]),
  })
  const hub = createMemoryHub()
  const hosts = await Promise.all(
    accounts.map((account, i) => {
      const network = hub.connect(`peer-${i}`)
      const own = clockOf?.(i) ?? clock
      return startNodeHost({
        account,
        // Its verifier's challenge decides a task's audit: a node without a VRF key stays silent.
        vrf: testVrfKey(`node-${i}`),
        network: wrap?.(i, network) ?? network,
        chain,
        domain: devnetDomain,
        runtimes: { wasm: runtimes(i) },
        ...(own ? { clock: own } : {}),
        ...(heldLimits ? { heldLimits } : {}),
      })
    }),
  )
  const nodes: VeritaskNode[] = hosts.map((host) => host.node)
  return { hub, nodes, accounts, chain, stop: () => Promise.all(hosts.map((host) => host.stop())) }
}

export const program = stringToBytes('program bytes')

export interface SpecOptions {
  program?: Uint8Array
  input?: Uint8Array
  now?: number
}

/** A signed spec for task `i`, with its blobs; `overrides` replace spec fields. */
export async function signedSpec(i: number, overrides: Partial<TaskSpec> = {}, options: SpecOptions = {}) {
  const input = options.input ?? stringToBytes(`input ${i}`)
  const programBytes = options.program ?? program
  const now = options.now ?? Date.now()
  const spec: TaskSpec = {
    requester: requester.address,
    nonce: BigInt(i),
    runtime: 'wasm',
    program: contentId(programBytes),
    input: contentId(input),
    limits: { fuel: 1_000n, memoryPages: 1, outputBytes: 64 },
    policy: { kind: 'replicate', k: 3, quorum: 2 },
    fee: 1_000n,
    epoch: 0n,
    // The static view's blocks are known at once: block 1 is as good as any.
    drawBlock: 1n,
    deadline: BigInt(now + 60_000),
    ...overrides,
  }
  // The static view's anchors are instant too: the spec's id anchored alone.
  const signed = anchorAlone(await signTaskSpec(requester, spec, devnetDomain), hashTaskSpec(spec, devnetDomain))
  return { signed, input, blobs: [programBytes, input] }
}

/** Submits through node `gateway` and resolves with every node's verdict once all decided. */
export async function submitAndDecide(
  net: TestNetwork,
  gateway: number,
  { signed, blobs }: { signed: Awaited<ReturnType<typeof signedSpec>>['signed']; blobs: Uint8Array[] },
): Promise<{ taskId: Hex; verdicts: Verdict[] }> {
  let taskId: Hex | undefined
  const verdicts = verdictsOf(net.nodes, () => taskId)
  taskId = await net.nodes[gateway]!.submitTask(signed, blobs)
  return { taskId, verdicts: await verdicts }
}

/** Resolves with each node's verdict for `taskId` once all of `nodes` have decided it. */
export function verdictsOf(nodes: VeritaskNode[], taskId: () => Hex | undefined): Promise<Verdict[]> {
  return Promise.all(
    nodes.map(
      (node) =>
        new Promise<Verdict>((resolve) => {
          const off = node.onVerdict((v) => {
            if (v.taskId === taskId()) {
              off()
              resolve(v)
            }
          })
        }),
    ),
  )
}

/** Waits, turn by turn of the event loop, until `condition` holds: progress is driven by events, not time. */
export async function waitUntil(condition: () => boolean, maxTurns = 100_000): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn++) {
    if (condition()) return
    await new Promise((resolve) => setImmediate(resolve))
  }
  throw new Error('condition not reached')
}
