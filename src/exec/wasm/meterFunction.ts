/**
 * Rewrites one function body so that it pays for what it does, deterministically:
 *
 * - **Fuel.** The body is cut into straight-line segments; a new segment starts at the function
 *   entry and after every block, loop, if, else, end, br, br_if, br_table, return and unreachable.
 *   At the start of each segment the code charges the segment's static cost up front:
 *   `fuel -= cost; if (fuel < 0) unreachable`. Every instruction costs 1, except `else` and `end`,
 *   which only mark structure and cost 0. Bulk operations (memory.fill/copy/init,
 *   table.fill/copy/init/grow) also charge their length at run time, just before they execute:
 *   1 per 64 bytes of memory, 1 per table element. Because the charges are code, a program runs
 *   out of fuel at the same instruction on every node.
 * - **Stack depth.** Each function has a frame weight — a bound on its engine frame: locals plus
 *   the most operands it can hold on the value stack plus a fixed overhead, in 8-byte slots. Entry
 *   subtracts the weight from a stack budget and traps when it goes negative; every exit gives it
 *   back. Deep recursion then traps at the same depth everywhere, well before the engine's own
 *   (machine- and tier-dependent) stack overflow could.
 * - **NaN canonicalisation.** Float operations that may produce a NaN have their result replaced
 *   by the canonical quiet NaN when it is one, because NaN sign and payload bits differ between
 *   CPU architectures and a program could observe them.
 *
 * The rewritten body wraps the original instructions in a `block` whose result type is the
 * function's, so a branch to the function's outermost label lands on the exit code without any
 * branch depth changing.
 */
import { ByteReader, ByteWriter } from './binary.ts'
import type { DecodeContext } from './instructions.ts'
import { createDecoded, decodeInstruction, Op, OpFC } from './instructions.ts'
import type { FuncType, ValType } from './moduleTypes.ts'
import { isValType, ModuleRejectedError, unsupported, ValType as V } from './moduleTypes.ts'

/** Fixed part of a frame's weight, in 8-byte slots (V8 uses about 8; this leaves margin). */
export const FRAME_BASE_SLOTS = 16
/** Extra operand slots the inserted metering code itself may use (6, by `chargeMemoryGrow`). */
const INSTRUMENTATION_SLOTS = 6
/** Engines (V8) refuse functions with more locals than this, parameters included. */
const ENGINE_MAX_LOCALS = 50_000
/** Scratch locals the instrumenter may add to a function (one each of i32, f32, f64). */
const SCRATCH_LOCALS = 3
/**
 * Locals (parameters included) a program's function may declare: the engine's limit less the
 * instrumenter's scratch locals, so that what passes here also compiles, on every node alike.
 */
export const MAX_LOCALS = ENGINE_MAX_LOCALS - SCRATCH_LOCALS
/** Bytes of memory per unit of fuel charged by bulk memory operations (as a shift: 64). */
const MEMORY_BULK_SHIFT = 6
/**
 * Fuel per page of the memory a successful `memory.grow` leaves, as a left shift (1,024: a page's
 * 64 KiB at the bulk rate of 1 per 64 bytes). The whole new size is charged, not only the pages
 * added, because what the host does for a grow grows with the memory: an engine without a large
 * reservation copies it, and V8 counts it as external memory, which triggers a full garbage
 * collection every few grows once it is large (growing one page at a time to 4,096 pages took 4 s
 * in-thread and 25 s in a worker when each page cost 1,024). A grow past the cap does nothing and
 * costs only its instruction.
 */
const MEMORY_GROW_SHIFT = 10

export interface MeteringContext extends DecodeContext {
  /** The encoded block type of a block with no parameters and these results. */
  blockTypeFor(results: readonly ValType[]): Uint8Array
  /** The memory's (capped) maximum in pages, which decides whether a `memory.grow` succeeds. */
  memoryMaximum: number
}

