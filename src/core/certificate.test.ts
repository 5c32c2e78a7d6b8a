import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { zeroHash } from 'viem'
import { arbitratedAs, badResult, certify, certifyDisputeOfFive, goodResult, instantAnchorOf, rankedAs, sealedPlay } from '../../test/helpers/certificates.ts'
import { testAccount, testVrfKey } from '../../test/helpers/fixtures.ts'
import { auditDrawOf, isAudited, signChallenge } from './challenge.ts'
import { checkTaskCertificate, mergeCertificates, withLateReveal } from './certificate.ts'
import type { CheckTaskCertificateParameters, TaskCertificate } from './certificate.ts'
import { devnetDomain } from './eip712.ts'
import { isSignedBy } from './signing.ts'

const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((l) => testAccount(`cert-${l}`))
const outsider = testAccount('cert-unstaked')
const ranking = [a!, b!, c!, d!].map((x) => x.address)

const check = (certificate: TaskCertificate, extra: Partial<CheckTaskCertificateParameters> = {}) =>
  checkTaskCertificate({ certificate, domain: devnetDomain, rankingOf: rankedAs(ranking), anchorOf: instantAnchorOf, arbitrationSeatsOf: arbitratedAs(ranking), verify: isSignedBy, ...extra })

describe('task certificates', () => {
  it('prove the verdict of a replicated task, and who dissented and withheld', async () => {
    const split = [
      { executor: a!, resultHash: goodResult },
      { executor: b!, resultHash: badResult },
      { executor: c!, resultHash: goodResult },
    ]
    // Seats that disagree prove nothing by themselves: unresolved, and nobody is a dissenter.
    const alone = await certify(split)
    const unarbitrated = await check(alone.certificate)
    assert.ok(unarbitrated.kind === 'valid')
    assert.deepEqual(unarbitrated.verdict, { taskId: alone.taskId, outcome: 'unresolved', resultHash: zeroHash, executors: [], dissenters: [] })
    // With their arbitration, the arbiters rule and every reveal is judged against the ruling.
    const { certificate, taskId } = await certify(split, {}, [{ executor: d!, resultHash: goodResult }])
    const result = await check(certificate)
    assert.ok(result.kind === 'valid')
    assert.deepEqual(result.verdict, { taskId, outcome: 'verified', resultHash: goodResult, executors: [a!.address, c!.address, d!.address], dissenters: [b!.address] })
    assert.deepEqual(result.withheld, [])

    const withheld = await check((await certify([{ executor: a!, resultHash: goodResult }, { executor: b!, resultHash: goodResult }, { executor: c!, resultHash: badResult, withhold: true }])).certificate)
    assert.ok(withheld.kind === 'valid')
    assert.equal(withheld.verdict.outcome, 'verified')
    assert.deepEqual(withheld.withheld, [c!.address])
  })

  it('penalise nobody as a withholder when no one revealed: the task ended in its commit phase', async () => {
    // A requester picks a deadline that ends the task before the reveal phase: honest committers
    // never had the chance to reveal, so they did not withhold.
    const ended = await check((await certify([a!, b!].map((executor) => ({ executor, resultHash: goodResult, withhold: true })))).certificate)
    assert.ok(ended.kind === 'valid' && ended.verdict.outcome === 'unresolved')
    assert.deepEqual(ended.withheld, [])
  })

  it('refuse a policy no node accepts: a quorum that is not a majority', async () => {
    const { certificate } = await certify([{ executor: a!, resultHash: badResult }], { policy: { kind: 'replicate', k: 3, quorum: 1 } })
    const result = await check(certificate)
    assert.equal(result.kind === 'reject' ? result.code : 'valid', 'CERT_BAD_POLICY')
  })

  it('refuse an unstaked or unranked signer, a duplicate executor, and a reveal that opens nothing', async () => {
    const unseated = await certify([{ executor: a!, resultHash: goodResult }, { executor: outsider, resultHash: goodResult }])
    const codeOf = async (certificate: TaskCertificate, extra?: Partial<CheckTaskCertificateParameters>) => {
      const r = await check(certificate, extra)
      return r.kind === 'reject' ? r.code : 'valid'
    }
    assert.equal(await codeOf(unseated.certificate), 'CERT_UNSEATED')

    // One key counted twice as an agreeing executor (seen on the old protocol: 80 % of the fee).
    const twice = await certify([{ executor: a!, resultHash: badResult }, { executor: b!, resultHash: goodResult }])
    const duplicated: TaskCertificate = { ...twice.certificate, commits: [twice.certificate.commits[0]!, twice.certificate.commits[0]!] }
    assert.equal(await codeOf(duplicated), 'CERT_DUPLICATE_SIGNER')
    const revealedTwice: TaskCertificate = { ...twice.certificate, reveals: [twice.certificate.reveals[0]!, twice.certificate.reveals[0]!] }
    assert.equal(await codeOf(revealedTwice), 'CERT_DUPLICATE_SIGNER')

    // A reveal from a key with no counted commit, and a reveal that opens another result.
    const { reveal: stray } = await sealedPlay(twice.taskId, { executor: c!, resultHash: goodResult }, `0x${'11'.repeat(32)}`)
    assert.equal(await codeOf({ ...twice.certificate, reveals: [...twice.certificate.reveals, stray] }), 'CERT_REVEAL_WITHOUT_COMMIT')
    const { commit: otherCommit } = await sealedPlay(twice.taskId, { executor: c!, resultHash: badResult }, `0x${'22'.repeat(32)}`)
    assert.equal(await codeOf({ ...twice.certificate, commits: [...twice.certificate.commits, otherCommit], reveals: [...twice.certificate.reveals, stray] }), 'CERT_REVEAL_MISMATCH')

    // An item whose bytes are not the signed ones; a spec not signed by its requester; a fourth seat.
    const altered = { ...twice.certificate.reveals[1]!, message: { ...twice.certificate.reveals[1]!.message, salt: zeroHash } }
    const tampered = await codeOf({ ...twice.certificate, reveals: [twice.certificate.reveals[0]!, altered] })
    assert.equal(tampered, 'CERT_REVEAL_MISMATCH', 'a changed salt no longer opens the commit')
    assert.equal(await codeOf({ ...twice.certificate, spec: { ...twice.certificate.spec, signer: a!.address } }), 'CERT_BAD_SPEC_SIGNATURE')
    const four = await certify([a!, b!, c!, d!].map((executor) => ({ executor, resultHash: goodResult })))
    assert.equal(await codeOf(four.certificate), 'CERT_TOO_MANY_SEATS')
    assert.equal(await codeOf(twice.certificate, { epoch: 7n }), 'CERT_WRONG_EPOCH')
  })

  it('refuse a claimed verdict the evidence does not give: framed executors, a short quorum', async () => {
    const { certificate, taskId } = await certify([
      { executor: a!, resultHash: goodResult },
      { executor: b!, resultHash: goodResult },
      { executor: c!, resultHash: badResult },
    ])
    const framed = { taskId, outcome: 'verified' as const, resultHash: badResult, executors: [c!.address], dissenters: [a!.address, b!.address] }
    const r1 = await check(certificate, { claimed: framed })
    assert.equal(r1.kind === 'reject' ? r1.code : 'valid', 'CERT_BELOW_QUORUM', 'a split without its arbitration rules nothing')
    const ruled = await certify(
      [{ executor: a!, resultHash: goodResult }, { executor: b!, resultHash: goodResult }, { executor: c!, resultHash: badResult }],
      {},
      [{ executor: d!, resultHash: goodResult }],
    )
    const r1a = await check(ruled.certificate, { claimed: { ...framed, taskId: ruled.taskId } })
    assert.equal(r1a.kind === 'reject' ? r1a.code : 'valid', 'CERT_VERDICT_MISMATCH')
    // Two of three disagree with each other and the third withheld: nothing reaches the quorum of 2.
    const split = await certify([{ executor: a!, resultHash: goodResult }, { executor: b!, resultHash: badResult }, { executor: c!, resultHash: goodResult, withhold: true }])
    const claimed = { taskId: split.taskId, outcome: 'verified' as const, resultHash: goodResult, executors: [a!.address], dissenters: [b!.address] }
    const r2 = await check(split.certificate, { claimed })
    assert.equal(r2.kind === 'reject' ? r2.code : 'valid', 'CERT_BELOW_QUORUM')
    const honest = await check(split.certificate)
    assert.ok(honest.kind === 'valid' && honest.verdict.outcome === 'unresolved')
  })

  it('take an arbitration only from the dispute’s arbiters, only for a dispute, and penalise arbiters that withhold', async () => {
    const split = [{ executor: a!, resultHash: goodResult }, { executor: b!, resultHash: badResult }]
    const codeOf = async (certificate: TaskCertificate, extra?: Partial<CheckTaskCertificateParameters>) => {
      const r = await check(certificate, extra)
      return r.kind === 'reject' ? r.code : 'valid'
    }
    // A disputed committer cannot arbitrate its own dispute, nor can a node outside the ranking.
    assert.equal(await codeOf((await certify(split, {}, [{ executor: b!, resultHash: badResult }])).certificate), 'CERT_NOT_ARBITER')
    assert.equal(await codeOf((await certify(split, {}, [{ executor: outsider, resultHash: badResult }])).certificate), 'CERT_NOT_ARBITER')
    // Without a way to rank the arbiters, no arbitration proves anything.
    const arbitrated = await certify(split, {}, [{ executor: c!, resultHash: goodResult }, { executor: d!, resultHash: goodResult }])
    assert.equal(await codeOf(arbitrated.certificate, { arbitrationSeatsOf: undefined }), 'CERT_NOT_ARBITER')
    // Reveals that agree need no arbitration: an aggregator cannot add one to pay more executors.
    const agreed = await certify([{ executor: a!, resultHash: goodResult }, { executor: b!, resultHash: goodResult }], {}, [{ executor: c!, resultHash: goodResult }])
    assert.equal(await codeOf(agreed.certificate), 'CERT_NEEDLESS_ARBITRATION')
    // An arbiter that committed and withheld once another arbiter revealed is a withholder; with one of
    // two arbiters revealing, the ruling (a majority of 2) is not reached.
    const short = await certify(split, {}, [{ executor: c!, resultHash: goodResult }, { executor: d!, resultHash: goodResult, withhold: true }])
    const result = await check(short.certificate)
    assert.ok(result.kind === 'valid')
    assert.equal(result.verdict.outcome, 'unresolved')
    assert.deepEqual(result.verdict.dissenters, [])
    assert.deepEqual(result.withheld, [d!.address])
  })

  it('verify a lone sampled executor only with its designated verifier’s unaudited challenge', async () => {
    // Nonces until the designated verifier's (unique) audit draw does not call an audit at 50 %.
    for (let nonce = 1n; ; nonce++) {
      const sampled = await certify([{ executor: a!, resultHash: goodResult }], { policy: { kind: 'sample', ratePpm: 500_000 }, nonce })
      const commitment = sampled.certificate.commits[0]!.message.commitment
      const challenge = await signChallenge(b!, testVrfKey('cert-b'), { taskId: sampled.taskId, commitment }, devnetDomain)
      if (isAudited(auditDrawOf(challenge)!, 500_000)) continue
      const spared = await check({ ...sampled.certificate, challenge })
      assert.ok(spared.kind === 'valid' && spared.verdict.outcome === 'verified')
      // Without a challenge the lone commit awaited an audit: no verdict.
      const alone = await check(sampled.certificate)
      assert.ok(alone.kind === 'valid' && alone.verdict.outcome === 'unresolved')
      // A challenge from a node that was not the designated verifier, or with another key's draw, proves nothing.
      const codeOf = async (c: typeof challenge) => {
        const r = await check({ ...sampled.certificate, challenge: c })
        return r.kind === 'reject' ? r.code : 'valid'
      }
      assert.equal(await codeOf(await signChallenge(c!, testVrfKey('cert-c'), { taskId: sampled.taskId, commitment }, devnetDomain)), 'CERT_BAD_CHALLENGE')
      const foreignDraw = await signChallenge(b!, testVrfKey('cert-c'), { taskId: sampled.taskId, commitment }, devnetDomain)
      assert.equal(await codeOf(foreignDraw), 'CERT_BAD_CHALLENGE')
      break
    }
  })
})

