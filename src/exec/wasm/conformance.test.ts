import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { wat } from '../../../test/helpers/wat.ts'
import type { ConformanceCounts } from './conformance/runWast.ts'
import { emptyCounts, runWast } from './conformance/runWast.ts'

const CORPUS = new URL('./testdata/conformance/', import.meta.url)
const FEATURES = { bulk_memory: true, reference_types: true, multi_value: true, sign_extension: true, sat_float_to_int: true }

/**
 * The conformance corpus (testdata/conformance/README.md says why it is our own, not the official
 * suite) run on the original module and on the instrumented one, call for call: the outcomes must
 * be equal, except NaN canonicalisation and budget traps, which are classified and counted.
 */
describe('conformance: instrumented modules behave as the originals', () => {
  const files = readdirSync(CORPUS).filter((f) => f.endsWith('.wast')).sort()
  const total: ConformanceCounts = emptyCounts()

  for (const file of files) {
    it(file, (t) => {
      const counts = emptyCounts()
      const source = readFileSync(new URL(file, CORPUS), 'utf8')
      runWast(file, source, { compile: (text) => wat(text, { features: FEATURES }), edgeCases: true }, counts)
      t.diagnostic(summary(counts))
      assert.deepEqual(counts.divergences, [], 'instrumented and control outcomes differ')
      assert.deepEqual(counts.expectationMismatches, [], 'the control disagrees with the script')
      assert.ok(counts.modules > 0 && counts.commands > 0)
      add(total, counts)
    })
  }

  it('covers every file, and prints the totals', (t) => {
    assert.ok(files.length >= 8, `corpus has ${files.length} files`)
    const line = `conformance totals over ${files.length} files: ${summary(total)}`
    t.diagnostic(line)
    console.log(line)
    assert.ok(total.nan > 0, 'NaN canonicalisation was exercised')
    assert.ok(total.fuel > 0 && total.stack > 0, 'both budgets were exercised')
  })
})

function summary(c: ConformanceCounts): string {
  return (
    `${c.modules} modules, ${c.commands} commands, ${c.edgeCalls} edge calls: ` +
    `${c.equal} equal, ${c.nan} NaN canonicalised, ${c.fuel} out of fuel, ${c.stack} stack budget, ` +
    `${c.refused} invalid refused by both, ${c.divergences.length} divergences, ${c.expectationMismatches.length} expectation mismatches`
  )
}

function add(total: ConformanceCounts, c: ConformanceCounts): void {
  for (const key of ['modules', 'commands', 'edgeCalls', 'equal', 'nan', 'fuel', 'stack', 'refused'] as const) total[key] += c[key]
  total.divergences.push(...c.divergences)
  total.expectationMismatches.push(...c.expectationMismatches)
}
