/**
 * `instrumentModule` checks an untrusted WebAssembly module against the program ABI and rewrites
 * it so that it cannot do anything a node could disagree about: it is metered with fuel, its stack
 * depth is bounded, its memory and tables are capped, and NaNs are canonical. It is a pure function
 * of the bytes and the memory limit, so every node with the same version of this file produces the
 * same module and reaches the same verdict on a bad one.
 *
 * The parser is written here (no binaryen) so that exactly the features it understands get
 * through; anything else is refused as 'invalid-module'.
 */
import type { FailureReason } from '../../ports/runtime.ts'
import {
  ABORT_IMPORT,
  ABORT_TYPE,
  AbiExport,
  ALLOC_TYPE,
  FUEL_EXPORT,
  MEMORY_IMPORT,
  RESERVED_EXPORT_PREFIX,
  RUN_TYPE,
  STACK_EXPORT,
  START_EXPORT,
} from './abi.ts'
import { ByteReader, ByteWriter, MalformedBinaryError } from './binary.ts'
import type { DecodeContext } from './instructions.ts'
import { createDecoded, decodeInstruction, Op } from './instructions.ts'
import type { MeteringContext, Snippets } from './meterFunction.ts'
import { createSnippets, meterFunction } from './meterFunction.ts'
import type { FuncType, ValType } from './moduleTypes.ts'
import { isRefType, isValType, ModuleRejectedError, sameValTypes, unsupported } from './moduleTypes.ts'

export interface InstrumentLimits {
  /** Linear memory cap in 64 KiB pages; the module's memory maximum is lowered to it. */
  memoryPages: number
  /** Largest module accepted, in bytes. */
  maxModuleBytes: number
}

/** Limits of the program's memory, which the instrumented module imports (see abi.ts). */
export interface MemoryLimits {
  initial: number
  maximum: number
}

export type InstrumentResult =
  | {
      ok: true
      bytes: Uint8Array
      memory: MemoryLimits
      /** Fuel charged before the program's first instruction, for what instantiation does on its behalf (`instantiationFuel`). */
      instantiationFuel: bigint
    }
  | { ok: false; reason: FailureReason; message: string }

/**
 * Stack budget in 8-byte slots shared by all frames of one execution (about 512 KiB of engine
 * stack). Function frame weights are computed in meterFunction.ts.
 */
export const STACK_BUDGET_SLOTS = 65_536
/** Tables are capped like memory, so `table.grow` cannot allocate without bound: each table's elements... */
export const MAX_TABLE_ELEMENTS = 65_536
/** ...the tables a module may declare (so at most 2^20 elements, 8 MiB of references, in all)... */
export const MAX_TABLES = 16
/** ...and their initial elements in all, which instantiation allocates before any fuel is spent. */
export const MAX_INITIAL_TABLE_ELEMENTS = 65_536
/** The largest memory a 32-bit WebAssembly memory can declare, in pages. */
const MAX_MEMORY_PAGES = 65_536

const SectionId = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const

/** Canonical section order of the output (tags are refused, custom sections dropped). */
const OUTPUT_ORDER = [
  SectionId.type,
  SectionId.import,
  SectionId.function,
  SectionId.table,
  SectionId.memory,
  SectionId.global,
  SectionId.export,
  SectionId.element,
  SectionId.dataCount,
  SectionId.code,
  SectionId.data,
]

const ExternKind = { func: 0, table: 1, memory: 2, global: 3 } as const

export function instrumentModule(bytes: Uint8Array, limits: InstrumentLimits): InstrumentResult {
  const result = instrumentAnyModule(bytes, limits, { abi: true })
  // With the ABI checked, the module has a memory.
  return result.ok ? { ...result, memory: result.memory as MemoryLimits } : result
}

export type InstrumentAnyResult =
  | { ok: true; bytes: Uint8Array; memory: MemoryLimits | undefined; instantiationFuel: bigint }
  | { ok: false; reason: FailureReason; message: string }

/**
 * The instrumenter itself. With `abi: false` it skips the program ABI's export checks, so that
 * modules without `alloc`, `run` or a memory (the conformance corpus) are metered exactly as
 * programs are; the import rule and every limit still apply. Programs go through `instrumentModule`.
 */