describe('arbitration votes', () => {
  it('are seats, whoever holds them: listing a committer among the arbiters or the seats changes no vote and no ruling', async () => {
    // 193 seats drawn by stake: h1 50 and h2 47 (97, a strict majority) against c2 and c3 48 each;
    // c1 none. An aggregator that lists h1's commit as an arbiter's and the backup c2's as a seat's
    // (a commit does not say which stage it was made for) gets the same verdict.
    const [h1, h2, c1, c2, c3] = ['h1', 'h2', 'c1', 'c2', 'c3'].map((l) => testAccount(`votes-${l}`))
    const nodes = [h1!, h2!, c1!, c2!, c3!].map((x) => x.address)
    const seats = [...Array<string>(50).fill(h1!.address), ...Array<string>(47).fill(h2!.address), ...Array<string>(48).fill(c2!.address), ...Array<string>(48).fill(c3!.address)] as typeof nodes
    const checkSeats = (certificate: TaskCertificate) => check(certificate, { rankingOf: rankedAs(nodes), arbitrationSeatsOf: () => seats })
    const good = (x: typeof h1) => ({ executor: x!, resultHash: goodResult })
    const bad = (x: typeof h1) => ({ executor: x!, resultHash: badResult })
    const { certificate: asHappened } = await certify([good(h1), good(h2), bad(c1)], {}, [bad(c2), bad(c3)])
    const { certificate: relisted } = await certify([good(h2), bad(c1), bad(c2)], {}, [good(h1), bad(c3)])
    for (const certificate of [asHappened, relisted]) {
      const result = await checkSeats(certificate)
      assert.ok(result.kind === 'valid', JSON.stringify(result))
      assert.deepEqual([result.verdict.outcome, result.verdict.resultHash, result.quorum], ['verified', goodResult, 97])
      assert.deepEqual(new Set(result.verdict.dissenters), new Set([c1!, c2!, c3!].map((x) => x.address)))
    }
  })
})

