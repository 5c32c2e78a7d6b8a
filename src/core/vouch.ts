import { bytesToHex, concat, hexToBytes, keccak256 } from 'viem'
import type { Address, Hex } from './types.ts'

/**
 * Vouches (`BatchVouch`): how a member that never saw a backup-seated task's spec comes to sign a
 * proposal that settles it. Only members that saw the spec could hold a better-ranked commit an
 * aggregator left out, so such a member signs once members holding more than a third of the
 * committee weight vouch for the task. With an adversary below a third, one of them is honest: it saw
 * the spec and found nothing left out. A coalition settling a task nobody honest saw (its requester
 * withholding the spec, its backups committing) never gathers that weight alone.
 */

/** The hash a vouch names its backup-seated task list by: every member that found the same list agrees on it. */
export function seatedRoot(seated: readonly Hex[]): Hex {
  return keccak256(seated.length === 0 ? '0x' : concat([...seated]))
}

/** A vouch's bitmap over the proposal's backup-seated tasks (`backupSeated`): bit i (of byte i >> 3, least significant first) set when `tasks[i]` is vouched for. */
export function encodeVouchedTasks(tasks: readonly Hex[], vouched: ReadonlySet<Hex>): Hex {
  const bytes = new Uint8Array(Math.max(1, Math.ceil(tasks.length / 8)))
  tasks.forEach((taskId, i) => {
    if (vouched.has(taskId)) bytes[i >> 3]! |= 1 << (i & 7)
  })
  return bytesToHex(bytes)
}

/** The tasks a vouch's bitmap names among `tasks`; none if its length is not the one `tasks` needs. */
export function decodeVouchedTasks(tasks: readonly Hex[], bitmap: Hex): Hex[] {
  const bytes = hexToBytes(bitmap)
  if (bytes.length !== Math.max(1, Math.ceil(tasks.length / 8))) return []
  return tasks.filter((_, i) => (bytes[i >> 3]! & (1 << (i & 7))) !== 0)
}

export interface VouchedForParameters {
  /** The proposal's backup-seated tasks, in proposal order: what the bitmaps index. */
  seated: readonly Hex[]
  /** The tasks this member never saw, which need vouches. */
  unknown: readonly Hex[]
  /** Each member's vouch for the proposal: the seated list it found (`seatedRoot`) and its bitmap over it. */
  vouches: ReadonlyMap<Address, { seated: Hex; tasks: Hex }>
  /** The committee's weight by member; a vouch from anyone else counts nothing. */
  weights: ReadonlyMap<Address, bigint>
}

/**
 * Whether every unknown task is vouched for by members holding more than a third of the committee's
 * weight, counting only vouches over the same backup-seated list.
 */
export function isVouchedFor({ seated, unknown, vouches, weights }: VouchedForParameters): boolean {
  let total = 0n
  for (const weight of weights.values()) total += weight
  const root = seatedRoot(seated)
  const vouched = new Map<Hex, bigint>()
  for (const [member, vouch] of vouches) {
    if (vouch.seated !== root) continue
    const weight = weights.get(member) ?? 0n
    for (const taskId of decodeVouchedTasks(seated, vouch.tasks)) vouched.set(taskId, (vouched.get(taskId) ?? 0n) + weight)
  }
  return unknown.every((taskId) => (vouched.get(taskId) ?? 0n) * 3n > total)
}