interface ControlFrame {
  /** Operand stack height below the block's parameters. */
  base: number
  params: number
  results: number
  /** Whether the code around the block was unreachable (stack-polymorphic). */
  outerUnreachable: boolean
}

/** Whether a segment of straight-line code ends after this instruction. */
function endsSegment(op: number): boolean {
  return (
    op === Op.block ||
    op === Op.loop ||
    op === Op.if ||
    op === Op.else ||
    op === Op.end ||
    op === Op.br ||
    op === Op.brIf ||
    op === Op.brTable ||
    op === Op.return ||
    op === Op.unreachable
  )
}

function staticCost(op: number): number {
  return op === Op.else || op === Op.end ? 0 : 1
}

/** Float operations whose NaN results are not bit-for-bit portable. */
function nanProducingType(op: number): 'f32' | 'f64' | undefined {
  if ((op >= 0x8d && op <= 0x97) || op === 0xb6) return 'f32' // ceil…max, demote
  if ((op >= 0x9b && op <= 0xa5) || op === 0xbb) return 'f64' // ceil…max, promote
  return undefined
}

/**
 * Right shift applied to the length operand of a bulk operation the host does work for, to get
 * its fuel charge (bytes of memory per fuel; 0 for table elements). `memory.grow` is charged by
 * `chargeMemoryGrow` instead.
 */
function bulkShift(op: number): number | undefined {
  switch (op) {
    case OpFC.memoryInit:
    case OpFC.memoryCopy:
    case OpFC.memoryFill:
      return MEMORY_BULK_SHIFT
    case OpFC.tableInit:
    case OpFC.tableCopy:
    case OpFC.tableFill:
    case OpFC.tableGrow:
      return 0
    default:
      return undefined
  }
}

interface DecodedBody {
  /** Original bytes of the local declarations, without their count. */
  localGroups: Uint8Array
  localGroupCount: number
  localCount: number
  ops: number[]
  /** Byte offset of each instruction in the body; one extra entry marks the end. */
  offsets: number[]
  maxHeight: number
}

function decodeBody(body: Uint8Array, type: FuncType, ctx: DecodeContext): DecodedBody {
  const r = new ByteReader(body)
  const localGroupCount = r.u32()
  const groupsStart = r.pos
  let localCount = type.params.length
  for (let i = 0; i < localGroupCount; i++) {
    localCount += r.u32()
    const valType = r.u8()
    if (valType === 0x7b) throw unsupported('SIMD (v128 local)')
    if (!isValType(valType)) throw unsupported(`local of type 0x${valType.toString(16)}`)
    if (localCount > MAX_LOCALS) {
      throw new ModuleRejectedError('invalid-module', `a function declares ${localCount} locals or more; the cap is ${MAX_LOCALS} (parameters included)`)
    }
  }
  const localGroups = body.subarray(groupsStart, r.pos)

  const ops: number[] = []
  const offsets: number[] = []
  const control: ControlFrame[] = [
    { base: 0, params: 0, results: type.results.length, outerUnreachable: false },
  ]
  let height = 0
  let maxHeight = 0
  let unreachable = false
  const d = createDecoded()
  while (control.length > 0) {
    offsets.push(r.pos)
    decodeInstruction(r, ctx, d)
    ops.push(d.op)
    const frame = control[control.length - 1] as ControlFrame
    // Pops cannot take the height below the current block; in unreachable code they are free.
    height = Math.max(frame.base, height - d.pops) + d.pushes
    switch (d.op) {
      case Op.block:
      case Op.loop:
      case Op.if: {
        if (d.op === Op.if) height = Math.max(frame.base, height - 1)
        const base = Math.max(frame.base, height - d.blockParams)
        control.push({ base, params: d.blockParams, results: d.blockResults, outerUnreachable: unreachable })
        height = base + d.blockParams
        unreachable = false
        break
      }
      case Op.else:
        height = frame.base + frame.params
        unreachable = false
        break
      case Op.end:
        control.pop()
        height = frame.base + frame.results
        unreachable = frame.outerUnreachable
        break
      case Op.br:
      case Op.brTable:
      case Op.return:
      case Op.unreachable:
        height = frame.base
        unreachable = true
        break
    }
    if (height > maxHeight) maxHeight = height
  }
  if (!r.done) throw new ModuleRejectedError('invalid-module', 'function body continues after its end')
  offsets.push(r.pos)
  return { localGroups, localGroupCount, localCount, ops, offsets, maxHeight }
}

