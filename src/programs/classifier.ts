/**
 * The example inference model shipped in models/: a small classifier (8 features → 16 ReLU units →
 * 4 classes, softmax), trained by scripts/build-model.ts on a synthetic data set that this module
 * generates from a seed. Generation and training use only integer operations and IEEE-754 `+ − × ÷`,
 * which ECMAScript pins exactly, so the data set and the model's bytes are the same on every
 * machine.
 */
import { readFile } from 'node:fs/promises'
import { packagePath } from '../packageFiles.ts'
import { encodeTensor } from '../core/tensor.ts'
import { createSeededRandom } from '../core/seededRandom.ts'

export const CLASSIFIER_FEATURES = 8
export const CLASSIFIER_HIDDEN = 16
export const CLASSIFIER_CLASSES = 4
/** Prototype centres per class: the classes are not linearly separable as a whole. */
const PROTOTYPES = 2
const NOISE = 1.2

export interface LabelledSample {
  features: number[]
  label: number
}


/** The class prototypes: fixed by the data set, not by the split. */
function prototypes(): number[][][] {
  const random = createSeededRandom(0x5eed)
  return Array.from({ length: CLASSIFIER_CLASSES }, () =>
    Array.from({ length: PROTOTYPES }, () => Array.from({ length: CLASSIFIER_FEATURES }, () => (random() * 2 - 1) * 1.5)),
  )
}

const SPLIT_SEEDS = { train: 1, test: 2 } as const

/**
 * `count` labelled samples of a split: a class in turn, one of its prototypes, plus noise that is
 * a sum of four uniforms (close to a normal distribution, and exact to compute).
 */
export function classifierSamples(split: keyof typeof SPLIT_SEEDS, count: number): LabelledSample[] {
  const centres = prototypes()
  const random = createSeededRandom(SPLIT_SEEDS[split] * 7919)
  return Array.from({ length: count }, (_, i) => {
    const label = i % CLASSIFIER_CLASSES
    const centre = centres[label]![Math.floor(random() * PROTOTYPES)]!
    const features = centre.map((c) => c + (random() + random() + random() + random() - 2) * NOISE)
    return { features: features.map(Math.fround), label }
  })
}

/** A batch of samples as the model's input tensor, `[rows, 8]` float32. */
export function classifierInput(samples: readonly LabelledSample[]): Uint8Array {
  return encodeTensor({ dims: [samples.length, CLASSIFIER_FEATURES], data: Float32Array.from(samples.flatMap((s) => s.features)) })
}

/** Index of the largest value in each row of `classes` columns (ties: the lower index). */
export function argmaxRows(data: ArrayLike<number>, classes = CLASSIFIER_CLASSES): number[] {
  const labels: number[] = []
  for (let start = 0; start < data.length; start += classes) {
    let best = 0
    for (let j = 1; j < classes; j++) if (data[start + j]! > data[start + best]!) best = j
    labels.push(best)
  }
  return labels
}

/** Absolute path of `models/classifier.onnx`. */
export function classifierModelPath(): string {
  return packagePath('models', 'classifier.onnx')
}

/** The shipped model's bytes (its content id is the model id). */
export async function loadClassifierModel(): Promise<Uint8Array> {
  return new Uint8Array(await readFile(classifierModelPath()))
}
