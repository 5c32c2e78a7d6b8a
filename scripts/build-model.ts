// Trains the example classifier and writes it as ONNX to models/classifier.onnx.
// Usage: npx tsx scripts/build-model.ts [--check]
//   --check  build in memory and exit 1 if the bytes differ from the committed model
//
// Training is plain stochastic gradient descent in TypeScript (squared error on the logits against
// scaled one-hot targets, so no exp/log is needed): only IEEE-754 + − × ÷ and max, which ECMAScript
// pins exactly, so every machine builds the same bytes and the model id never drifts.
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { contentId } from '../src/core/contentId.ts'
import { encodeOnnxModel } from '../src/exec/onnx/encodeOnnxModel.ts'
import {
  argmaxRows,
  CLASSIFIER_CLASSES,
  CLASSIFIER_FEATURES,
  CLASSIFIER_HIDDEN,
  classifierModelPath,
  classifierSamples,
} from '../src/programs/classifier.ts'
import { createSeededRandom } from '../src/core/seededRandom.ts'
import type { LabelledSample } from '../src/programs/classifier.ts'

const TRAIN_SAMPLES = 2_000
const TEST_SAMPLES = 1_000
const EPOCHS = 30
const LEARNING_RATE = 0.004
/** The logit the true class is trained towards (the others towards 0): softmax then gives ≈ 0.98. */
const TARGET = 5

export interface ClassifierWeights {
  /** [features][hidden], [hidden], [hidden][classes], [classes] */
  w1: number[][]
  b1: number[]
  w2: number[][]
  b2: number[]
}

function forward(weights: ClassifierWeights, x: readonly number[]) {
  const pre = weights.b1.map((b, j) => x.reduce((sum, xi, i) => sum + xi * weights.w1[i]![j]!, b))
  const hidden = pre.map((v) => Math.max(0, v))
  const logits = weights.b2.map((b, c) => hidden.reduce((sum, h, j) => sum + h * weights.w2[j]![c]!, b))
  return { pre, hidden, logits }
}

export function trainClassifier(samples: readonly LabelledSample[]): ClassifierWeights {
  const random = createSeededRandom(42)
  const uniform = (scale: number) => (random() * 2 - 1) * scale
  const weights: ClassifierWeights = {
    w1: Array.from({ length: CLASSIFIER_FEATURES }, () => Array.from({ length: CLASSIFIER_HIDDEN }, () => uniform(0.5))),
    b1: Array<number>(CLASSIFIER_HIDDEN).fill(0),
    w2: Array.from({ length: CLASSIFIER_HIDDEN }, () => Array.from({ length: CLASSIFIER_CLASSES }, () => uniform(0.35))),
    b2: Array<number>(CLASSIFIER_CLASSES).fill(0),
  }
  const order = samples.map((_, i) => i)
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[order[i], order[j]] = [order[j]!, order[i]!]
    }
    for (const index of order) {
      const { features: x, label } = samples[index]!
      const { pre, hidden, logits } = forward(weights, x)
      const dz = logits.map((z, c) => z - (c === label ? TARGET : 0))
      const dh = hidden.map((_, j) => (pre[j]! > 0 ? dz.reduce((sum, d, c) => sum + d * weights.w2[j]![c]!, 0) : 0))
      for (let j = 0; j < CLASSIFIER_HIDDEN; j++) {
        for (let c = 0; c < CLASSIFIER_CLASSES; c++) weights.w2[j]![c]! -= LEARNING_RATE * hidden[j]! * dz[c]!
      }
      for (let c = 0; c < CLASSIFIER_CLASSES; c++) weights.b2[c]! -= LEARNING_RATE * dz[c]!
      for (let i = 0; i < CLASSIFIER_FEATURES; i++) {
        for (let j = 0; j < CLASSIFIER_HIDDEN; j++) weights.w1[i]![j]! -= LEARNING_RATE * x[i]! * dh[j]!
      }
      for (let j = 0; j < CLASSIFIER_HIDDEN; j++) weights.b1[j]! -= LEARNING_RATE * dh[j]!
    }
  }
  return weights
}

/** Share of samples whose largest logit is their label (the model's softmax keeps the argmax). */
export function accuracy(weights: ClassifierWeights, samples: readonly LabelledSample[]): number {
  const right = samples.filter((s) => argmaxRows(forward(weights, s.features).logits)[0] === s.label).length
  return right / samples.length
}

/** The ONNX graph: Gemm → Relu → Gemm → Softmax, input `features` [batch, 8], output `probabilities` [batch, 4]. */
export function encodeClassifier(weights: ClassifierWeights): Uint8Array {
  const f32 = (rows: number[][] | number[]) => Float32Array.from((rows as number[][]).flat())
  return encodeOnnxModel(
    {
      name: 'veritask-classifier',
      inputs: [{ name: 'features', dims: ['batch', CLASSIFIER_FEATURES] }],
      outputs: [{ name: 'probabilities', dims: ['batch', CLASSIFIER_CLASSES] }],
      initializers: [
        { name: 'w1', dims: [CLASSIFIER_FEATURES, CLASSIFIER_HIDDEN], data: f32(weights.w1) },
        { name: 'b1', dims: [CLASSIFIER_HIDDEN], data: f32(weights.b1) },
        { name: 'w2', dims: [CLASSIFIER_HIDDEN, CLASSIFIER_CLASSES], data: f32(weights.w2) },
        { name: 'b2', dims: [CLASSIFIER_CLASSES], data: f32(weights.b2) },
      ],
      nodes: [
        { opType: 'Gemm', inputs: ['features', 'w1', 'b1'], outputs: ['hidden_pre'], name: 'dense1' },
        { opType: 'Relu', inputs: ['hidden_pre'], outputs: ['hidden'], name: 'relu1' },
        { opType: 'Gemm', inputs: ['hidden', 'w2', 'b2'], outputs: ['logits'], name: 'dense2' },
        { opType: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], name: 'softmax', attributes: [{ name: 'axis', int: -1 }] },
      ],
    },
    { docString: 'veritask example classifier: 8 features, 4 classes; built by scripts/build-model.ts' },
  )
}

/** Trains and encodes the shipped model; the same bytes on every run. */
export function buildClassifierModel(): { bytes: Uint8Array; trainAccuracy: number; testAccuracy: number } {
  const train = classifierSamples('train', TRAIN_SAMPLES)
  const weights = trainClassifier(train)
  return {
    bytes: encodeClassifier(weights),
    trainAccuracy: accuracy(weights, train),
    testAccuracy: accuracy(weights, classifierSamples('test', TEST_SAMPLES)),
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const check = process.argv.includes('--check')
  const { bytes, trainAccuracy, testAccuracy } = buildClassifierModel()
  const path = classifierModelPath()
  const summary = `${bytes.length} bytes, model id ${contentId(bytes)}, accuracy train ${(trainAccuracy * 100).toFixed(1)} % / test ${(testAccuracy * 100).toFixed(1)} %`
  if (check) {
    let committed: Uint8Array | undefined
    try {
      committed = new Uint8Array(readFileSync(path))
    } catch {
      committed = undefined
    }
    const same = committed !== undefined && Buffer.compare(Buffer.from(committed), Buffer.from(bytes)) === 0
    console.log(`${fileURLToPath(new URL('../models/classifier.onnx', import.meta.url))}: ${same ? 'reproduced' : 'DIFFERS from the build'} (${summary})`)
    process.exit(same ? 0 : 1)
  }
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, bytes)
  renameSync(temporary, path)
  console.log(`models/classifier.onnx  ${summary}`)
}