/** Bytecode snippets for one module's metering globals, built once per module. */
export interface Snippets {
  chargePrefix: Uint8Array // global.get fuel; i64.const <cost follows>
  chargeSuffix: Uint8Array // i64.sub; global.set fuel; check
  check: Uint8Array // global.get fuel; i64.const 0; i64.lt_s; if unreachable end
  fuelGet: Uint8Array
  fuelSet: Uint8Array
  stackGet: Uint8Array
  stackSet: Uint8Array
}

export function createSnippets(fuelGlobal: number, stackGlobal: number): Snippets {
  const fuelGet = new ByteWriter(8).u8(Op.globalGet).u32(fuelGlobal).finish()
  const fuelSet = new ByteWriter(8).u8(Op.globalSet).u32(fuelGlobal).finish()
  const check = new ByteWriter(16)
    .bytes(fuelGet)
    .u8(Op.i64Const)
    .u8(0)
    .u8(Op.i64LtS)
    .u8(Op.if)
    .u8(0x40)
    .u8(Op.unreachable)
    .u8(Op.end)
    .finish()
  return {
    chargePrefix: new ByteWriter(8).bytes(fuelGet).u8(Op.i64Const).finish(),
    chargeSuffix: new ByteWriter(24).u8(Op.i64Sub).bytes(fuelSet).bytes(check).finish(),
    check,
    fuelGet,
    fuelSet,
    stackGet: new ByteWriter(8).u8(Op.globalGet).u32(stackGlobal).finish(),
    stackSet: new ByteWriter(8).u8(Op.globalSet).u32(stackGlobal).finish(),
  }
}

/**
 * Before a `memory.grow` whose page delta is on top of the stack (left in place):
 * `fuel -= (delta <= maximum - memory.size) ? (memory.size + delta) << 10 : 0`, then the check.
 * Uses at most INSTRUMENTATION_SLOTS operand slots above the delta.
 */
function chargeMemoryGrow(w: ByteWriter, scratch: number, maximum: number, snippets: Snippets): void {
  const newSize = (out: ByteWriter) =>
    out.u8(Op.localGet).u32(scratch).u8(Op.i64ExtendI32U).u8(Op.memorySize).u8(0).u8(Op.i64ExtendI32U).u8(Op.i64Add)
  w.u8(Op.localTee).u32(scratch).bytes(snippets.fuelGet)
  newSize(w).u8(Op.i64Const).u8(MEMORY_GROW_SHIFT).u8(Op.i64Shl) // fuel, cost
  w.u8(Op.i64Const).u8(0) // fuel, cost, 0
  // fuel, cost, 0, delta, maximum - size: the grow succeeds iff delta <= maximum - size (unsigned)
  w.u8(Op.localGet).u32(scratch).u8(Op.i32Const).sleb(maximum).u8(Op.memorySize).u8(0).u8(Op.i32Sub).u8(Op.i32LeU)
  w.u8(Op.select).u8(Op.i64Sub).bytes(snippets.fuelSet).bytes(snippets.check)
}

const CANONICAL_NAN_F32 = new Uint8Array([0x00, 0x00, 0xc0, 0x7f])
const CANONICAL_NAN_F64 = new Uint8Array([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf8, 0x7f])

