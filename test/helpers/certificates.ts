import { keccak256, numberToHex, stringToBytes } from 'viem'
import type { TaskCertificate } from '../../src/core/certificate.ts'
import { computeCommitment, signCommitBatch } from '../../src/core/commit.ts'
import { devnetDomain, hashTaskSpec } from '../../src/core/eip712.ts'
import { signRevealBatch } from '../../src/core/reveal.ts'
import { sealCommits, sealReveals } from '../../src/core/seal.ts'
import type { Sealed } from '../../src/core/seal.ts'
import type { Signer } from '../../src/core/signing.ts'
import { anchorAlone } from '../../src/core/taskAnchor.ts'
import type { AnchorRecord } from '../../src/core/taskAnchor.ts'
import { signTaskSpec } from '../../src/core/taskSpec.ts'
import type { Address, Commit, Hex, Reveal, TaskSpec } from '../../src/core/types.ts'
import { makeSpec, requester } from './fixtures.ts'

/** What one executor does in a test certificate: reveal a result, or commit to it and withhold. */
export interface Play {
  executor: Signer
  resultHash: Hex
  withhold?: boolean
}

export const goodResult = keccak256(stringToBytes('good result'))
export const badResult = keccak256(stringToBytes('bad result'))

/** A sealed commit and the sealed reveal that opens it, each in a batch of its own. */
export async function sealedPlay(taskId: Hex, { executor, resultHash }: Play, salt: Hex): Promise<{ commit: Sealed<Commit>; reveal: Sealed<Reveal> }> {
  const commitment = computeCommitment({ taskId, status: 'ok', resultHash, salt, executor: executor.address })
  const [commit] = sealCommits(await signCommitBatch(executor, [{ taskId, commitment }], devnetDomain))
  const [reveal] = sealReveals(await signRevealBatch(executor, [{ taskId, status: 'ok', resultHash, salt }], devnetDomain))
  return { commit: commit!, reveal: reveal! }
}

/**
 * A real certificate: a spec signed by the fixtures' requester, and each play's commit and reveal
 * signed by its executor (a withholder's reveal is left out).
 */
export async function certify(
  plays: readonly Play[],
  spec: Partial<TaskSpec> = {},
  arbitration?: readonly Play[],
): Promise<{ certificate: TaskCertificate; taskId: Hex }> {
  const unanchored = await signTaskSpec(requester, makeSpec(spec), devnetDomain)
  const taskId = hashTaskSpec(unanchored.message, devnetDomain)
  const signed = anchorAlone(unanchored, taskId)
  const stage = async (stagePlays: readonly Play[], offset: number) => {
    const sealed = await Promise.all(stagePlays.map((play, i) => sealedPlay(taskId, play, numberToHex(offset + i + 1, { size: 32 }))))
    return { commits: sealed.map((s) => s.commit), reveals: sealed.filter((_, i) => stagePlays[i]!.withhold !== true).map((s) => s.reveal) }
  }
  return {
    taskId,
    certificate: {
      spec: signed,
      ...(await stage(plays, 0)),
      ...(arbitration === undefined ? {} : { arbitration: await stage(arbitration, plays.length) }),
    },
  }
}

/**
 * Anchors as `createInstantAnchors` serves them: every root anchored in block 0 with one leaf, so
 * specs anchored alone (`anchorAlone`, as `certify` signs them) pass.
 */
export const instantAnchorOf = (): AnchorRecord => ({ block: 0n, count: 1 })

/** A ranking function that ranks these nodes, in this order, for every task. */
export const rankedAs = (nodes: readonly Address[]) => () => nodes

/** A dispute's arbitration seats over a fixed ranking: one for every ranked node, so that every voter holds one vote. */
export const arbitratedAs = (nodes: readonly Address[]) => (): Address[] => [...nodes]

/**
 * One dispute among five nodes as two holders saw it. `primary`: `nodes[0..2]` hold the seats and
 * `nodes[3..4]` arbitrate, each revealing its result. `backupSeated`: the same commits and reveals
 * where the third seat's commit came late and the first arbiter, its backup, took the seat; the
 * late primary's one commit is then not counted, or (`lateAsArbiter`) counted as an arbiter's.
 */
export async function certifyDisputeOfFive(nodes: readonly Signer[], results: readonly Hex[]) {
  const plays = nodes.map((executor, i) => ({ executor, resultHash: results[i]! }))
  const { certificate: primary, taskId } = await certify(plays.slice(0, 3), {}, plays.slice(3))
  const [ca, cb, cc] = primary.commits
  const [ra, rb, rc] = primary.reveals
  const [cd, ce] = primary.arbitration!.commits
  const [rd, re] = primary.arbitration!.reveals
  const backupSeated = (lateAsArbiter = false): TaskCertificate => ({
    spec: primary.spec,
    commits: [ca!, cb!, cd!],
    reveals: [ra!, rb!, rd!],
    arbitration: lateAsArbiter ? { commits: [cc!, ce!], reveals: [rc!, re!] } : { commits: [ce!], reveals: [re!] },
  })
  return { taskId, primary, backupSeated }
}

/**
 * The forgery two attacks share: `certificate`'s last seat moved, commit and reveal, into an
 * arbitration nobody held, and `lie` (a backup's commit and reveal of another result) seated in
 * its place. It checks, and its arbitration rules nothing.
 */
export function withSeatHiddenInArbitration(certificate: TaskCertificate, lie: { commit: Sealed<Commit>; reveal: Sealed<Reveal> }): TaskCertificate {
  const last = certificate.commits.length - 1
  return {
    spec: certificate.spec,
    commits: [...certificate.commits.slice(0, last), lie.commit],
    reveals: [...certificate.reveals.slice(0, last), lie.reveal],
    arbitration: { commits: [certificate.commits[last]!], reveals: [certificate.reveals[last]!] },
  }
}