export function instrumentAnyModule(bytes: Uint8Array, limits: InstrumentLimits, options: { abi: boolean }): InstrumentAnyResult {
  if (bytes.length > limits.maxModuleBytes) {
    return {
      ok: false,
      reason: 'module-too-large',
      message: `module is ${bytes.length} bytes, the cap is ${limits.maxModuleBytes}`,
    }
  }
  if (!WebAssembly.validate(bytes)) {
    return { ok: false, reason: 'invalid-module', message: 'not a valid WebAssembly module' }
  }
  try {
    return { ok: true, ...rewrite(bytes, limits.memoryPages, options.abi) }
  } catch (error) {
    if (error instanceof ModuleRejectedError) return { ok: false, reason: error.reason, message: error.message }
    if (error instanceof MalformedBinaryError) return { ok: false, reason: 'invalid-module', message: error.message }
    throw error
  }
}

interface Export {
  name: string
  kind: number
  index: number
}

interface ParsedModule {
  sections: Map<number, Uint8Array>
  /** Initial elements of all tables. */
  tableElements: number
  types: FuncType[]
  /** Type index of each imported function (at most one: `env.abort`). */
  importTypeIndices: number[]
  funcTypeIndices: number[]
  globalCount: number
  exports: Export[]
  startFunc: number | undefined
  memory: MemoryLimits | undefined
}

/**
 * What instantiation does for a program before its first instruction runs, in fuel at the rates
 * the instructions pay: its initial memory (1,024 per page, like \`memory.grow\`), its tables' initial
 * elements and its element segments (1 per element; bounded here by the element section's bytes,
 * each element taking at least one), and its data segments (1 per 64 bytes, like \`memory.init\`;
 * bounded by the data section's bytes). A function of the module's bytes alone.
 */
function instantiationFuel(module: ParsedModule, memory: MemoryLimits | undefined): bigint {
  const elementBytes = module.sections.get(SectionId.element)?.length ?? 0
  const dataBytes = module.sections.get(SectionId.data)?.length ?? 0
  return BigInt(memory?.initial ?? 0) * 1_024n + BigInt(module.tableElements) + BigInt(elementBytes) + (BigInt(dataBytes) >> 6n)
}

function rewrite(
  bytes: Uint8Array,
  memoryPages: number,
  abi: boolean,
): { bytes: Uint8Array; memory: MemoryLimits | undefined; instantiationFuel: bigint } {
  const module = parseModule(bytes, memoryPages)
  if (abi) checkAbi(module)
  const memory = module.memory

  const fuelGlobal = module.globalCount // no imported globals: imports are restricted to one function
  const stackGlobal = fuelGlobal + 1
  const types = [...module.types]
  const allFuncTypes = [...module.importTypeIndices, ...module.funcTypeIndices]
  const ctx: MeteringContext = {
    types,
    funcType: (index) => funcTypeAt(types, allFuncTypes, index),
    blockTypeFor: (results) => encodeBlockType(types, results),
    memoryMaximum: memory?.maximum ?? 0,
  }
  const snippets = createSnippets(fuelGlobal, stackGlobal)

  const out = new Map(module.sections)
  const code = module.sections.get(SectionId.code)
  if (code !== undefined) out.set(SectionId.code, rewriteCode(code, module, ctx, snippets))
  if (memory !== undefined) {
    out.set(SectionId.import, appendMemoryImport(module.sections.get(SectionId.import), memory))
    out.delete(SectionId.memory)
  }
  out.set(SectionId.global, appendGlobals(module.sections.get(SectionId.global)))
  out.set(SectionId.export, appendExports(module, fuelGlobal, stackGlobal))
  // Appended types (wrapper block types) must be written after the code was rewritten.
  if (types.length > module.types.length) out.set(SectionId.type, encodeTypes(types))

  const w = new ByteWriter(bytes.length * 2 + 256)
  w.bytes(bytes.subarray(0, 8)) // magic and version
  for (const id of OUTPUT_ORDER) {
    const payload = out.get(id)
    if (payload === undefined) continue
    w.u8(id).u32(payload.length).bytes(payload)
  }
  return { bytes: w.finish(), memory, instantiationFuel: instantiationFuel(module, memory) }
}

