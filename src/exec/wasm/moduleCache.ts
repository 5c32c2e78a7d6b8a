/**
 * A small least-recently-used cache. The executor keeps compiled programs in it, keyed by program
 * id and memory cap (the cap is written into the instrumented module).
 */
export interface ModuleCache<T> {
  get(key: string): T | undefined
  set(key: string, value: T): void
  readonly size: number
}

export function createModuleCache<T>(capacity: number): ModuleCache<T> {
  if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`invalid cache capacity: ${capacity}`)
  // A Map iterates in insertion order, so re-inserting on a hit keeps the oldest entry first.
  const entries = new Map<string, T>()
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
