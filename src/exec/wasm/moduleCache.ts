/**
 * A small least-recently-used cache of compiled programs. Keys combine the program id with the
 * memory cap, because the cap is written into the instrumented module. Rejections are cached too,
 * so a hostile module is parsed once, not once per task.
 */
import type { FailureReason } from '../runtime.ts'

export type CompiledProgram =
  | { ok: true; module: WebAssembly.Module }
  | { ok: false; reason: FailureReason; message: string }

export interface ModuleCache {
  get(key: string): CompiledProgram | undefined
  set(key: string, value: CompiledProgram): void
  readonly size: number
}

export function createModuleCache(capacity: number): ModuleCache {
  if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`invalid cache capacity: ${capacity}`)
  // A Map iterates in insertion order, so re-inserting on a hit keeps the oldest entry first.
  const entries = new Map<string, CompiledProgram>()
  return {
    get(key) {
      const value = entries.get(key)
      if (value !== undefined) {
        entries.delete(key)
        entries.set(key, value)
      }
      return value
    },
    set(key, value) {
      if (capacity === 0) return
      entries.delete(key)
      entries.set(key, value)
      if (entries.size > capacity) entries.delete(entries.keys().next().value as string)
    },
    get size() {
      return entries.size
    },
  }
}
