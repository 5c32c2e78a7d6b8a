import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { testAccount } from '../../test/helpers/fixtures.ts'
import { decodeVouchedTasks, encodeVouchedTasks, isVouchedFor, seatedRoot } from './vouch.ts'

const task = (i: number) => keccak256(stringToBytes(`vouched task ${i}`))
const seated = Array.from({ length: 11 }, (_, i) => task(i))

describe('vouches', () => {
  it('name tasks by their place among the backup-seated ones, and a bitmap of the wrong length names none', () => {
    const vouched = new Set([seated[0]!, seated[7]!, seated[8]!, seated[10]!])
    const bitmap = encodeVouchedTasks(seated, vouched)
    assert.equal(bitmap, '0x8105')
    assert.deepEqual(decodeVouchedTasks(seated, bitmap), [seated[0], seated[7], seated[8], seated[10]])
    assert.deepEqual(decodeVouchedTasks(seated.slice(0, 8), bitmap), [], 'a bitmap for another proposal')
    assert.deepEqual(decodeVouchedTasks([], encodeVouchedTasks([], new Set())), [])
  })

  it('let a member sign for a task it never saw only on more than a third of the committee weight: never on a coalition’s word alone', () => {
    // Nine equal members; three collude (exactly a third). The coalition's requester withheld the
    // spec from everyone else and its backups committed: only the coalition vouches.
    const members = Array.from({ length: 9 }, (_, i) => testAccount(`voucher-${i}`).address)
    const weights = new Map(members.map((m) => [m, 100n]))
    const unknown = [seated[3]!]
    const root = seatedRoot(seated)
    const all = { seated: root, tasks: encodeVouchedTasks(seated, new Set(seated)) }
    const coalition = new Map(members.slice(0, 3).map((m) => [m, all]))
    assert.equal(isVouchedFor({ seated, unknown, vouches: coalition, weights }), false, 'a third is not more than a third')
    // An unstaked key's vouch counts nothing, however many.
    const outsiders = new Map(Array.from({ length: 20 }, (_, i) => [testAccount(`outsider-${i}`).address, all] as const))
    assert.equal(isVouchedFor({ seated, unknown, vouches: new Map([...coalition, ...outsiders]), weights }), false)
    // One honest member that saw the spec vouches: four of nine, more than a third.
    const withHonest = new Map([...coalition, [members[5]!, { seated: root, tasks: encodeVouchedTasks(seated, new Set(unknown)) }]])
    assert.equal(isVouchedFor({ seated, unknown, vouches: withHonest, weights }), true)
    // Each unknown task needs its own vouches: a vouch for another task does not carry over.
    const elsewhere = new Map([...coalition, [members[5]!, { seated: root, tasks: encodeVouchedTasks(seated, new Set([seated[4]!])) }]])
    assert.equal(isVouchedFor({ seated, unknown: [seated[3]!, seated[4]!], vouches: elsewhere, weights }), false)
    // A vouch over another seated list (a member that could not read a draw finds fewer or more
    // backup-seated tasks, and its bits name other tasks) counts nothing.
    const shifted = new Map([...coalition, [members[5]!, { seated: seatedRoot(seated.slice(1)), tasks: encodeVouchedTasks(seated, new Set(unknown)) }]])
    assert.equal(isVouchedFor({ seated, unknown, vouches: shifted, weights }), false)
  })
})
