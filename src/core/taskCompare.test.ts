import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keccak256, stringToBytes } from 'viem'
import { drawnChallenge, makeSpec, requester, seatsAmong, testAccount, testVrfKey } from '../../test/helpers/fixtures.ts'
import { computeCommitment } from './commit.ts'
import { contentId } from './contentId.ts'
import { devnetDomain, hashTaskSpec } from './eip712.ts'
import { RevealRejectedError, SpecRejectedError } from './errors.ts'
import { defaultParams } from './params.ts'
import { encodeTensor } from './tensor.ts'
import { checkTaskSpec, requiredCapability, signTaskSpec } from './taskSpec.ts'
import { advanceTask, applyChallenge, applyCommit, applyOutputs, applyReveal, missingOutputs, nextTaskDeadline, openArbitration, openTask } from './task.ts'
import type { TaskState } from './task.ts'
import type { Address, Comparison, Hex, Signed, Commit, Reveal } from './types.ts'

// The compare phase of tolerance comparisons: reveals first, then the bytes, then the verdict.
const timing = { commitWindowMs: 1_000, revealWindowMs: 500 }
const accounts = ['e1', 'e2', 'e3', 'b1'].map((l) => testAccount(l).address)
const [e1, e2, e3, b1] = accounts as [Address, Address, Address, Address]
const taskId = keccak256(stringToBytes('inference-task'))
const sig = `0x${'11'.repeat(65)}` as Hex
const probs = (row: number[]) => encodeTensor({ dims: [1, row.length], data: Float32Array.from(row) })
const honest = probs([0.7, 0.2, 0.1])
const jitter = probs([0.7 + 2 ** -20, 0.2, 0.1 - 2 ** -20])
const noisy = probs([0.55, 0.35, 0.1])
const salt = (e: Address) => keccak256(stringToBytes(`salt-${e}`))

function commit(executor: Address, bytes: Uint8Array): Signed<Commit> {
  const commitment = computeCommitment({ taskId, status: 'ok', resultHash: contentId(bytes), salt: salt(executor), executor })
  return { message: { taskId, commitment }, signer: executor, signature: sig }
}

function reveal(executor: Address, bytes: Uint8Array): Signed<Reveal> {
  return { message: { taskId, status: 'ok', resultHash: contentId(bytes), salt: salt(executor) }, signer: executor, signature: sig }
}

function revealed(comparison: Comparison | undefined, results: Uint8Array[]): TaskState {
  const spec = makeSpec({ deadline: 100_000n, runtime: 'onnx', ...(comparison === undefined ? {} : { comparison }) })
  let s = openTask({ taskId, spec, ranking: accounts, timing, now: 0 })
  results.forEach((bytes, i) => (s = applyCommit(s, commit(accounts[i]!, bytes), 10, timing)))
  results.forEach((bytes, i) => (s = applyReveal(s, reveal(accounts[i]!, bytes), 20 + i, timing)))
  return s
}

const tolerance: Comparison = { kind: 'maxError', absMicro: 10, relPpm: 0 }

describe('task state machine: tolerance comparisons', () => {
  it('decides at once when every ok reveal carries the same hash', () => {
    const s = revealed(tolerance, [honest, honest, honest])
    assert.equal(s.phase, 'decided')
    assert.deepEqual(s.verdict?.executors, [e1, e2, e3])
  })

  it('waits in compare for the differing results, clusters them, and sends the noisy one to arbitration', () => {
    let s = revealed(tolerance, [jitter, noisy, honest])
    assert.equal(s.phase, 'compare')
    assert.deepEqual(new Set(missingOutputs(s)), new Set([honest, jitter, noisy].map((b) => contentId(b))))
    assert.equal(nextTaskDeadline(s), 22 + timing.revealWindowMs)
    // A reveal after the reveal phase closed is refused; bytes that are not awaited are ignored.
    assert.throws(() => applyReveal(s, reveal(e1, honest), 23, timing), (e: unknown) => e instanceof RevealRejectedError && e.code === 'REVEAL_PHASE_CLOSED')
    s = applyOutputs(s, [honest, probs([1, 2, 3])], 24, timing)
    assert.equal(s.phase, 'compare')
    s = applyOutputs(s, [jitter, noisy], 25, timing)
    // The jittered and the honest result agree; the noisy one does not: a dispute, for arbiters to rule.
    assert.equal(s.phase, 'dispute')
    s = openArbitration(s, seatsAmong(s, accounts, 1), 26, timing)
    s = applyCommit(s, commit(b1, honest), 30, timing)
    s = applyReveal(s, reveal(b1, honest), 31, timing)
    assert.equal(s.phase, 'decided')
    assert.equal(s.verdict?.outcome, 'verified')
    assert.deepEqual(s.verdict?.executors, [e1, e3, b1])
    assert.deepEqual(s.verdict?.dissenters, [e2])
  })

  it('under exact, the same reveals need no bytes, and three different results are a dispute', () => {
    const s = revealed(undefined, [jitter, noisy, honest])
    assert.equal(s.phase, 'dispute')
    assert.deepEqual(missingOutputs(s), [])
  })

  it('decides with what it has when the compare deadline passes', () => {
    let s = revealed(tolerance, [honest, noisy, jitter])
    s = applyOutputs(s, [honest, noisy], 30, timing)
    assert.equal(s.phase, 'compare')
    s = advanceTask(s, 22 + timing.revealWindowMs, timing)
    // The jittered result could not be compared: the three do not agree, so the task is disputed.
    assert.equal(s.phase, 'dispute')
    // A node that has fetched all it could goes on right away with `final`.
    const early = applyOutputs(revealed(tolerance, [honest, jitter, noisy]), [honest, jitter], 30, timing, true)
    assert.equal(early.phase, 'dispute')
  })
})