/** Returns the instrumented body (without its size prefix). */
export function meterFunction(
  body: Uint8Array,
  type: FuncType,
  ctx: MeteringContext,
  snippets: Snippets,
): Uint8Array {
  const decoded = decodeBody(body, type, ctx)
  const { ops, offsets } = decoded

  // Scratch locals, appended after the existing ones so no local index changes.
  let next = decoded.localCount
  const scratch: ValType[] = []
  const scratchLocal = (valType: ValType, needed: boolean): number => {
    if (!needed) return -1
    scratch.push(valType)
    return next++
  }
  const scratchI32 = scratchLocal(V.i32, ops.some((op) => op === Op.memoryGrow || bulkShift(op) !== undefined))
  const scratchF32 = scratchLocal(V.f32, ops.some((op) => nanProducingType(op) === 'f32'))
  const scratchF64 = scratchLocal(V.f64, ops.some((op) => nanProducingType(op) === 'f64'))

  const weight = FRAME_BASE_SLOTS + next + decoded.maxHeight + INSTRUMENTATION_SLOTS
  const w = new ByteWriter(body.length * 2 + 64)

  w.u32(decoded.localGroupCount + scratch.length).bytes(decoded.localGroups)
  for (const valType of scratch) w.u32(1).u8(valType)

  // Entry: take this frame's weight from the stack budget.
  w.bytes(snippets.stackGet).u8(Op.i32Const).sleb(weight).u8(Op.i32Sub).bytes(snippets.stackSet)
  w.bytes(snippets.stackGet).u8(Op.i32Const).u8(0).u8(Op.i32LtS)
  w.u8(Op.if).u8(0x40).u8(Op.unreachable).u8(Op.end)
  const exit = new ByteWriter(16)
    .bytes(snippets.stackGet)
    .u8(Op.i32Const)
    .sleb(weight)
    .u8(Op.i32Add)
    .bytes(snippets.stackSet)
    .finish()

  w.u8(Op.block).bytes(ctx.blockTypeFor(type.results))

  let segmentStart = true
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as number
    if (segmentStart) {
      let cost = 0
      for (let j = i; j < ops.length; j++) {
        const o = ops[j] as number
        cost += staticCost(o)
        if (endsSegment(o)) break
      }
      if (cost > 0) w.bytes(snippets.chargePrefix).sleb(cost).bytes(snippets.chargeSuffix)
    }
    segmentStart = endsSegment(op)

    const original = body.subarray(offsets[i], offsets[i + 1])
    if (op === Op.return) {
      w.bytes(exit).bytes(original)
      continue
    }
    if (op === Op.memoryGrow) {
      chargeMemoryGrow(w, scratchI32, ctx.memoryMaximum, snippets)
      w.bytes(original)
      continue
    }
    const shift = bulkShift(op)
    if (shift !== undefined) {
      // The length operand is on top of the stack: copy it, charge for it, leave it in place.
      w.u8(Op.localTee).u32(scratchI32)
      w.bytes(snippets.fuelGet).u8(Op.localGet).u32(scratchI32).u8(Op.i64ExtendI32U)
      if (shift > 0) w.u8(Op.i64Const).u8(shift).u8(Op.i64ShrU)
      w.u8(Op.i64Sub).bytes(snippets.fuelSet).bytes(snippets.check)
      w.bytes(original)
      continue
    }
    w.bytes(original)
    const nanType = nanProducingType(op)
    if (nanType !== undefined) {
      // x = (x == x) ? x : canonical NaN
      const [local, constOp, nan, eq] =
        nanType === 'f32'
          ? [scratchF32, Op.f32Const, CANONICAL_NAN_F32, Op.f32Eq]
          : [scratchF64, Op.f64Const, CANONICAL_NAN_F64, Op.f64Eq]
      w.u8(Op.localTee).u32(local).u8(constOp).bytes(nan)
      w.u8(Op.localGet).u32(local).u8(Op.localGet).u32(local).u8(eq).u8(Op.select)
    }
  }
  // The original final `end` closed the wrapper block; give the frame back and end the function.
  w.bytes(exit).u8(Op.end)
  return w.finish()
}