describe('withLateReveal', () => {
  it('keeps a late reveal that opens a counted commit and agrees with its stage, and nothing else', async () => {
    // c committed to the good result, and its reveal reached this node only after it decided.
    const { certificate: whole } = await certify([
      { executor: a!, resultHash: goodResult },
      { executor: b!, resultHash: goodResult },
      { executor: c!, resultHash: goodResult },
    ])
    const late = whole.reveals[2]!
    const decided = { ...whole, reveals: whole.reveals.slice(0, 2) }
    const before = await check(decided)
    assert.ok(before.kind === 'valid')
    assert.deepEqual(before.withheld, [c!.address])
    const revised = withLateReveal(decided, late)
    assert.ok(revised !== undefined)
    const after = await check(revised)
    assert.ok(after.kind === 'valid')
    assert.deepEqual(after.withheld, [], 'c no longer counts as a withholder')
    assert.equal(after.verdict.resultHash, before.verdict.resultHash, 'the verdict stands')
    assert.deepEqual(after.verdict.executors, [a!.address, b!.address, c!.address])
    // The same reveal twice, or a reveal of a commit the certificate does not count, adds nothing.
    assert.equal(withLateReveal(revised, late), undefined)
    const { certificate: other } = await certify([{ executor: d!, resultHash: goodResult }])
    assert.equal(withLateReveal(decided, other.reveals[0]!), undefined)
    // A stage that ended without any reveal stays so: one late reveal would make its peers withholders.
    assert.equal(withLateReveal({ ...whole, reveals: [] }, late), undefined)
  })

  it('refuses a late dissent: it would turn a verified task unresolved after the fact', async () => {
    const { certificate: whole } = await certify([
      { executor: a!, resultHash: goodResult },
      { executor: b!, resultHash: goodResult },
      { executor: c!, resultHash: badResult },
    ])
    const decided = { ...whole, reveals: whole.reveals.slice(0, 2) }
    assert.equal(withLateReveal(decided, whole.reveals[2]!), undefined)
    const verdict = await check(decided)
    assert.ok(verdict.kind === 'valid' && verdict.verdict.outcome === 'verified')
  })
})

