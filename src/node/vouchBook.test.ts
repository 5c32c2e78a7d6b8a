import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { devnetDomain } from '../core/eip712.ts'
import type { ProtocolMessage } from '../core/messages.ts'
import type { Hex } from '../core/types.ts'
import { encodeVouchedTasks, seatedRoot } from '../core/vouch.ts'
import { createVouchBook } from './vouchBook.ts'
import type { HeldBack } from './vouchBook.ts'

const members = Array.from({ length: 6 }, (_, i) => testAccount(`vouch-book-${i}`))
const weights = new Map(members.map((m) => [m.address, 100n]))
const hash = (label: string) => keccak256(stringToBytes(label))
const seated = [hash('task 0'), hash('task 1')]
const digest = hash('a proposal')
const signature = `0x${'00'.repeat(65)}` as Hex
const vouchOf = (i: number, tasks: readonly Hex[], of: Hex = digest) => ({
  message: { epoch: 0n, round: 0, digest: of, seated: seatedRoot(seated), tasks: encodeVouchedTasks(seated, new Set(tasks)) },
  signer: members[i]!.address,
  signature,
})

function book(known: readonly Hex[] = []) {
  const published: ProtocolMessage[] = []
  const vouchBook = createVouchBook({
    account: members[0]!,
    // Only the tasks it decided itself: a member that saw a spec but not its commits vouches for nothing.
    node: { decidedTasks: () => known.map((taskId) => ({ verdict: { taskId } }) as never) },
    domain: devnetDomain,
    publish: async (message) => void published.push(message),
    weightsOf: async () => weights,
  })
  return { vouchBook, published }
}

const heldBack = (unknown: Hex[]): HeldBack => ({ epoch: 0n, round: 0, digest, cid: hash('blob'), proposal: { epoch: 0n, previous: new Map(), tasks: [] }, tasks: [], seated, unknown })

describe('vouch book', () => {
  it('gives back a held-back proposal once, when more than a third of the weight vouches for each task it never saw', async () => {
    const { vouchBook } = book()
    assert.equal(await vouchBook.holdBack(heldBack([seated[1]!])), undefined)
    // Two of six (exactly a third) vouch; a vouch for another proposal or another task does not count.
    assert.equal(await vouchBook.take(vouchOf(1, [seated[1]!])), undefined)
    assert.equal(await vouchBook.take(vouchOf(2, [seated[1]!])), undefined)
    assert.equal(await vouchBook.take(vouchOf(3, [seated[1]!], hash('another proposal'))), undefined)
    assert.equal(await vouchBook.take(vouchOf(4, [seated[0]!])), undefined)
    const completed = await vouchBook.take(vouchOf(5, seated))
    assert.equal(completed?.digest, digest, 'three of six')
    assert.equal(await vouchBook.take(vouchOf(3, seated)), undefined, 'and only once')
  })

  it('vouches for the seated tasks this member decided itself and raised nothing against, and counts its own vouch', async () => {
    const { vouchBook, published } = book([seated[0]!, seated[1]!])
    await vouchBook.vouch({ epoch: 0n, round: 0, digest, seated, objections: [{ taskId: seated[1]!, reason: 'omits-reveal' }] })
    assert.equal(published.length, 1)
    const message = published[0]!
    assert.ok(message.type === 'vouch' && message.signer === members[0]!.address)
    assert.equal(message.message.tasks, encodeVouchedTasks(seated, new Set([seated[0]!])))
    // A member that decided none of them has nothing to vouch for: no message.
    const unaware = book()
    await unaware.vouchBook.vouch({ epoch: 0n, round: 0, digest, seated, objections: [] })
    assert.equal(unaware.published.length, 0)
  })
})
