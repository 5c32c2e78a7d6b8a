import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { keccak256, stringToBytes, toBytes } from 'viem'
import { createStaticChainView } from '../src/chain/memory/createStaticChainView.ts'
import { devnetDomain } from '../src/core/eip712.ts'
import { decodeMessage } from '../src/core/messages.ts'
import { defaultParams } from '../src/core/params.ts'
import type { CommitBatch, Signed } from '../src/core/types.ts'
import { startNodeHost } from '../src/host/startNodeHost.ts'
import { createMemoryHub } from '../src/net/memory/createMemoryHub.ts'
import { topics } from '../src/ports/network.ts'
import type { Runtime } from '../src/ports/runtime.ts'
import { createDiskBlobStore } from '../src/store/disk/createDiskBlobStore.ts'
import { createSqliteNodeStore } from '../src/store/sqlite/createSqliteNodeStore.ts'
import { requester, testAccount } from './helpers/fixtures.ts'
import { signedSpec, waitUntil } from './helpers/network.ts'

// A node that restarts resumes its open tasks from SQLite and re-sends the commit it signed before,
// byte for byte, instead of executing again and signing something new.

const dir = await mkdtemp(join(tmpdir(), 'veritask-restart-'))
after(() => rm(dir, { recursive: true, force: true }))

let executions = 0
const counting: Runtime = {
  name: 'wasm',
  execute: async ({ input }) => {
    executions++
    // A fresh salt on every run would make a second commit differ: only the stored one may be sent.
    return { status: 'ok', output: toBytes(keccak256(input)), fuelUsed: 1n }
  },
  close: async () => {},
}
const stuck: Runtime = { ...counting, execute: () => new Promise<never>(() => {}) }

describe('restart', () => {
  it('resumes an open task and re-sends the same signed commit, without executing again', async () => {
    const a = testAccount('restart-a')
    const b = testAccount('restart-b')
    const chain = createStaticChainView({
      seed: keccak256(stringToBytes('restart')),
      nodes: [a, b].map((x) => ({ address: x.address, weight: 100n, runtimes: ['wasm'] })),
      escrow: new Map([[requester.address, 10n ** 18n]]),
    })
    const hub = createMemoryHub()
    const commits: Array<Signed<CommitBatch>> = []
    hub.connect('observer').subscribe(topics.commits, ({ data }) => {
      const message = decodeMessage(data, defaultParams.maxMessageBytes)
      if (message.type === 'commits') commits.push(message)
      return 'accept'
    })
    const stores = () => ({
      store: createSqliteNodeStore({ path: join(dir, 'node.sqlite') }),
      blobs: createDiskBlobStore({ dir: join(dir, 'blobs') }),
    })
    const shared = { chain, domain: devnetDomain }
    // B never finishes, so the task stays in its commit phase across A's restart.
    const hostB = await startNodeHost({ ...shared, account: b, network: hub.connect('b'), runtimes: { wasm: stuck } })

    const first = stores()
    const hostA = await startNodeHost({ ...shared, account: a, network: hub.connect('a'), runtimes: { wasm: counting }, ...first })
    const nodeA = hostA.node
    const { signed, blobs } = await signedSpec(1, { policy: { kind: 'replicate', k: 2, quorum: 2 } })
    const taskId = await nodeA.submitTask(signed, blobs)
    await waitUntil(() => commits.length === 1)
    assert.equal(executions, 1)
    assert.equal(commits[0]!.signer, a.address)
    // The process dies: the node stops without a goodbye, the store is closed.
    await hostA.stop()
    first.store.close()

    const second = stores()
    const hostRestarted = await startNodeHost({ ...shared, account: a, network: hub.connect('a'), runtimes: { wasm: counting }, ...second })
    const restarted = hostRestarted.node
    assert.equal(hostRestarted.resumed, 1, 'the host resumed the open task from the store as it started')
    assert.equal(restarted.getTask(taskId)?.phase, 'commit')
    await waitUntil(() => commits.length === 2)
    assert.deepEqual(commits[1], commits[0], 'the same commitment, signed alike (a batch of one, deterministic ECDSA)')
    assert.equal(executions, 1, 'the task was not executed a second time')
    assert.deepEqual(commits[0]!.message.commits, [{ taskId, commitment: second.store.getOwnCommit(taskId)?.commitment }])

    await hostRestarted.stop()
    await hostB.stop()
    second.store.close()
  })
})
