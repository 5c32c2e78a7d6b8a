/**
 * Decoding of single instructions: how long each one is (its immediates), how many operands it
 * pops and pushes, and whether it is control flow. The accepted set is the MVP plus
 * sign-extension, saturating truncation, bulk memory, reference types and multi-value. Any other
 * opcode — SIMD (0xfd), threads (0xfe), exceptions, tail calls, GC, multi-memory encodings — is
 * refused as 'invalid-module', so a module the instrumenter does not fully understand never runs.
 */
import type { ByteReader } from './binary.ts'
import type { FuncType } from './moduleTypes.ts'
import { isRefType, isValType, ModuleRejectedError, unsupported } from './moduleTypes.ts'

export const Op = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  brTable: 0x0e,
  return: 0x0f,
  call: 0x10,
  callIndirect: 0x11,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  globalGet: 0x23,
  globalSet: 0x24,
  memorySize: 0x3f,
  memoryGrow: 0x40,
  i32Const: 0x41,
  i64Const: 0x42,
  f32Const: 0x43,
  f64Const: 0x44,
  i32LtS: 0x48,
  i32LeU: 0x4d,
  f32Eq: 0x5b,
  f64Eq: 0x61,
  i64LtS: 0x53,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Shl: 0x86,
  i64ShrU: 0x88,
  i64ExtendI32U: 0xad,
  select: 0x1b,
  /** Prefix of saturating truncation and bulk-memory instructions; `op` is `0xfc00 | sub`. */
  prefixFC: 0xfc,
} as const

/** Sub-opcodes of the 0xfc prefix, as `0xfc00 | sub`. */
export const OpFC = {
  memoryInit: 0xfc08,
  memoryCopy: 0xfc0a,
  memoryFill: 0xfc0b,
  tableInit: 0xfc0c,
  tableCopy: 0xfc0e,
  tableGrow: 0xfc0f,
  tableFill: 0xfc11,
} as const

/** What the decoder learns about one instruction. Reused between calls to avoid allocation. */
export interface Decoded {
  op: number
  pops: number
  pushes: number
  /** Parameter and result counts of a block/loop/if's block type. */
  blockParams: number
  blockResults: number
}

export interface DecodeContext {
  types: readonly FuncType[]
  /** The type of function `index` in the function index space (imports first). */
  funcType(index: number): FuncType
}

export function createDecoded(): Decoded {
  return { op: 0, pops: 0, pushes: 0, blockParams: 0, blockResults: 0 }
}

function typeAt(ctx: DecodeContext, index: number): FuncType {
  const type = ctx.types[index]
  if (type === undefined) throw new ModuleRejectedError('invalid-module', `type index ${index} out of range`)
  return type
}

function readBlockType(r: ByteReader, ctx: DecodeContext, out: Decoded): void {
  const first = r.bytes[r.pos]
  if (first === 0x40) {
    r.pos++
    out.blockParams = 0
    out.blockResults = 0
  } else if (first !== undefined && isValType(first)) {
    r.pos++
    out.blockParams = 0
    out.blockResults = 1
  } else if (first === 0x7b) {
    throw unsupported('SIMD (v128 block type)')
  } else {
    const index = r.sleb(33)
    if (index < 0) throw unsupported(`block type 0x${(index & 0x7f).toString(16)}`)
    const type = typeAt(ctx, index)
    out.blockParams = type.params.length
    out.blockResults = type.results.length
  }
}

function readMemArg(r: ByteReader): void {
  const align = r.u32()
  // Bit 6 of the alignment field announces a memory index (multi-memory proposal).
  if (align >= 0x40) throw unsupported('multiple memories (memarg with memory index)')
  r.u32() // offset; memory64 is refused, so offsets are u32
}

function readZeroByte(r: ByteReader, what: string): void {
  if (r.u8() !== 0x00) throw unsupported(`${what} with a non-zero memory index`)
}

function set(out: Decoded, pops: number, pushes: number): void {
  out.pops = pops
  out.pushes = pushes
}

/**
 * Decodes the instruction at `r.pos`, advancing past it. Stack effects of control instructions
 * whose effect depends on the control stack (end, else, br, br_table, return, unreachable) are
 * left as zero; the caller tracks those.
 */