function parseModule(bytes: Uint8Array, memoryPages: number): ParsedModule {
  const r = new ByteReader(bytes)
  const header = r.take(8)
  const expected = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]
  if (!expected.every((b, i) => header[i] === b)) throw new MalformedBinaryError('bad magic or version')

  const module: ParsedModule = {
    sections: new Map(),
    types: [],
    importTypeIndices: [],
    funcTypeIndices: [],
    globalCount: 0,
    exports: [],
    startFunc: undefined,
    memory: undefined,
    tableElements: 0,
  }
  while (!r.done) {
    const id = r.u8()
    const size = r.u32()
    const payload = r.take(size)
    if (id === SectionId.custom) continue // names, debug info, producers: dropped
    const s = new ByteReader(payload)
    switch (id) {
      case SectionId.type:
        module.types = readVec(s, () => readFuncType(s))
        break
      case SectionId.import:
        module.importTypeIndices = readVec(s, () => readImport(s, module.types))
        break
      case SectionId.function:
        module.funcTypeIndices = readVec(s, () => s.u32())
        break
      case SectionId.table: {
        const tables = rewriteTables(s)
        module.sections.set(id, tables.bytes)
        module.tableElements = tables.initialElements
        continue
      }
      case SectionId.memory:
        module.memory = readMemory(s, memoryPages)
        break
      case SectionId.global:
        module.globalCount = readVec(s, () => readGlobal(s, module)).length
        break
      case SectionId.export:
        module.exports = readVec(s, () => ({ name: s.name(), kind: s.u8(), index: s.u32() }))
        break
      case SectionId.start:
        // The start function runs when the module is instantiated, before the host could set the
        // fuel. It is exported instead, and the executor calls it once fuel is set.
        module.startFunc = s.u32()
        continue
      case SectionId.tag:
        throw unsupported('exception handling (tag section)')
      case SectionId.element:
      case SectionId.code:
      case SectionId.data:
      case SectionId.dataCount:
        module.sections.set(id, payload)
        continue
      default:
        throw new MalformedBinaryError(`unknown section ${id}`)
    }
    if (!s.done) throw new MalformedBinaryError(`section ${id} has trailing bytes`)
    module.sections.set(id, payload)
  }
  return module
}

function readVec<T>(r: ByteReader, readItem: () => T): T[] {
  const count = r.u32()
  const items: T[] = []
  for (let i = 0; i < count; i++) items.push(readItem())
  return items
}

function readValType(r: ByteReader): ValType {
  const byte = r.u8()
  if (byte === 0x7b) throw unsupported('SIMD (v128 value type)')
  if (!isValType(byte)) throw unsupported(`value type 0x${byte.toString(16)}`)
  return byte
}

function readFuncType(r: ByteReader): FuncType {
  const form = r.u8()
  if (form !== 0x60) throw unsupported(`type form 0x${form.toString(16)}`)
  return { params: readVec(r, () => readValType(r)), results: readVec(r, () => readValType(r)) }
}

/** Returns the type index of the one permitted import; refuses everything else. */
function readImport(r: ByteReader, types: readonly FuncType[]): number {
  const module = r.name()
  const name = r.name()
  const kind = r.u8()
  const what = `${module}.${name}`
  if (module !== ABORT_IMPORT.module || name !== ABORT_IMPORT.name || kind !== ExternKind.func) {
    throw new ModuleRejectedError('import-not-allowed', `import ${what} is not part of the program ABI`)
  }
  const typeIndex = r.u32()
  const type = types[typeIndex]
  if (type === undefined || !sameType(type, ABORT_TYPE)) {
    throw new ModuleRejectedError('import-not-allowed', `import ${what} must have type (i32 i32 i32 i32) -> ()`)
  }
  return typeIndex
}

interface Limits {
  min: number
  max: number | undefined
}

function readLimits(r: ByteReader, what: 'memory' | 'table'): Limits {
  const flags = r.u8()
  if (flags === 0x02 || flags === 0x03) throw unsupported(`shared ${what} (threads)`)
  if (flags >= 0x04 && flags <= 0x07) throw unsupported(`64-bit ${what} (memory64)`)
  if (flags > 0x01) throw unsupported(`${what} limits flags 0x${flags.toString(16)}`)
  const min = r.u32()
  return { min, max: flags === 0x01 ? r.u32() : undefined }
}

function writeLimits(w: ByteWriter, limits: { min: number; max: number }): void {
  w.u8(0x01).u32(limits.min).u32(limits.max)
}

