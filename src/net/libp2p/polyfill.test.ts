import assert from 'node:assert/strict'
import { it } from 'node:test'
import './polyfill.ts'

it('Promise.withResolvers exists after the polyfill and behaves as specified', async () => {
  const withResolvers = (Promise as unknown as { withResolvers<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } })
    .withResolvers
  const ok = withResolvers.call(Promise)
  ok.resolve(42)
  assert.equal(await ok.promise, 42)
  const failed = withResolvers.call(Promise)
  failed.reject(new Error('no'))
  await assert.rejects(failed.promise, /no/)
})
