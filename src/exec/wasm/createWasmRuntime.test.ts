import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { wat } from '../../../test/helpers/wat.ts'
import { ExecutionAbortedError } from '../../core/errors.ts'
import type { ExecutionRequest } from '../../ports/runtime.ts'
import { createWasmRuntime } from './createWasmRuntime.ts'
import { executeWasm } from './executeWasm.ts'

function program(run: string): Uint8Array {
  return wat(`(module (memory (export "memory") 1)
    (func (export "alloc") (param i32) (result i32) i32.const 1024)
    (func (export "run") (param $ptr i32) (param $len i32) (result i32) ${run}))`)
}

/** Outputs its input with every byte incremented, so each task's output is its own. */
const INCREMENT = program(`(local $i i32)
  (i32.store (i32.const 0) (local.get $len))
  (block $done (loop $l
    (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
    (i32.store8 (i32.add (i32.const 4) (local.get $i))
      (i32.add (i32.load8_u (i32.add (local.get $ptr) (local.get $i))) (i32.const 1)))
    (local.set $i (i32.add (local.get $i) (i32.const 1)))
    (br $l)))
  (i32.const 0)`)

const SPIN = program('(loop $l (br $l)) (i32.const 0)')

const limits = { fuel: 1_000_000n, memoryPages: 4, outputBytes: 1024 }

function increment(input: Uint8Array): ExecutionRequest {
  return { programId: '0x01', program: INCREMENT, input, limits }
}

/** Runs forever, as far as wall-clock backstops are concerned. */
const spin: ExecutionRequest = { programId: '0x02', program: SPIN, input: new Uint8Array(), limits: { ...limits, fuel: 2n ** 62n } }

function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  return assert.rejects(promise, (error) => error instanceof ExecutionAbortedError && error.code === code)
}

describe('createWasmRuntime', () => {
  const runtime = createWasmRuntime({ threads: 2, timeoutMs: 300 })
  after(() => runtime.close())

  it('is named wasm', () => {
    assert.equal(runtime.name, 'wasm')
  })

  it('runs many tasks concurrently with the same results as in-thread execution', async () => {
    const requests = Array.from({ length: 200 }, (_, i) => increment(Uint8Array.of(i & 0xff, i >> 8, 7)))
    const results = await Promise.all(requests.map((request) => runtime.execute(request)))
    results.forEach((result, i) => assert.deepEqual(result, executeWasm(requests[i] as ExecutionRequest)))
  })

  it('reports deterministic failures as results', async () => {
    const result = await runtime.execute({ ...spin, limits })
    assert.deepEqual(result, { status: 'failed', reason: 'out-of-fuel', fuelUsed: limits.fuel })
  })

  it('kills a task that exceeds the wall-clock limit and keeps working', async () => {
    await rejectsWith(runtime.execute(spin), 'EXEC_TIMEOUT')
    const after = await Promise.all([1, 2, 3].map((n) => runtime.execute(increment(Uint8Array.of(n)))))
    assert.deepEqual(
      after.map((r) => r.status === 'ok' && r.output[0]),
      [2, 3, 4],
    )
  })

  it('aborts queued and running tasks through their signal', async () => {
    const controller = new AbortController()
    const running = [runtime.execute(spin, { signal: controller.signal }), runtime.execute(spin, { signal: controller.signal })]
    const queued = runtime.execute(spin, { signal: controller.signal })
    controller.abort()
    await Promise.all([...running, queued].map((p) => rejectsWith(p, 'EXEC_ABORTED')))
    await rejectsWith(runtime.execute(spin, { signal: controller.signal }), 'EXEC_ABORTED')
    assert.equal((await runtime.execute(increment(Uint8Array.of(1)))).status, 'ok')
  })

  it('rejects limits no node should have accepted', async () => {
    await assert.rejects(runtime.execute({ ...spin, limits: { ...limits, fuel: -1n } }), RangeError)
  })
})

describe('createWasmRuntime close()', () => {
  it('rejects running and queued tasks, and later calls', async () => {
    const runtime = createWasmRuntime({ threads: 1 })
    const tasks = [runtime.execute(spin), runtime.execute(spin), runtime.execute(increment(Uint8Array.of(1)))]
    const rejections = tasks.map((task) => rejectsWith(task, 'EXEC_CLOSED'))
    await runtime.close()
    await Promise.all(rejections)
    await rejectsWith(runtime.execute(increment(Uint8Array.of(1))), 'EXEC_CLOSED')
  })
})

describe('createWasmRuntime start()', () => {
  it('starts every worker before the first task, and a started pool still runs and closes normally', async () => {
    const runtime = createWasmRuntime({ threads: 2 })
    await runtime.start()
    await runtime.start() // already started: resolves at once
    const results = await Promise.all([runtime.execute(increment(Uint8Array.of(1))), runtime.execute(increment(Uint8Array.of(7)))])
    assert.deepEqual(results.map((r) => (r.status === 'ok' ? [...r.output] : r.status)), [[2], [8]])
    await runtime.close()
    await rejectsWith(runtime.start(), 'EXEC_CLOSED')
  })
})

describe('createWasmRuntime program bytes', () => {
  it('sends a program once per worker, and again when the worker has evicted it', async () => {
    // Outputs its input unchanged: a second program beside INCREMENT.
    const ECHO = program(`(i32.store (i32.const 0) (local.get $len))
  (memory.copy (i32.const 4) (local.get $ptr) (local.get $len))
  (i32.const 0)`)
    const echo = (input: Uint8Array): ExecutionRequest => ({ programId: '0x03', program: ECHO, input, limits })
    // One worker that keeps one compiled program: every switch of program evicts the other.
    const runtime = createWasmRuntime({ threads: 1, maxCachedModules: 1 })
    try {
      const outputs: number[][] = []
      for (const request of [increment(Uint8Array.of(1)), increment(Uint8Array.of(2)), echo(Uint8Array.of(3)), increment(Uint8Array.of(4)), echo(Uint8Array.of(5))]) {
        const result = await runtime.execute(request)
        outputs.push(result.status === 'ok' ? [...result.output] : [-1])
      }
      assert.deepEqual(outputs, [[2], [3], [3], [5], [5]])
    } finally {
      await runtime.close()
    }
  })
})