describe('withLateReveal in an arbitration', () => {
  it('keeps a late dissent there: a majority of all the seats rules, so it cannot undo the ruling', async () => {
    const e = testAccount('cert-e')
    const five = [a!, b!, c!, d!, e].map((x) => x.address)
    const { certificate: whole } = await certify(
      [
        { executor: a!, resultHash: goodResult },
        { executor: b!, resultHash: badResult },
        { executor: c!, resultHash: goodResult },
      ],
      {},
      [
        { executor: d!, resultHash: goodResult },
        { executor: e, resultHash: badResult },
      ],
    )
    const checkFive = (certificate: TaskCertificate) => check(certificate, { rankingOf: rankedAs(five), arbitrationSeatsOf: arbitratedAs(five) })
    // e's reveal reached this node after it ruled: without it e counts as a withholder here, a
    // dissenter on nodes that took it in time, and their certificates would differ for good.
    const decided = { ...whole, arbitration: { ...whole.arbitration!, reveals: whole.arbitration!.reveals.slice(0, 1) } }
    const before = await checkFive(decided)
    assert.ok(before.kind === 'valid' && before.verdict.outcome === 'verified')
    assert.deepEqual(before.withheld, [e.address])
    const revised = withLateReveal(decided, whole.arbitration!.reveals[1]!)
    assert.ok(revised !== undefined)
    const after = await checkFive(revised)
    assert.ok(after.kind === 'valid')
    assert.deepEqual(after.verdict, { ...before.verdict, dissenters: [b!.address, e.address] }, 'the ruling stands; e dissents')
    assert.deepEqual(after.withheld, [])
  })
})

