import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runDevnet } from '../src/devnet/runDevnet.ts'
import { loadClassifierModel } from '../src/programs/classifier.ts'
import { buildClassifierModel } from '../scripts/build-model.ts'
import type { DevnetReport } from '../src/devnet/runDevnet.ts'

// Inference on the devnet: the shipped classifier on the onnx runtime, batches of 16 labelled test
// samples per task, compared under maxError 10⁻⁴ (src/devnet/workload.ts), settled on anvil.

function byBehaviour(report: DevnetReport, behaviour: string) {
  return report.perNode.filter((n) => n.behaviour === behaviour)
}

describe('inference tasks on the devnet (onnx runtime, settled on anvil)', () => {
  it('verifies within the tolerance, out-votes and slashes a noisy node, and seats only nodes that hold the model', async () => {
    const report = await runDevnet({
      nodes: 7,
      k: 3,
      tasks: 24,
      epochTasks: 12,
      seed: 'inference-1',
      threads: 2,
      inference: true,
      // Node 6 does not hold the model; node 4 returns noisy probabilities, node 5 is honest on
      // "other hardware": its results differ by float rounding.
      modelHolders: 6,
      behaviours: ['honest', 'honest', 'honest', 'honest', 'noisy', 'jitter', 'honest'],
    })
    assert.equal(report.verified, 24, 'every task verified')
    assert.equal(report.correct, 24, 'every verified result is within the tolerance of a local run')
    assert.equal(report.wrongVerdicts, 0, 'no node verified a wrong result')
    assert.equal(report.agreement, true)
    assert.equal(report.settlement?.epochs, 2)
    // The data set's labels: the shipped model gets about 92 % of the test samples right.
    assert.equal(report.accuracy?.samples, 24 * 16)
    assert.ok(report.accuracy!.correct / report.accuracy!.samples > 0.85, `accuracy ${report.accuracy!.correct}/${report.accuracy!.samples}`)

    const [noisy] = byBehaviour(report, 'noisy')
    assert.ok(noisy!.dissented > 0, 'the noisy node was drawn and out-voted')
    assert.equal(noisy!.agreed, 0, 'noise of 0.01 is far outside a tolerance of 10⁻⁴')
    assert.ok(BigInt(noisy!.slashed) > 0n, 'and slashed')
    assert.ok(BigInt(noisy!.net) < 0n)

    const [jitter] = byBehaviour(report, 'jitter')
    assert.ok(jitter!.agreed > 0, 'results that differ by float rounding agree')
    assert.equal(jitter!.dissented, 0)
    assert.equal(jitter!.slashed, '0', 'an honest node on other hardware is never slashed')
    assert.ok(BigInt(jitter!.net) > 0n)

    const withoutModel = report.perNode[6]!
    assert.equal(withoutModel.executions, 0, 'a node that does not advertise the model is never seated')
    assert.equal(withoutModel.agreed + withoutModel.dissented, 0)
    for (const node of report.perNode.slice(0, 4)) assert.equal(node.slashed, '0')
  })
})

describe('the shipped model', () => {
  it('is exactly what scripts/build-model.ts trains and encodes, and classifies the test split well', async () => {
    const built = buildClassifierModel()
    assert.deepEqual(built.bytes, await loadClassifierModel())
    assert.ok(built.testAccuracy > 0.9, `test accuracy ${built.testAccuracy}`)
  })
})
