import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { stringToBytes } from 'viem'
import { contentId, failureResultHash } from '../src/core/contentId.ts'
import { createWasmRuntime } from '../src/exec/wasm/index.ts'
import { hashChainInput, hashChainReference, loadExampleProgram } from '../src/programs/index.ts'
import { createNetwork, signedSpec, submitAndDecide } from './helpers/network.ts'
import { abiProgram, wat } from './helpers/wat.ts'

// Hostile programs submitted to a network of nodes sharing one real WebAssembly pool: each must end
// as the same clean `failed` verdict on every node, and the network must keep verifying afterwards.

const wasm = createWasmRuntime({ threads: 2 })
after(() => wasm.close())

const hostile: Array<[name: string, program: Uint8Array, reason: string]> = [
  ['infinite loop', abiProgram('(loop $l (br $l)) (i32.const 0)'), 'out-of-fuel'],
  [
    'memory bomb',
    abiProgram('(block $done (loop $l (br_if $done (i32.eq (memory.grow (i32.const 16)) (i32.const -1))) (br $l))) (unreachable)'),
    'trap',
  ],
  ['huge initial memory', abiProgram('(i32.const 0)', '', '(memory (export "memory") 4096)'), 'memory-limit'],
  ['explicit trap', abiProgram('(unreachable)'), 'trap'],
  ['invalid bytes', stringToBytes('\0asm but not really a module'), 'invalid-module'],
  [
    'forbidden import',
    wat(`(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "alloc") (param i32) (result i32) i32.const 0)
      (func (export "run") (param i32 i32) (result i32) i32.const 0))`),
    'import-not-allowed',
  ],
  ['runaway recursion', abiProgram('(call $self) (i32.const 0)', '(func $self (call $self))'), 'trap'],
]

describe('hostile programs on a network of nodes', () => {
  it('end as the same `failed` verdict everywhere, and the nodes keep working', async () => {
    const net = await createNetwork({ runtimes: () => wasm })
    try {
      for (const [i, [name, program, reason]] of hostile.entries()) {
        const task = await signedSpec(i, { limits: { fuel: 5_000_000n, memoryPages: 64, outputBytes: 1024 } }, { program })
        const { verdicts } = await submitAndDecide(net, i % 5, task)
        for (const v of verdicts) {
          assert.equal(v.outcome, 'failed', name)
          assert.equal(v.resultHash, failureResultHash(reason), `${name} should fail as ${reason}`)
          assert.equal(v.executors.length, 3)
        }
      }
      // The same nodes verify a genuine task afterwards.
      const input = hashChainInput(new Uint8Array(32).fill(7), 100)
      const limits = { fuel: 10_000_000n, memoryPages: 16, outputBytes: 64 }
      const task = await signedSpec(100, { limits }, { program: await loadExampleProgram('hash-chain'), input })
      const { verdicts } = await submitAndDecide(net, 0, task)
      assert.equal(verdicts[0]!.outcome, 'verified')
      assert.equal(verdicts[0]!.resultHash, contentId(hashChainReference(input)))
    } finally {
      await net.stop()
    }
  })
})
