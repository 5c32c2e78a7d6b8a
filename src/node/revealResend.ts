import type { Hex } from '../core/types.ts'

/** Reveals remembered at most: a node's own, most recent first out. */
const MAX_REMEMBERED = 4_096

export interface RevealResendParameters {
  now(): number
  /** A gap between two messages heard at least this long counts as time cut off from the network. */
  silenceMs: number
}

/**
 * Which of this node's own reveals to send again because it heard nothing while they went out.
 *
 * A node cut off from the network after its commit went out sends its reveal into the void, and
 * gossip does not resend. Back before the epoch's batch, it holds its reveal, but nobody else does,
 * and one member's objection does not hold a batch back: its peers' certificates count it a
 * withholder and it is slashed though it revealed (`src/sim/runSim.test.ts`, churn). Nothing tells a
 * node it was cut off except silence, so: after a silence of at least `silenceMs` during which it
 * sent reveals, every reveal it sent during the silence or in the `silenceMs` before it (lost in
 * flight) is sent again with the first message after it. A silence without sends is an event loop
 * that stalled, or a quiet network, and is answered with nothing. Peers take a repeated reveal as
 * a late one (`withLateReveal`) or ignore it as a duplicate. On a quiet network a silence is
 * normal and the repeat costs one message per reveal sent during it.
 *
 * What it does not cover: a peer's commit sent during the silence is lost to the node too, and it
 * then waits in its commit phase while its peers reveal; its own reveal comes after their batch.
 * Opening its commit on return would fix that, but a silence may be a quiet network with slow
 * tasks rather than a cut, and an early reveal would let seats that have not committed copy it.
 */
export interface RevealResend {
  /** Own reveals just sent. */
  sent(taskIds: readonly Hex[]): void
  /** A message arrived: the tasks whose own reveal went out during a silence it ends, or just before, to send again (each once). */
  heard(): Hex[]
}

export function createRevealResend({ now, silenceMs }: RevealResendParameters): RevealResend {
  let lastHeardAt = now()
  /** Own reveals sent lately, oldest first: those of the last `silenceMs` before the last message heard, and since. */
  let recent: Array<{ taskId: Hex; at: number }> = []
  return {
    sent(taskIds) {
      const at = now()
      for (const taskId of taskIds) recent.push({ taskId, at })
      if (recent.length > MAX_REMEMBERED) recent = recent.slice(-MAX_REMEMBERED)
    },
    heard() {
      const at = now()
      // Cut off, not stalled: this node went on sending while it heard nothing. A busy event loop
      // hears nothing for a while too, but sends nothing either, and must not answer its own
      // stall with more messages.
      const cutOff = at - lastHeardAt >= silenceMs && recent.some((r) => r.at > lastHeardAt)
      // A reveal sent just before the silence began may have been lost in flight, after the last
      // message this node heard: those of the `silenceMs` before it go again too.
      const again = cutOff ? [...new Set(recent.filter((r) => r.at >= lastHeardAt - silenceMs).map((r) => r.taskId))] : []
      lastHeardAt = at
      recent = recent.filter((r) => r.at >= at - silenceMs)
      return again
    },
  }
}
