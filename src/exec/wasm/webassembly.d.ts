/**
 * The part of the WebAssembly JS API this package uses. The project compiles against lib ES2023
 * and @types/node 20, neither of which declares it (lib.dom does, but nothing here is a browser).
 * Remove this file if a dependency starts declaring the namespace.
 */
declare namespace WebAssembly {
  type BufferSource = ArrayBufferView | ArrayBuffer
  type ImportValue = ExportValue | number | bigint
  type ExportValue = ((...args: never[]) => unknown) | Global | Memory | Table
  type Imports = Record<string, Record<string, ImportValue>>
  type Exports = Record<string, ExportValue>

  function validate(bytes: BufferSource): boolean

  class Module {
    constructor(bytes: BufferSource)
  }

  class Instance {
    constructor(module: Module, imports?: Imports)
    readonly exports: Exports
  }

  interface MemoryDescriptor {
    initial: number
    maximum?: number
  }

  class Memory {
    constructor(descriptor: MemoryDescriptor)
    readonly buffer: ArrayBuffer
    grow(delta: number): number
  }

  class Global {
    value: unknown
  }

  class Table {
    readonly length: number
  }

  class CompileError extends Error {}
  class LinkError extends Error {}
  class RuntimeError extends Error {}
}
