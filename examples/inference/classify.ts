// Inference on a local network, step by step: five nodes on the in-memory transport, each with the
// onnx runtime; four hold the shipped classifier (models/classifier.onnx) and advertise it, one
// of them returns noisy probabilities. A requester signs one task per batch of 16 labelled test
// samples, with a tolerance in the spec; the nodes commit, reveal, compare and decide; the example
// fetches every verified result from its gateway and checks the predictions against the labels.
//
//   npx tsx examples/inference/classify.ts [tasks]        (default 20 tasks = 320 samples)
//
// `npx veritask devnet --inference` does the same with settlement on anvil (slashing included).
import { keccak256, stringToBytes } from 'viem'
import { createStaticChainView } from '../../src/chain/memory/createStaticChainView.ts'
import { contentId } from '../../src/core/contentId.ts'
import { devnetDomain, hashTaskSpec } from '../../src/core/eip712.ts'
import { DRAW_LEAD_BLOCKS } from '../../src/core/params.ts'
import { anchorAlone } from '../../src/core/taskAnchor.ts'
import { decodeTensor } from '../../src/core/tensor.ts'
import { requiredCapability, signTaskSpec } from '../../src/core/taskSpec.ts'
import type { Comparison, Hex, TaskSpec, Verdict } from '../../src/core/types.ts'
import { devnetAccount } from '../../src/devnet/accounts.ts'
import { withBehaviour, createPublicResults } from '../../src/devnet/adversaries.ts'
import { createOnnxRuntime } from '../../src/exec/onnx/createOnnxRuntime.ts'
import { createMemoryHub } from '../../src/net/memory/createMemoryHub.ts'
import { createNode } from '../../src/node/createNode.ts'
import { argmaxRows, classifierInput, classifierSamples, loadClassifierModel } from '../../src/programs/classifier.ts'

const TASKS = Number(process.argv[2] ?? 20)
const ROWS = 16
/** Probabilities may differ by 10⁻⁴ per element: far above float rounding, far below a wrong answer. */
const comparison: Comparison = { kind: 'maxError', absMicro: 100, relPpm: 0 }

const model = await loadClassifierModel()
const modelId = contentId(model)
const requester = devnetAccount('inference-example', 'requester')
const accounts = Array.from({ length: 5 }, (_, i) => devnetAccount('inference-example', 'node', i))
// Nodes 0–3 hold the model; node 4 runs wasm only, so sortition never seats it for these tasks.
const capability = requiredCapability({ runtime: 'onnx', program: modelId })
const chain = createStaticChainView({
  seed: keccak256(stringToBytes('inference-example/epoch-0')),
  nodes: accounts.map((a, i) => ({ address: a.address, weight: 1n, runtimes: i < 4 ? ['wasm', 'onnx', capability] : ['wasm'] })),
  escrow: new Map([[requester.address, 10n ** 18n]]),
})
const hub = createMemoryHub()
const onnx = createOnnxRuntime({ concurrency: 2 })
const noisy = withBehaviour(onnx, 'noisy', { seed: 'example', slowDelayMs: 0, offlineAfter: 0, publicResults: createPublicResults() })
const nodes = accounts.map((account, i) =>
  createNode({ account, network: hub.connect(`node-${i}`), chain, runtimes: i < 4 ? { onnx: i === 3 ? noisy : onnx } : {} }),
)
nodes.forEach((n) => n.start())

const samples = classifierSamples('test', TASKS * ROWS)
const decided = new Map<Hex, Verdict>()
const waiting = new Map<Hex, () => void>()
nodes[0]!.onVerdict((verdict) => {
  decided.set(verdict.taskId, verdict)
  waiting.get(verdict.taskId)?.()
})

let correct = 0
let verified = 0
const dissent = new Map<string, number>()
for (let t = 0; t < TASKS; t++) {
  const batch = samples.slice(t * ROWS, (t + 1) * ROWS)
  const input = classifierInput(batch)
  const spec: TaskSpec = {
    requester: requester.address,
    nonce: BigInt(t),
    runtime: 'onnx',
    program: modelId,
    input: contentId(input),
    limits: { fuel: BigInt(ROWS * 8), memoryPages: 1, outputBytes: 4_096 },
    policy: { kind: 'replicate', k: 3, quorum: 2 },
    comparison,
    fee: 10n ** 15n,
    epoch: 0n,
    drawBlock: chain.head() + DRAW_LEAD_BLOCKS,
    deadline: BigInt(Date.now() + 60_000),
  }
  // No chain here: the static view's draws and anchors are instant, so the id is anchored alone, with no transaction.
  const signed = anchorAlone(await signTaskSpec(requester, spec, devnetDomain), hashTaskSpec(spec, devnetDomain))
  const taskId = await nodes[0]!.submitTask(signed, [model, input])
  if (!decided.has(taskId)) await new Promise<void>((resolve) => waiting.set(taskId, resolve))
  const verdict = decided.get(taskId)!
  for (const d of verdict.dissenters) dissent.set(d, (dissent.get(d) ?? 0) + 1)
  if (verdict.outcome !== 'verified') continue
  verified++
  // The gateway serves the verified result; wait until it has fetched it if it did not compute it.
  let bytes = nodes[0]!.getBlob(verdict.resultHash)
  while (bytes === undefined) {
    await new Promise((resolve) => setImmediate(resolve))
    bytes = nodes[0]!.getBlob(verdict.resultHash)
  }
  const predicted = argmaxRows(decodeTensor(bytes).data)
  correct += predicted.filter((label, row) => label === batch[row]!.label).length
}

await Promise.all(nodes.map((n) => n.stop()))
await onnx.close()
console.log(`model ${modelId} (${model.length} bytes)`)
console.log(`${verified} of ${TASKS} tasks verified; ${correct} of ${TASKS * ROWS} samples classified as labelled (${((100 * correct) / (TASKS * ROWS)).toFixed(1)} %)`)
console.log(`dissenting reveals (out-voted; slashed at settlement): ${[...dissent].map(([a, n]) => `${a} ×${n}`).join(', ') || 'none'}`)
console.log(`noisy node: ${accounts[3]!.address}`)
process.exit(verified === TASKS && correct / (TASKS * ROWS) > 0.85 ? 0 : 1)
