import { hashBatchOfItems, hashCommitItem, hashRevealItem } from './eip712.ts'
import type { SignatureVerifier } from './signing.ts'
import type { Address, Attested, Commit, CommitBatch, Hex, ProtocolDomain, Reveal, RevealBatch, Signed } from './types.ts'

/**
 * The signature of one batch of commits or reveals, kept with the hash of every item it covers.
 * An executor signs many tasks' commits at once; a certificate needs one task's commit only, so it
 * carries that item and the batch's seal, and any one item checks on its own: its hash is in
 * `itemHashes`, and `itemHashes` with the domain give the digest the signature covers. A seal is
 * shared by every item of its batch (one object; one entry in an epoch proposal).
 */
export interface BatchSeal {
  kind: 'commits' | 'reveals'
  signer: Address
  signature: Hex
  /** `hashCommitItem` / `hashRevealItem` of each item, in batch order. */
  itemHashes: readonly Hex[]
}

/** One item of a signed batch, with the batch's seal and its place in it. */
export interface Sealed<T> extends Attested<T> {
  seal: BatchSeal
  index: number
}

/** The item hashes of a batch: each item's own EIP-712 struct hash. */
export function itemHashesOf(kind: 'commits', items: readonly Commit[]): Hex[]
export function itemHashesOf(kind: 'reveals', items: readonly Reveal[]): Hex[]
export function itemHashesOf(kind: BatchSeal['kind'], items: readonly (Commit | Reveal)[]): Hex[] {
  return kind === 'commits' ? (items as Commit[]).map(hashCommitItem) : (items as Reveal[]).map(hashRevealItem)
}

/** Splits a signed batch (its signature checked, or about to be) into sealed items sharing one seal. */
export function sealCommits(signed: Signed<CommitBatch>, itemHashes: readonly Hex[] = itemHashesOf('commits', signed.message.commits)): Sealed<Commit>[] {
  const seal: BatchSeal = { kind: 'commits', signer: signed.signer, signature: signed.signature, itemHashes }
  return signed.message.commits.map((message, index) => ({ message, signer: signed.signer, seal, index }))
}

export function sealReveals(signed: Signed<RevealBatch>, itemHashes: readonly Hex[] = itemHashesOf('reveals', signed.message.reveals)): Sealed<Reveal>[] {
  const seal: BatchSeal = { kind: 'reveals', signer: signed.signer, signature: signed.signature, itemHashes }
  return signed.message.reveals.map((message, index) => ({ message, signer: signed.signer, seal, index }))
}

/** The digest a seal's signature covers: that of the whole batch. */
export function sealDigest(seal: BatchSeal, domain: ProtocolDomain): Hex {
  return hashBatchOfItems(seal.kind, seal.itemHashes, domain)
}

/**
 * Checks a sealed item: it is the item at its place in the seal, and the seal's signature is its
 * signer's. `verified` remembers seals already checked (a batch's items share one), so a proposal
 * costs one signature check per batch, not per item.
 */
export async function isValidSealedItem(
  sealed: Sealed<Commit> | Sealed<Reveal>,
  kind: BatchSeal['kind'],
  domain: ProtocolDomain,
  verify: SignatureVerifier,
  verified: Map<BatchSeal, boolean> = new Map(),
): Promise<boolean> {
  const { seal, index, signer } = sealed
  if (seal.kind !== kind || seal.signer !== signer || !Number.isInteger(index) || index < 0 || index >= seal.itemHashes.length) return false
  const hash = kind === 'commits' ? hashCommitItem(sealed.message as Commit) : hashRevealItem(sealed.message as Reveal)
  if (seal.itemHashes[index] !== hash) return false
  let valid = verified.get(seal)
  if (valid === undefined) {
    valid = await verify(sealDigest(seal, domain), seal.signature, seal.signer)
    verified.set(seal, valid)
  }
  return valid
}
