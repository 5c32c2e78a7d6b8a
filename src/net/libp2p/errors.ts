import { VeritaskError } from '../../core/errors.ts'

/**
 * Why a peer is not trusted: it sent no peer binding (or none in time), one that does not verify
 * for its peer id, or one for an account without stake.
 */
export type PeerRejectionCode = 'PEER_BINDING_MISSING' | 'PEER_BINDING_INVALID' | 'PEER_NOT_STAKED'

/** A peer failed the identity check: its gossip is rejected and the connection is closed. */
export class PeerRejectedError extends VeritaskError<PeerRejectionCode> {
  override name = 'PeerRejectedError'
}
