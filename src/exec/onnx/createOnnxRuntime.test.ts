import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { outputsAgree } from '../../core/comparison.ts'
import { contentId } from '../../core/contentId.ts'
import { ExecutionAbortedError } from '../../core/errors.ts'
import { decodeTensor, encodeTensor } from '../../core/tensor.ts'
import type { ExecutionLimits } from '../../ports/runtime.ts'
import { createOnnxRuntime } from './createOnnxRuntime.ts'
import { encodeOnnxModel } from './encodeOnnxModel.ts'

// y = softmax(relu(x·W + b)) for x of shape [batch, 2].
const W = [1, 0, 1, 0, 1, 1]
const B = [0, 0, 0.5]
const model = encodeOnnxModel({
  name: 'tiny',
  inputs: [{ name: 'x', dims: ['batch', 2] }],
  outputs: [{ name: 'y', dims: ['batch', 3] }],
  initializers: [
    { name: 'W', dims: [2, 3], data: Float32Array.from(W) },
    { name: 'b', dims: [3], data: Float32Array.from(B) },
  ],
  nodes: [
    { opType: 'Gemm', inputs: ['x', 'W', 'b'], outputs: ['h'] },
    { opType: 'Relu', inputs: ['h'], outputs: ['r'] },
    { opType: 'Softmax', inputs: ['r'], outputs: ['y'], attributes: [{ name: 'axis', int: -1 }] },
  ],
})

function reference(x: number[]): number[] {
  const h = [0, 1, 2].map((j) => Math.max(0, x[0]! * W[j]! + x[1]! * W[3 + j]! + B[j]!))
  const e = h.map(Math.exp)
  const sum = e.reduce((a, b) => a + b, 0)
  return e.map((v) => v / sum)
}

const limits: ExecutionLimits = { fuel: 1_000n, memoryPages: 1, outputBytes: 4_096 }
const batch = (rows: number[][]) => encodeTensor({ dims: [rows.length, rows[0]!.length], data: Float32Array.from(rows.flat()) })
const request = (input: Uint8Array, program = model, more: Partial<ExecutionLimits> = {}) => ({
  programId: contentId(program),
  program,
  input,
  limits: { ...limits, ...more },
})

describe('onnx runtime', () => {
  const runtime = createOnnxRuntime({ concurrency: 2 })
  after(() => runtime.close())

  it('runs a batch through the model and returns the output tensor', async () => {
    const rows = [[1, 2], [-3, 4], [0.5, -0.25]]
    const result = await runtime.execute(request(batch(rows)))
    assert.equal(result.status, 'ok')
    assert.equal(result.fuelUsed, 6n)
    const out = decodeTensor(result.status === 'ok' ? result.output : new Uint8Array())
    assert.deepEqual(out.dims, [3, 3])
    rows.forEach((row, i) => reference(row).forEach((p, j) => assert.ok(Math.abs(out.data[3 * i + j]! - p) < 1e-6)))
    // A second run comes from the cached session and gives the same bytes.
    const again = await runtime.execute(request(batch(rows)))
    assert.deepEqual(again, result)
  })

  it('fails deterministically on models it cannot serve', async () => {
    assert.deepEqual(await runtime.execute(request(batch([[1, 2]]), new Uint8Array([1, 2, 3]))), {
      status: 'failed',
      reason: 'invalid-model',
      fuelUsed: 0n,
    })
    const twoInputs = encodeOnnxModel({
      name: 'add',
      inputs: [{ name: 'a', dims: [1, 2] }, { name: 'b', dims: [1, 2] }],
      outputs: [{ name: 'y', dims: [1, 2] }],
      initializers: [],
      nodes: [{ opType: 'Add', inputs: ['a', 'b'], outputs: ['y'] }],
    })
    const result = await runtime.execute(request(batch([[1, 2]]), twoInputs))
    assert.equal(result.status === 'failed' && result.reason, 'invalid-model')
  })

  it('fails on inputs that are not a tensor or do not fit the model, and on limits', async () => {
    const reasonOf = async (input: Uint8Array, more: Partial<ExecutionLimits> = {}) => {
      const result = await runtime.execute(request(input, model, more))
      return result.status === 'failed' ? result.reason : 'ok'
    }
    assert.equal(await reasonOf(new Uint8Array([1, 2, 3])), 'invalid-input')
    assert.equal(await reasonOf(batch([[1, 2, 3]])), 'invalid-input')
    assert.equal(await reasonOf(encodeTensor({ dims: [2], data: Float32Array.from([1, 2]) })), 'invalid-input')
    // Fuel counts input elements: 4 fit a fuel of 4, not of 3.
    assert.equal(await reasonOf(batch([[1, 2], [3, 4]]), { fuel: 4n }), 'ok')
    assert.equal(await reasonOf(batch([[1, 2], [3, 4]]), { fuel: 3n }), 'out-of-fuel')
    // The output of two rows is 8 + 2·4 + 6·4 = 40 bytes.
    assert.equal(await reasonOf(batch([[1, 2], [3, 4]]), { outputBytes: 40 }), 'ok')
    assert.equal(await reasonOf(batch([[1, 2], [3, 4]]), { outputBytes: 39 }), 'output-limit')
  })

  it('answers on the CPU when the configured GPU provider is not installed, instead of failing the model', async () => {
    // This install skipped onnxruntime's CUDA libraries (.npmrc), so the cuda provider cannot load.
    const gpu = createOnnxRuntime({ executionProviders: ['cuda', 'cpu'] })
    try {
      const result = await gpu.execute(request(batch([[1, 2]])))
      const cpu = await runtime.execute(request(batch([[1, 2]])))
      assert.ok(result.status === 'ok' && cpu.status === 'ok')
      // Equal bytes on the CPU fallback; within float rounding where a GPU really ran it.
      assert.ok(outputsAgree({ kind: 'maxError', absMicro: 1, relPpm: 0 }, result.output, cpu.output))
    } finally {
      await gpu.close()
    }
  })

  it('abstains once closed', async () => {
    const closing = createOnnxRuntime()
    await closing.close()
    await assert.rejects(closing.execute(request(batch([[1, 2]]))), (e: unknown) => e instanceof ExecutionAbortedError && e.code === 'EXEC_CLOSED')
  })
})