describe('task state machine: a sampled inference task', () => {
  it('audits within the tolerance: a jittered audit agrees after the compare phase, a noisy one goes to arbitration', () => {
    const audited = (auditorResult: Uint8Array): TaskState => {
      const spec = makeSpec({ deadline: 100_000n, runtime: 'onnx', policy: { kind: 'sample', ratePpm: 1_000_000 }, comparison: tolerance })
      const ranking = [...accounts, ...['a1', 'a2', 'a3'].map((l) => testAccount(l).address)]
      let s = openTask({ taskId, spec, ranking, timing, now: 0 })
      s = applyCommit(s, commit(e1, honest), 10, timing)
      const verifier = s.audit!.verifier!
      assert.equal(verifier, accounts[1])
      const challenge = drawnChallenge(testVrfKey('e2'), verifier, { taskId, commitment: s.commits[0]!.commitment }, sig)
      s = applyChallenge(s, challenge, 20, timing)
      s = applyCommit(s, commit(verifier, auditorResult), 30, timing)
      s = applyReveal(s, reveal(e1, honest), 40, timing)
      s = applyReveal(s, reveal(verifier, auditorResult), 41, timing)
      assert.equal(s.phase, 'compare')
      return applyOutputs(s, [honest, auditorResult], 42, timing)
    }
    const agreed = audited(jitter)
    assert.equal(agreed.verdict?.outcome, 'verified')
    assert.equal(agreed.verdict?.executors.length, 2)
    assert.equal(agreed.verdict?.resultHash, contentId(honest), 'the executor’s result, revealed first, is canonical')
    const disputed = audited(noisy)
    assert.equal(disputed.phase, 'dispute')
    assert.equal(disputed.verdict, null)
  })
})

describe('the comparison in the spec', () => {
  it('is part of the task id (absent = exact), and a malformed one is refused', async () => {
    const id = (comparison?: Comparison) => hashTaskSpec(makeSpec({ runtime: 'onnx', ...(comparison ? { comparison } : {}) }), devnetDomain)
    assert.equal(id(), id({ kind: 'exact' }))
    const ids = new Set([id(), id(tolerance), id({ kind: 'maxError', absMicro: 10, relPpm: 1 }), id({ kind: 'topK', k: 1 }), id({ kind: 'topK', k: 2 })])
    assert.equal(ids.size, 5)
    const signed = await signTaskSpec(requester, makeSpec({ runtime: 'onnx', comparison: { kind: 'topK', k: 0 }, deadline: 100_000n }), devnetDomain)
    await assert.rejects(
      checkTaskSpec({ signed, domain: devnetDomain, params: defaultParams, now: 0 }),
      (e: unknown) => e instanceof SpecRejectedError && e.code === 'SPEC_INVALID_POLICY',
    )
  })

  it('names the capability a node must advertise: the model for onnx, the runtime otherwise', () => {
    assert.equal(requiredCapability({ runtime: 'wasm', program: taskId }), 'wasm')
    assert.equal(requiredCapability({ runtime: 'onnx', program: taskId.toUpperCase().replace('0X', '0x') as Hex }), `onnx:${taskId}`)
  })
})
