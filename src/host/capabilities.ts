import { contentId } from '../core/contentId.ts'
import type { Hex } from '../core/types.ts'
import type { Runtime } from '../ports/runtime.ts'

/**
 * What a node advertises on-chain (`StakeManager.advertiseCapabilities`), from the runtimes it
 * runs and the models it holds: each runtime by name, and `onnx:<model id>` for every model, as
 * `requiredCapability` names an inference task's need. Sorted, so the same node always
 * advertises the same list.
 */
export function capabilitiesOf(runtimes: Readonly<Record<string, Runtime>>, models: readonly Uint8Array[] = []): string[] {
  const names = new Set(Object.keys(runtimes))
  if (names.has('onnx')) for (const model of models) names.add(`onnx:${modelId(model)}`)
  return [...names].sort()
}

/** A model's id: the content id of its bytes, the `program` an inference spec names. */
export const modelId = (model: Uint8Array): Hex => contentId(model).toLowerCase() as Hex
