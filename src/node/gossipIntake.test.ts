import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes, zeroHash } from 'viem'
import type { ProtocolMessage } from '../core/messages.ts'
import type { Address, Hex } from '../core/types.ts'
import { topics } from '../ports/network.ts'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { createGossipIntake, validationResultOf } from './gossipIntake.ts'
import type { GossipOutcome, HeldLimits, TaskMessage } from './gossipIntake.ts'
import { silentLogger } from './logger.ts'

const staked = [testAccount('held-0').address, testAccount('held-1').address, testAccount('held-2').address]
const stranger = testAccount('held-stranger').address
const task = (label: string): Hex => keccak256(stringToBytes(label))

/**
 * An intake with no open tasks, over a reader that hands back the message it is given: every
 * commit is for a task whose spec has not arrived, so it is held or refused.
 */
function intakeWith(limits: HeldLimits, open: ReadonlySet<Hex> = new Set()) {
  let now = 0
  let verified = 0
  const rejected: Record<string, number> = {}
  const intake = createGossipIntake({
    read: (bytes) => {
      const message = JSON.parse(new TextDecoder().decode(bytes)) as ProtocolMessage
      const items = message.type === 'commits' ? message.message.commits : message.type === 'reveals' ? message.message.reveals : []
      return { message, digest: zeroHash, itemHashes: items.map(() => zeroHash) }
    },
    verify: async () => (verified++, true),
    log: silentLogger,
    countRejection: (code) => void (rejected[code] = (rejected[code] ?? 0) + 1),
    acceptSpec: async () => undefined,
    deliver: (message) => (open.has(message.item.message.taskId) ? { kind: 'accept' } : undefined),
    isDecided: () => false,
    isOpen: (taskId) => open.has(taskId),
    mayHoldSeat: (signer) => staked.includes(signer),
    now: () => now,
    heldLimits: limits,
  })
  const commits = (signer: Address, taskIds: readonly Hex[], from = 'peer'): Promise<GossipOutcome> => {
    const message = { type: 'commits', signer, signature: '0x', message: { commits: taskIds.map((taskId) => ({ taskId, commitment: taskId })) } }
    return intake.judge({ topic: topics.commits, data: stringToBytes(JSON.stringify(message)), from })
  }
  return { intake, rejected, commits, advance: (ms: number) => void (now += ms), verified: () => verified }
}

const limits: HeldLimits = { ttlMs: 1_000, perSigner: 4, perTask: 3, total: 6, muteAfter: 1_000, muteMs: 500 }