/**
 * Lowers (or adds) each table's maximum to MAX_TABLE_ELEMENTS, and refuses more than MAX_TABLES
 * tables or more than MAX_INITIAL_TABLE_ELEMENTS initial elements in all.
 */
function rewriteTables(r: ByteReader): { bytes: Uint8Array; initialElements: number } {
  const count = r.u32()
  if (count > MAX_TABLES) throw new ModuleRejectedError('memory-limit', `module declares ${count} tables, the cap is ${MAX_TABLES}`)
  const tables = Array.from({ length: count }, () => {
    const refType = r.u8()
    if (!isRefType(refType)) throw unsupported(`table of type 0x${refType.toString(16)}`)
    return { refType, limits: readLimits(r, 'table') }
  })
  if (!r.done) throw new MalformedBinaryError('table section has trailing bytes')
  const initialElements = tables.reduce((sum, t) => sum + t.limits.min, 0)
  if (initialElements > MAX_INITIAL_TABLE_ELEMENTS) {
    throw new ModuleRejectedError('memory-limit', `tables declare ${initialElements} initial elements in all, the cap is ${MAX_INITIAL_TABLE_ELEMENTS}`)
  }
  const w = new ByteWriter(16).u32(tables.length)
  for (const { refType, limits } of tables) {
    if (limits.min > MAX_TABLE_ELEMENTS) {
      throw new ModuleRejectedError(
        'memory-limit',
        `table declares ${limits.min} initial elements, the cap is ${MAX_TABLE_ELEMENTS}`,
      )
    }
    w.u8(refType)
    writeLimits(w, { min: limits.min, max: Math.min(limits.max ?? MAX_TABLE_ELEMENTS, MAX_TABLE_ELEMENTS) })
  }
  return { bytes: w.finish(), initialElements }
}

/**
 * Lowers (or adds) the memory's maximum to the task's limit, so `memory.grow` beyond it returns
 * -1 at the same point everywhere, and refuses an initial size above the limit.
 */
function readMemory(r: ByteReader, memoryPages: number): MemoryLimits | undefined {
  const memories = readVec(r, () => readLimits(r, 'memory'))
  if (memories.length > 1) throw unsupported('multiple memories')
  const memory = memories[0]
  if (memory === undefined) return undefined
  if (memory.min > memoryPages) {
    throw new ModuleRejectedError(
      'memory-limit',
      `module declares ${memory.min} initial memory pages, the task allows ${memoryPages}`,
    )
  }
  const cap = Math.min(memoryPages, MAX_MEMORY_PAGES)
  return { initial: memory.min, maximum: Math.min(memory.max ?? cap, cap) }
}

/**
 * Replaces the defined memory by an import with the same (capped) limits. Memory index 0 and all
 * other index spaces stay as they were: an imported memory takes the place of the only memory.
 */
function appendMemoryImport(section: Uint8Array | undefined, memory: MemoryLimits): Uint8Array {
  const r = new ByteReader(section ?? Uint8Array.of(0))
  const count = r.u32()
  const w = new ByteWriter((section?.length ?? 0) + 32).u32(count + 1).bytes(r.bytes.subarray(r.pos))
  w.name(MEMORY_IMPORT.module).name(MEMORY_IMPORT.name).u8(ExternKind.memory)
  writeLimits(w, { min: memory.initial, max: memory.maximum })
  return w.finish()
}

/** Reads a global's type and skips its constant initialiser (decoding it rejects SIMD). */
function readGlobal(r: ByteReader, module: ParsedModule): void {
  readValType(r)
  r.u8() // mutability
  // Constant expressions contain no calls, so the function types are never needed.
  const ctx: DecodeContext = {
    types: module.types,
    funcType: () => {
      throw new ModuleRejectedError('invalid-module', 'call in a constant expression')
    },
  }
  const d = createDecoded()
  do decodeInstruction(r, ctx, d)
  while (d.op !== Op.end)
}

function funcTypeAt(types: readonly FuncType[], funcTypeIndices: readonly number[], index: number): FuncType {
  const typeIndex = funcTypeIndices[index]
  const type = typeIndex === undefined ? undefined : types[typeIndex]
  if (type === undefined) throw new ModuleRejectedError('invalid-module', `function index ${index} out of range`)
  return type
}

