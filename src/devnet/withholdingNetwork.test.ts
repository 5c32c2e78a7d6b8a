import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { signChallenge } from '../core/challenge.ts'
import { devnetDomain } from '../core/eip712.ts'
import { decodeMessage, encodeMessage } from '../core/messages.ts'
import { isValidRevealBatchSignature, signRevealBatch } from '../core/reveal.ts'
import type { Hex, Reveal, SignedChallenge } from '../core/types.ts'
import { createMemoryHub } from '../net/memory/createMemoryHub.ts'
import { topics } from '../ports/network.ts'
import type { Network, Topic } from '../ports/network.ts'
import { testAccount, testVrfKey } from '../../test/helpers/fixtures.ts'
import { createWithholdingNetwork } from './withholdingNetwork.ts'

const node = testAccount('withholder')
const task = (label: string): Hex => keccak256(stringToBytes(label))
const reveal = (label: string): Reveal => ({ taskId: task(label), status: 'ok', resultHash: task(`${label}/result`), salt: task(`${label}/salt`) })

/** A withholder's transport on a memory hub, an honest peer listening, and what the peer received. */
function setup(withheld: readonly string[], onChallenge?: (challenge: SignedChallenge) => void) {
  const hub = createMemoryHub()
  const network = createWithholdingNetwork({
    network: hub.connect('withholder'),
    signer: node,
    domain: devnetDomain,
    withholds: (taskId) => withheld.some((label) => task(label) === taskId),
    ...(onChallenge === undefined ? {} : { onChallenge }),
  })
  const peer = hub.connect('peer')
  return { hub, network, peer, reveals: inbox(peer, topics.reveals) }
}

/** What a peer receives on a topic, in order; `next()` waits for the next message (the hub delivers on a later turn). */
function inbox(peer: Network, topic: Topic) {
  const received: Uint8Array[] = []
  const waiting: Array<(data: Uint8Array) => void> = []
  peer.subscribe(topic, (message) => {
    const resolve = waiting.shift()
    if (resolve === undefined) received.push(message.data)
    else resolve(message.data)
    return 'accept'
  })
  return {
    next: (): Promise<Uint8Array> => {
      const data = received.shift()
      return data === undefined ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve(data)
    },
  }
}

async function publishReveals(network: ReturnType<typeof setup>['network'], labels: readonly string[]): Promise<Uint8Array> {
  const data = encodeMessage({ type: 'reveals', ...(await signRevealBatch(node, labels.map(reveal), devnetDomain)) })
  await network.publish(topics.reveals, data)
  return data
}

describe('createWithholdingNetwork', () => {
  it('passes a batch without withheld reveals unchanged', async () => {
    const { network, reveals } = setup(['secret'])
    const data = await publishReveals(network, ['a', 'b'])
    assert.deepEqual(await reveals.next(), data)
  })

  it('drops withheld reveals from a batch and signs the rest again with the node key', async () => {
    const { network, reveals } = setup(['secret'])
    await publishReveals(network, ['a', 'secret', 'b'])
    const message = decodeMessage(await reveals.next(), 1 << 20)
    assert.equal(message.type, 'reveals')
    if (message.type !== 'reveals') return
    assert.deepEqual(
      message.message.reveals.map((r) => r.taskId),
      [task('a'), task('b')],
    )
    assert.equal(message.signer, node.address)
    assert.ok(await isValidRevealBatchSignature(message, devnetDomain), 'the smaller batch carries a valid signature of the node')
  })

  it('sends nothing when every reveal of a batch is withheld, and leaves other topics alone', async () => {
    const { network, peer, reveals } = setup(['secret'])
    const commits = inbox(peer, topics.commits)
    await publishReveals(network, ['secret'])
    await network.publish(topics.commits, new Uint8Array([1, 2, 3]))
    // The hub delivers in order: the first reveal batch the peer gets is the one sent after the withheld one.
    const after = await publishReveals(network, ['after'])
    assert.deepEqual(await reveals.next(), after, 'the withheld batch never went out')
    assert.deepEqual(await commits.next(), new Uint8Array([1, 2, 3]))
  })

  it('shows the strategy every challenge it receives or sends, before the node handles it', async () => {
    const seen: Hex[] = []
    const { hub, network } = setup([], (challenge) => seen.push(challenge.message.taskId))
    const nodeSaw = new Promise<number>((resolve) =>
      network.subscribe(topics.challenges, () => {
        resolve(seen.length)
        return 'accept'
      }),
    )
    const verifier = testAccount('verifier')
    const challenge = async (label: string) =>
      encodeMessage({ type: 'challenge', ...(await signChallenge(verifier, testVrfKey('verifier'), { taskId: task(label), commitment: task(`${label}/c`) }, devnetDomain)) })
    await hub.connect('verifier').publish(topics.challenges, await challenge('in'))
    assert.equal(await nodeSaw, 1, 'the strategy saw the incoming challenge before the node did')
    await network.publish(topics.challenges, await challenge('out'))
    assert.deepEqual(seen, [task('in'), task('out')])
  })
})