describe('gossip intake: messages held for a task whose spec has not arrived', () => {
  it('holds them without relaying, and hands them over in arrival order once the spec comes', async () => {
    const { intake, commits } = intakeWith(limits)
    const outcome = await commits(staked[0]!, [task('a'), task('a')])
    assert.deepEqual(outcome, { kind: 'hold' })
    assert.equal(validationResultOf(outcome), 'ignore', 'a held message is not relayed')
    await commits(staked[1]!, [task('a')])
    assert.equal(intake.heldCount(), 3)
    const handed = intake.takeOrphans(task('a'))
    assert.deepEqual(handed.map((m: TaskMessage) => m.item.signer), [staked[0], staked[0], staked[1]])
    assert.equal(intake.heldCount(), 0)
    assert.deepEqual(intake.takeOrphans(task('a')), [])
  })

  it('holds nothing from a key that is not staked', async () => {
    const { intake, rejected, commits } = intakeWith(limits)
    assert.deepEqual(await commits(stranger, [task('a'), task('b')]), { kind: 'ignore' })
    assert.equal(rejected.HELD_NOT_STAKED, 2)
    assert.equal(intake.heldCount(), 0)
  })

  it('bounds them per signer, per task and in all', async () => {
    const { intake, rejected, commits } = intakeWith({ ...limits, total: 7 })
    await commits(staked[0]!, [task('a'), task('b'), task('c'), task('d'), task('e')])
    assert.equal(rejected.HELD_SIGNER_LIMIT, 1, 'the fifth of one signer')
    await commits(staked[1]!, [task('a'), task('a'), task('a')])
    assert.equal(rejected.HELD_TASK_LIMIT, 1, 'the fourth for one task')
    await commits(staked[1]!, [task('f'), task('g')])
    assert.equal(rejected.HELD_FULL, 1, 'the eighth in all')
    assert.equal(intake.heldCount(), 7)
    // Handing a task's messages over frees their room, for their signers too.
    assert.equal(intake.takeOrphans(task('a')).length, 3)
    assert.deepEqual(await commits(staked[0]!, [task('h')]), { kind: 'hold' })
    assert.equal(intake.heldCount(), 5)
  })

  it('refuses, unhashed and unverified, a batch only held messages could come of from a staked signer that may hold no more', async () => {
    const { intake, rejected, commits, verified } = intakeWith(limits, new Set([task('open')]))
    await commits(staked[0]!, [task('a'), task('b'), task('c'), task('d')])
    assert.equal(verified(), 1)
    // Its room is full: a flood of such batches costs their decoding only, and is counted per item.
    assert.deepEqual(await commits(staked[0]!, [task('e'), task('f')]), { kind: 'ignore', code: 'HELD_SIGNER_LIMIT' })
    assert.equal(verified(), 1)
    assert.equal(rejected.HELD_SIGNER_LIMIT, 2)
    // A key that is not staked is still checked (a forged signature is rejected, against its relay).
    assert.deepEqual(await commits(stranger, [task('g')]), { kind: 'ignore' })
    assert.equal(verified(), 2)
    assert.equal(rejected.HELD_NOT_STAKED, 1)
    // A batch that names an open task is checked as ever: its commit goes to the task.
    assert.deepEqual(await commits(staked[0]!, [task('open'), task('h')]), { kind: 'accept' })
    assert.equal(verified(), 3)
    assert.equal(intake.heldCount(), 4)
  })

  it('drops them once their task waited `ttlMs`, freeing the room for good', async () => {
    const { intake, rejected, commits, advance } = intakeWith(limits)
    await commits(staked[0]!, [task('a'), task('b'), task('c'), task('d')])
    advance(600)
    await commits(staked[1]!, [task('e')])
    assert.deepEqual(await commits(staked[0]!, [task('f')]), { kind: 'ignore', code: 'HELD_SIGNER_LIMIT' })
    assert.equal(rejected.HELD_SIGNER_LIMIT, 1)
    advance(400)
    // a–d waited 1,000 ms: gone; e (600 ms in) stays.
    assert.deepEqual(await commits(staked[0]!, [task('f')]), { kind: 'hold' })
    assert.equal(intake.heldCount(), 2)
    assert.deepEqual(intake.takeOrphans(task('a')), [])
    assert.equal(intake.takeOrphans(task('e')).length, 1)
  })

  it('mutes a peer that keeps sending what its signers may not hold, for a while, and never for the node’s own lack of room', async () => {
    const { intake, rejected, commits, advance, verified } = intakeWith({ ...limits, muteAfter: 6 })
    // An unstaked key's commits, from one peer: each is refused for its signer and charged to the peer.
    await commits(stranger, [task('x1'), task('x2'), task('x3')], 'flooder')
    await commits(stranger, [task('x4'), task('x5'), task('x6')], 'flooder')
    assert.equal(intake.mutedCount(), 1)
    const before = verified()
    assert.deepEqual(await commits(staked[0]!, [task('a')], 'flooder'), { kind: 'ignore', code: 'PEER_MUTED' })
    assert.equal(verified(), before, 'dropped unread')
    assert.deepEqual(await commits(staked[0]!, [task('a')], 'honest'), { kind: 'hold' }, 'other peers are heard')
    advance(500)
    assert.equal(intake.mutedCount(), 0)
    assert.deepEqual(await commits(staked[0]!, [task('b')], 'flooder'), { kind: 'hold' }, 'heard again once the mute is over')

    // The node's buffer full of others' messages is not the sender's fault: HELD_FULL is not charged.
    await commits(staked[0]!, [task('c'), task('d')], 'honest')
    await commits(staked[1]!, [task('e'), task('f')], 'honest')
    assert.equal(intake.heldCount(), limits.total)
    for (let i = 0; i < 4; i++) await commits(staked[2]!, [task(`g${i}`), task(`h${i}`)], 'late')
    assert.equal(rejected.HELD_FULL, 8)
    assert.equal(intake.mutedCount(), 0)
  })
})
