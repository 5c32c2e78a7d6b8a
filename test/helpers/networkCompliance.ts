import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { stringToBytes } from 'viem'
import { contentId } from '../../src/core/contentId.ts'
import { MessageRejectedError } from '../../src/core/errors.ts'
import { topics } from '../../src/ports/network.ts'
import type { GossipMessage, Network } from '../../src/ports/network.ts'

/** Creates `count` connected peers of one transport, and tears them down. */
export interface NetworkFactory {
  create(count: number): Promise<{ peers: Network[]; close(): Promise<void> }>
}

function nextMessage(network: Network, topic: (typeof topics)[keyof typeof topics]): Promise<GossipMessage> {
  return new Promise((resolve) => network.subscribe(topic, (m) => (resolve(m), 'accept')))
}

/**
 * The behaviour every `Network` adapter must show, run against each one (memory, libp2p), like
 * js-libp2p's interface compliance suites.
 */
export function describeNetworkCompliance(name: string, factory: NetworkFactory): void {
  describe(`Network compliance: ${name}`, () => {
    it('delivers a published message to subscribers of its topic, not to the publisher or other topics', async () => {
      const { peers, close } = await factory.create(3)
      try {
        const [a, b, c] = peers as [Network, Network, Network]
        let publisherGotIt = false
        let wrongTopic = false
        a.subscribe(topics.specs, () => ((publisherGotIt = true), 'accept'))
        c.subscribe(topics.reveals, () => ((wrongTopic = true), 'accept'))
        const atB = nextMessage(b, topics.specs)
        const atC = nextMessage(c, topics.specs)
        await a.publish(topics.specs, stringToBytes('hello'))
        const [toB, toC] = await Promise.all([atB, atC])
        for (const [message, receiver, other] of [[toB, b, c], [toC, c, b]] as const) {
          assert.deepEqual(message.data, stringToBytes('hello'))
          // The publisher or a peer relaying for it, never the receiver itself.
          assert.ok([a.peerId, other.peerId].includes(message.from), `from ${message.from} is neither publisher nor relay`)
          assert.notEqual(message.from, receiver.peerId)
          assert.equal(message.topic, topics.specs)
        }
        assert.equal(publisherGotIt, false)
        assert.equal(wrongTopic, false)
        assert.equal(a.stats().messagesPublished, 1)
      } finally {
        await close()
      }
    })

    it('fetches a blob by content id from the peer that has it, and only bytes that match the id', async () => {
      const { peers, close } = await factory.create(3)
      try {
        const [a, b, c] = peers as [Network, Network, Network]
        const blob = stringToBytes('program bytes')
        const cid = contentId(blob)
        b.provideBlobs((id) => (id === cid ? stringToBytes('forged bytes') : undefined))
        c.provideBlobs((id) => (id === cid ? blob : undefined))
        assert.deepEqual(await a.fetchBlob(cid, { peers: [b.peerId], maxBytes: 1024 }), blob)
        await assert.rejects(
          a.fetchBlob(contentId(stringToBytes('nobody has this')), { maxBytes: 1024 }),
          (e: unknown) => e instanceof MessageRejectedError && e.code === 'BLOB_NOT_FOUND',
        )
        await assert.rejects(
          a.fetchBlob(cid, { peers: [c.peerId], maxBytes: 4 }),
          (e: unknown) => e instanceof MessageRejectedError && (e.code === 'BLOB_TOO_LARGE' || e.code === 'BLOB_NOT_FOUND'),
        )
      } finally {
        await close()
      }
    })
  })
}
