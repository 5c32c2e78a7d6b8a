import { decodeMessage, encodeMessage } from '../core/messages.ts'
import { signRevealBatch } from '../core/reveal.ts'
import type { Signer } from '../core/signing.ts'
import type { Hex, ProtocolDomain, SignedChallenge } from '../core/types.ts'
import { topics } from '../ports/network.ts'
import type { Network } from '../ports/network.ts'

export interface CreateWithholdingNetworkParameters {
  /** The node's own transport. */
  network: Network
  /** The node's account: a reveal batch that loses some of its reveals is signed again with it. */
  signer: Signer
  domain: ProtocolDomain
  /** Whether the node keeps its own reveal for `taskId` to itself: asked for each of its reveals as it goes out. */
  withholds(taskId: Hex): boolean
  /** Every challenge that reaches or leaves the node, before the node sees it: what a strategy reads the audit draws from. */
  onChallenge?(challenge: SignedChallenge): void
}

/** Decodes a message this node handles anyway; a message that does not decode is none of the strategy's business. */
function decoded(data: Uint8Array) {
  try {
    return decodeMessage(data, Number.MAX_SAFE_INTEGER)
  } catch {
    return undefined
  }
}

/**
 * A node's transport in the hands of a withholder: the node runs the honest code, and this wrapper
 * drops the node's own reveals of the tasks `withholds` names on their way out (a batch that keeps
 * some is signed again, as the node would have signed it without them). Everything else passes
 * unchanged (the transport is a plain object, as the memory hub's are). What a committed executor that goes silent on purpose looks like to the network.
 */
export function createWithholdingNetwork({ network, signer, domain, withholds, onChallenge }: CreateWithholdingNetworkParameters): Network {
  const observe = (data: Uint8Array) => {
    const message = decoded(data)
    if (message?.type === 'challenge') onChallenge?.(message)
  }
  return {
    ...network,
    async publish(topic, data) {
      if (topic === topics.challenges) observe(data)
      if (topic !== topics.reveals) return network.publish(topic, data)
      const message = decoded(data)
      if (message?.type !== 'reveals') return network.publish(topic, data)
      const kept = message.message.reveals.filter((reveal) => !withholds(reveal.taskId))
      if (kept.length === message.message.reveals.length) return network.publish(topic, data)
      if (kept.length === 0) return
      return network.publish(topic, encodeMessage({ type: 'reveals', ...(await signRevealBatch(signer, kept, domain)) }))
    },
    subscribe(topic, handler) {
      if (topic !== topics.challenges) return network.subscribe(topic, handler)
      network.subscribe(topic, (message) => {
        observe(message.data)
        return handler(message)
      })
    },
  }
}
