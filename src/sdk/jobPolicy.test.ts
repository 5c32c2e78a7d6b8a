import assert from 'node:assert/strict'
import { it } from 'node:test'
import { nextChunkStep } from './jobPolicy.ts'

it('sdk job policy: retries only what another attempt can change, up to the limit', () => {
  assert.equal(nextChunkStep('verified', 1, 3), 'verified')
  assert.equal(nextChunkStep('failed', 1, 3), 'failed')
  assert.equal(nextChunkStep('rejected', 1, 3), 'rejected')
  assert.equal(nextChunkStep('unresolved', 1, 3), 'retry')
  assert.equal(nextChunkStep('timeout', 2, 3), 'retry')
  assert.equal(nextChunkStep('unresolved', 3, 3), 'unresolved')
  assert.equal(nextChunkStep('timeout', 3, 3), 'unresolved')
})