function sameType(a: FuncType, b: FuncType): boolean {
  return sameValTypes(a.params, b.params) && sameValTypes(a.results, b.results)
}

function checkAbi(module: ParsedModule): void {
  const byName = new Map(module.exports.map((e) => [e.name, e]))
  const violation = (message: string) => new ModuleRejectedError('abi-violation', message)
  for (const { name } of module.exports) {
    if (name.startsWith(RESERVED_EXPORT_PREFIX)) throw violation(`export name ${name} is reserved for the runtime`)
  }
  const memory = byName.get(AbiExport.memory)
  if (memory?.kind !== ExternKind.memory) throw violation(`missing memory export '${AbiExport.memory}'`)
  const allFuncTypes = [...module.importTypeIndices, ...module.funcTypeIndices]
  for (const [name, type] of [
    [AbiExport.alloc, ALLOC_TYPE],
    [AbiExport.run, RUN_TYPE],
  ] as const) {
    const e = byName.get(name)
    if (e?.kind !== ExternKind.func) throw violation(`missing function export '${name}'`)
    if (!sameType(funcTypeAt(module.types, allFuncTypes, e.index), type)) {
      throw violation(`export '${name}' has the wrong type`)
    }
  }
}

function rewriteCode(code: Uint8Array, module: ParsedModule, ctx: MeteringContext, snippets: Snippets): Uint8Array {
  const r = new ByteReader(code)
  const count = r.u32()
  if (count !== module.funcTypeIndices.length) throw new MalformedBinaryError('function and code counts differ')
  const imported = module.importTypeIndices.length
  const w = new ByteWriter(code.length * 2 + 64).u32(count)
  for (let i = 0; i < count; i++) {
    const body = r.take(r.u32())
    const metered = meterFunction(body, ctx.funcType(imported + i), ctx, snippets)
    w.u32(metered.length).bytes(metered)
  }
  if (!r.done) throw new MalformedBinaryError('code section has trailing bytes')
  return w.finish()
}

/** The block type of a block with no parameters and `results`, adding a type if needed. */
function encodeBlockType(types: FuncType[], results: readonly ValType[]): Uint8Array {
  if (results.length === 0) return Uint8Array.of(0x40)
  if (results.length === 1) return Uint8Array.of(results[0] as number)
  let index = types.findIndex((t) => t.params.length === 0 && sameValTypes(t.results, results))
  if (index < 0) index = types.push({ params: [], results }) - 1
  return new ByteWriter(8).sleb(index).finish()
}

function encodeTypes(types: readonly FuncType[]): Uint8Array {
  const w = new ByteWriter(types.length * 8).u32(types.length)
  for (const { params, results } of types) {
    w.u8(0x60).u32(params.length)
    for (const p of params) w.u8(p)
    w.u32(results.length)
    for (const t of results) w.u8(t)
  }
  return w.finish()
}

/** Appends the fuel (exported, set by the host) and stack-budget globals after the existing ones. */
function appendGlobals(section: Uint8Array | undefined): Uint8Array {
  const r = new ByteReader(section ?? Uint8Array.of(0))
  const count = r.u32()
  return new ByteWriter((section?.length ?? 0) + 16)
    .u32(count + 2)
    .bytes(r.bytes.subarray(r.pos))
    .u8(0x7e).u8(0x01).u8(Op.i64Const).u8(0).u8(Op.end) // fuel: mut i64 = 0 until the host sets it
    .u8(0x7f).u8(0x01).u8(Op.i32Const).sleb(STACK_BUDGET_SLOTS).u8(Op.end) // stack budget: mut i32
    .finish()
}

function appendExports(module: ParsedModule, fuelGlobal: number, stackGlobal: number): Uint8Array {
  const exports: Export[] = [
    ...module.exports,
    { name: FUEL_EXPORT, kind: ExternKind.global, index: fuelGlobal },
    { name: STACK_EXPORT, kind: ExternKind.global, index: stackGlobal },
  ]
  if (module.startFunc !== undefined) exports.push({ name: START_EXPORT, kind: ExternKind.func, index: module.startFunc })
  const w = new ByteWriter(64).u32(exports.length)
  for (const e of exports) w.name(e.name).u8(e.kind).u32(e.index)
  return w.finish()
}