describe('mergeCertificates', () => {
  const signersOf = (items: readonly { signer: string }[]) => items.map((i) => i.signer).sort()
  /** Every commit and reveal of `base` is still in `merged`: a merge never drops evidence. */
  const keepsAll = (base: TaskCertificate, merged: TaskCertificate) => {
    for (const item of base.commits) assert.ok(merged.commits.includes(item), `kept the commit of ${item.signer}`)
    for (const item of base.reveals) assert.ok(merged.reveals.includes(item), `kept the reveal of ${item.signer}`)
  }

  it('adds the reveals another holder took that agree with their stage, and returns base itself when it adds nothing', async () => {
    const { certificate: whole } = await certify([a!, b!, c!].map((executor) => ({ executor, resultHash: goodResult })))
    const here = { ...whole, reveals: whole.reveals.slice(0, 2) }
    const there = { ...whole, reveals: whole.reveals.slice(1) }
    const merged = mergeCertificates(here, there)
    keepsAll(here, merged)
    assert.deepEqual(signersOf(merged.reveals), signersOf(whole.reveals))
    const result = await check(merged)
    assert.ok(result.kind === 'valid')
    assert.deepEqual(result.withheld, [], 'c is no longer a withholder')
    assert.equal(mergeCertificates(merged, here), merged, 'nothing new: the same certificate')
  })

  it('never takes a dissent the base lacks: a late or selective liar cannot void a verified task', async () => {
    const { certificate: whole } = await certify([
      { executor: a!, resultHash: goodResult },
      { executor: b!, resultHash: goodResult },
      { executor: c!, resultHash: badResult },
    ])
    const here = { ...whole, reveals: whole.reveals.slice(0, 2) }
    const merged = mergeCertificates(here, whole)
    assert.equal(merged, here)
    const result = await check(merged)
    assert.ok(result.kind === 'valid' && result.verdict.outcome === 'verified')
  })

  it('fills a stage without reveals only with reveals that open every commit: nobody is framed as a withholder', async () => {
    const { certificate: whole } = await certify([a!, b!, c!].map((executor) => ({ executor, resultHash: goodResult })))
    const silent = { ...whole, reveals: [] }
    const filled = mergeCertificates(silent, whole)
    assert.deepEqual(signersOf(filled.reveals), signersOf(whole.reveals))
    const result = await check(filled)
    assert.ok(result.kind === 'valid' && result.verdict.outcome === 'verified')
    // A colluder's evidence with only its own reveal would make the two others withholders: not taken.
    assert.equal(mergeCertificates(silent, { ...whole, reveals: whole.reveals.slice(2) }), silent)
    // Silence adds nothing the other way round.
    assert.equal(mergeCertificates(whole, silent), whole)
  })

  it('never replaces a seat: backups revealing a lie cannot displace the primaries another holder counted', async () => {
    // Here a, b and c committed and nothing was revealed yet; a coalition's evidence seats a, then
    // its backups d and the unstaked-looking outsider in b's and c's places, all revealing the lie.
    const { certificate: here } = await certify([a!, b!, c!].map((executor) => ({ executor, resultHash: goodResult, withhold: true })))
    const { certificate: theirs } = await certify([a!, d!, outsider].map((executor) => ({ executor, resultHash: badResult })))
    const merged = mergeCertificates(here, { ...theirs, spec: here.spec })
    assert.equal(merged, here)
  })

  it('fills a free seat with a commit and its agreeing reveal, completing a quorum the base lacked', async () => {
    const { certificate: whole } = await certify([
      { executor: a!, resultHash: goodResult },
      { executor: b!, resultHash: goodResult },
      { executor: c!, resultHash: goodResult },
    ])
    // Here only a's commit arrived in time, and b's reveal came late: one agreeing reveal, short of the quorum of 2.
    const here = { ...whole, commits: whole.commits.slice(0, 1), reveals: whole.reveals.slice(0, 1) }
    const short = await check(here)
    assert.ok(short.kind === 'valid' && short.verdict.outcome === 'unresolved')
    const merged = mergeCertificates(here, whole)
    keepsAll(here, merged)
    const result = await check(merged)
    assert.ok(result.kind === 'valid')
    assert.equal(result.verdict.outcome, 'verified')
    assert.deepEqual(result.verdict.executors, [a!, b!, c!].map((x) => x.address))
  })

  it('counts a commit another holder seated as an arbiter’s where its signer is an arbiter here', async () => {
    // There, a, b and c held the seats (b lied) and d and e arbitrated. Here c's commit came after
    // its deadline, the backup d took its seat, and the arbiters are c and e; c sent its one commit
    // for its seat, so this node's arbitration counts only e. The same commit is c's sealed answer
    // whatever place it was made for: as an arbiter's it completes the arbitration here.
    const e = testAccount('cert-e')
    const five = [a!, b!, c!, d!, e].map((x) => x.address)
    const { primary: there, backupSeated } = await certifyDisputeOfFive([a!, b!, c!, d!, e], [goodResult, badResult, goodResult, goodResult, goodResult])
    const here = backupSeated()
    const [, , cc] = there.commits
    const [, , rc] = there.reveals
    const [, ce] = there.arbitration!.commits
    const checkFive = (certificate: TaskCertificate) => check(certificate, { rankingOf: rankedAs(five), arbitrationSeatsOf: arbitratedAs(five) })
    const before = await checkFive(here)
    assert.ok(before.kind === 'valid')
    assert.deepEqual(before.verdict.executors, [a!, d!, e].map((x) => x.address))
    const taskArbiters = arbitratedAs(five)
    // Without the arbiters it cannot tell where c belongs here: nothing is taken.
    assert.equal(mergeCertificates(here, there), here)
    const merged = mergeCertificates(here, there, { arbitrationSeats: taskArbiters })
    keepsAll(here, merged)
    assert.deepEqual(signersOf(merged.arbitration!.commits), signersOf([ce!, cc!]))
    assert.ok(merged.arbitration!.reveals.includes(rc!))
    const result = await checkFive(merged)
    assert.ok(result.kind === 'valid')
    assert.deepEqual(result.verdict.executors, [a!, d!, c!, e].map((x) => x.address))
    assert.deepEqual(result.verdict.dissenters, [b!.address])
    // A signer that is no arbiter here (a seat) is not taken twice.
    assert.equal(mergeCertificates(merged, there, { arbitrationSeats: taskArbiters }), merged)
  })

  it('takes the arbitration of a dispute the base holds without one: the arbiters rule', async () => {
    const split = [
      { executor: a!, resultHash: goodResult },
      { executor: b!, resultHash: badResult },
      { executor: c!, resultHash: goodResult },
    ]
    const { certificate: arbitrated } = await certify(split, {}, [{ executor: d!, resultHash: goodResult }])
    const here: TaskCertificate = { spec: arbitrated.spec, commits: arbitrated.commits, reveals: arbitrated.reveals }
    const before = await check(here)
    assert.ok(before.kind === 'valid' && before.verdict.outcome === 'unresolved')
    const merged = mergeCertificates(here, arbitrated)
    keepsAll(here, merged)
    const result = await check(merged)
    assert.ok(result.kind === 'valid')
    assert.equal(result.verdict.outcome, 'verified')
    assert.deepEqual(result.verdict.dissenters, [b!.address])
  })
})
