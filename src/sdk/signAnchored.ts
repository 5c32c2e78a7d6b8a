import { hashTaskSpec } from '../core/eip712.ts'
import type { Hex, ProtocolDomain, Signed, SignedSpec, TaskSpec } from '../core/types.ts'
import type { DrawLead } from './drawLead.ts'
import type { TaskAnchorer } from './taskAnchorer.ts'

/** How often a spec whose anchor landed in its draw block or later is signed (and anchored) again. */
export const LATE_ANCHOR_RETRIES = 3

export interface SignAnchoredParameters {
  /**
   * Signs the spec to anchor, naming a draw block at least `lead` blocks past the chain's head
   * (`anchoredDrawBlock`). Called again, for a later draw block, after each late anchor.
   */
  sign(lead: bigint): Promise<Signed<TaskSpec>>
  anchorer: Pick<TaskAnchorer, 'anchor'>
  /** The requester's lead (`createDrawLead`): each anchor teaches it how late anchors land. */
  lead: DrawLead
  domain: ProtocolDomain
}

export interface SignedAnchored {
  /** The spec with its anchor proof. */
  signed: SignedSpec
  taskId: Hex
  /** The block its anchor landed in. */
  block: bigint
  /** The anchor landed before the draw block. False only once `LATE_ANCHOR_RETRIES` more tries landed late too. */
  inTime: boolean
}

/**
 * The requester's side of the anchor rule (core/taskAnchor.ts): signs a spec, anchors its id and,
 * while the anchor lands in the spec's draw block or later (nodes refuse such a spec), signs again
 * for a later draw block and anchors that, up to `LATE_ANCHOR_RETRIES` times. Every anchored id is
 * paid for, used or not. The SDK's `submitTask`, the devnet's HTTP requesters (`submitOverHttp`)
 * and the in-process devnet all sign through it; what a late spec then means is theirs to say.
 */
export async function signAnchored({ sign, anchorer, lead, domain }: SignAnchoredParameters): Promise<SignedAnchored> {
  for (let late = 0; ; late++) {
    const spec = await sign(lead.blocks())
    const taskId = hashTaskSpec(spec.message, domain)
    const { signed, block } = await anchorer.anchor(spec, taskId)
    lead.observe(spec.message.drawBlock, block)
    const inTime = block < spec.message.drawBlock
    if (inTime || late >= LATE_ANCHOR_RETRIES) return { signed, taskId, block, inTime }
  }
}