export function decodeInstruction(r: ByteReader, ctx: DecodeContext, out: Decoded): void {
  const op = r.u8()
  out.op = op
  out.pops = 0
  out.pushes = 0
  if (op <= 0x11) return decodeControl(op, r, ctx, out)
  if (op >= 0x45 && op <= 0xc4) return decodeNumeric(op, out)
  if (op >= 0x28 && op <= 0x3e) {
    readMemArg(r)
    return op <= 0x35 ? set(out, 1, 1) : set(out, 2, 0) // loads, then stores
  }
  switch (op) {
    case 0x1a: // drop
      return set(out, 1, 0)
    case 0x1b: // select
      return set(out, 3, 1)
    case 0x1c: {
      // select t*: exactly one value type
      if (r.u32() !== 1) throw new ModuleRejectedError('invalid-module', 'typed select needs one type')
      const type = r.u8()
      if (type === 0x7b) throw unsupported('SIMD (v128 select)')
      if (!isValType(type)) throw unsupported(`value type 0x${type.toString(16)}`)
      return set(out, 3, 1)
    }
    case Op.localGet:
    case Op.globalGet:
      r.u32()
      return set(out, 0, 1)
    case Op.localSet:
    case Op.globalSet:
      r.u32()
      return set(out, 1, 0)
    case Op.localTee:
      r.u32()
      return set(out, 1, 1)
    case 0x25: // table.get
      r.u32()
      return set(out, 1, 1)
    case 0x26: // table.set
      r.u32()
      return set(out, 2, 0)
    case 0x3f: // memory.size
      readZeroByte(r, 'memory.size')
      return set(out, 0, 1)
    case 0x40: // memory.grow
      readZeroByte(r, 'memory.grow')
      return set(out, 1, 1)
    case Op.i32Const:
      r.skipSleb(32)
      return set(out, 0, 1)
    case Op.i64Const:
      r.skipSleb(64)
      return set(out, 0, 1)
    case Op.f32Const:
      r.skip(4)
      return set(out, 0, 1)
    case Op.f64Const:
      r.skip(8)
      return set(out, 0, 1)
    case 0xd0: {
      // ref.null t
      const type = r.u8()
      if (!isRefType(type)) throw unsupported(`reference type 0x${type.toString(16)}`)
      return set(out, 0, 1)
    }
    case 0xd1: // ref.is_null
      return set(out, 1, 1)
    case 0xd2: // ref.func
      r.u32()
      return set(out, 0, 1)
    case Op.prefixFC:
      return decodePrefixFC(r, out)
    case 0xfd:
      throw unsupported('SIMD (0xfd prefix)')
    case 0xfe:
      throw unsupported('threads/atomics (0xfe prefix)')
    default:
      throw unsupported(`opcode 0x${op.toString(16)}`)
  }
}

function decodeControl(op: number, r: ByteReader, ctx: DecodeContext, out: Decoded): void {
  switch (op) {
    case Op.unreachable:
    case 0x01: // nop
    case Op.else:
    case Op.end:
    case Op.return:
      return
    case Op.block:
    case Op.loop:
      return readBlockType(r, ctx, out)
    case Op.if:
      return readBlockType(r, ctx, out)
    case Op.br:
      r.u32()
      return
    case Op.brIf:
      r.u32()
      return set(out, 1, 0)
    case Op.brTable: {
      const count = r.u32()
      for (let i = 0; i <= count; i++) r.u32() // the targets plus the default
      return
    }
    case Op.call: {
      const type = ctx.funcType(r.u32())
      return set(out, type.params.length, type.results.length)
    }
    case Op.callIndirect: {
      const type = typeAt(ctx, r.u32())
      r.u32() // table index
      return set(out, type.params.length + 1, type.results.length)
    }
    default:
      // 0x06–0x0a: exception handling
      throw unsupported(`exception handling (opcode 0x${op.toString(16)})`)
  }
}

function decodeNumeric(op: number, out: Decoded): void {
  // Test (eqz) and unary ops take one operand, comparisons and binary ops two; all push one.
  const unary =
    op === 0x45 || // i32.eqz
    op === 0x50 || // i64.eqz
    (op >= 0x67 && op <= 0x69) || // i32 clz ctz popcnt
    (op >= 0x79 && op <= 0x7b) || // i64 clz ctz popcnt
    (op >= 0x8b && op <= 0x91) || // f32 abs … sqrt
    (op >= 0x99 && op <= 0x9f) || // f64 abs … sqrt
    op >= 0xa7 // conversions, reinterpretations, sign extension
  set(out, unary ? 1 : 2, 1)
}

function decodePrefixFC(r: ByteReader, out: Decoded): void {
  const sub = r.u32()
  out.op = 0xfc00 | sub
  if (sub <= 7) return set(out, 1, 1) // saturating truncation
  switch (sub) {
    case 8: // memory.init data 0
      r.u32()
      readZeroByte(r, 'memory.init')
      return set(out, 3, 0)
    case 9: // data.drop
      r.u32()
      return set(out, 0, 0)
    case 10: // memory.copy 0 0
      readZeroByte(r, 'memory.copy')
      readZeroByte(r, 'memory.copy')
      return set(out, 3, 0)
    case 11: // memory.fill 0
      readZeroByte(r, 'memory.fill')
      return set(out, 3, 0)
    case 12: // table.init elem table
      r.u32()
      r.u32()
      return set(out, 3, 0)
    case 13: // elem.drop
      r.u32()
      return set(out, 0, 0)
    case 14: // table.copy dst src
      r.u32()
      r.u32()
      return set(out, 3, 0)
    case 15: // table.grow
      r.u32()
      return set(out, 2, 1)
    case 16: // table.size
      r.u32()
      return set(out, 0, 1)
    case 17: // table.fill
      r.u32()
      return set(out, 3, 0)
    default:
      throw unsupported(`opcode 0xfc ${sub}`)
  }
}
