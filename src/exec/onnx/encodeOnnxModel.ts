/**
 * A small, deterministic ONNX writer: enough of the protobuf schema (onnx/onnx.proto) to express
 * float32 graphs of standard operators with named inputs, outputs and initializers. The same graph
 * always gives the same bytes (fields in schema order, no maps, raw little-endian tensor data), so
 * a model built by a script has a stable content id: its model id.
 */

export interface OnnxValueInfo {
  name: string
  /** Fixed sizes, or names for symbolic dimensions such as the batch. */
  dims: ReadonlyArray<number | string>
}

export interface OnnxInitializer {
  name: string
  dims: readonly number[]
  data: Float32Array
}

export type OnnxAttribute = { name: string; int: number } | { name: string; float: number } | { name: string; ints: readonly number[] }

export interface OnnxNode {
  opType: string
  inputs: readonly string[]
  outputs: readonly string[]
  name?: string
  attributes?: readonly OnnxAttribute[]
}

export interface OnnxGraph {
  name: string
  inputs: readonly OnnxValueInfo[]
  outputs: readonly OnnxValueInfo[]
  initializers: readonly OnnxInitializer[]
  nodes: readonly OnnxNode[]
}

export interface EncodeOnnxModelOptions {
  /** ONNX IR version (default 8). */
  irVersion?: number
  /** Version of the default operator set (default 13). */
  opset?: number
  producerName?: string
  docString?: string
}

const FLOAT = 1
const ATTRIBUTE_FLOAT = 1
const ATTRIBUTE_INT = 2
const ATTRIBUTE_INTS = 7

/** Protobuf writer: varints, length-delimited fields and fixed32 floats, nothing else. */
class Writer {
  private chunks: number[] = []

  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value))
    do {
      const byte = Number(v & 0x7fn)
      v >>= 7n
      this.chunks.push(v === 0n ? byte : byte | 0x80)
    } while (v !== 0n)
    return this
  }

  private tag(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType)
  }

  int(field: number, value: number): this {
    return this.tag(field, 0).varint(value)
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, 2).varint(value.length)
    for (const b of value) this.chunks.push(b)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value))
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer()
    build(inner)
    return this.bytes(field, inner.finish())
  }

  float(field: number, value: number): this {
    this.tag(field, 5)
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, value, true)
    for (const x of b) this.chunks.push(x)
    return this
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks)
  }
}

function float32Bytes(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.length * 4)
  const view = new DataView(bytes.buffer)
  data.forEach((v, i) => view.setFloat32(4 * i, v, true))
  return bytes
}

function valueInfo(w: Writer, { name, dims }: OnnxValueInfo): void {
  w.string(1, name) // ValueInfoProto.name
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, FLOAT) // TypeProto.Tensor.elem_type
      tensor.message(2, (shape) => {
        for (const d of dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)))
      })
    }),
  )
}

function attribute(w: Writer, a: OnnxAttribute): void {
  w.string(1, a.name)
  if ('int' in a) w.int(3, a.int).int(20, ATTRIBUTE_INT)
  else if ('float' in a) w.float(2, a.float).int(20, ATTRIBUTE_FLOAT)
  else {
    for (const v of a.ints) w.int(8, v)
    w.int(20, ATTRIBUTE_INTS)
  }
}

export function encodeOnnxModel(graph: OnnxGraph, options: EncodeOnnxModelOptions = {}): Uint8Array {
  for (const init of graph.initializers) {
    const count = init.dims.reduce((n, d) => n * d, 1)
    if (count !== init.data.length) throw new RangeError(`initializer ${init.name}: dims ${init.dims.join('×')} need ${count} values, got ${init.data.length}`)
  }
  const w = new Writer()
  w.int(1, options.irVersion ?? 8) // ModelProto.ir_version
  w.string(2, options.producerName ?? 'veritask')
  if (options.docString !== undefined) w.string(6, options.docString)
  w.message(7, (g) => {
    for (const node of graph.nodes) {
      g.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input)
        for (const output of node.outputs) n.string(2, output)
        if (node.name !== undefined) n.string(3, node.name)
        n.string(4, node.opType)
        for (const a of node.attributes ?? []) n.message(5, (m) => attribute(m, a))
      })
    }
    g.string(2, graph.name)
    for (const init of graph.initializers) {
      g.message(5, (t) => {
        for (const d of init.dims) t.int(1, d)
        t.int(2, FLOAT)
        t.string(8, init.name)
        t.bytes(9, float32Bytes(init.data))
      })
    }
    for (const input of graph.inputs) g.message(11, (v) => valueInfo(v, input))
    for (const output of graph.outputs) g.message(12, (v) => valueInfo(v, output))
  })
  w.message(8, (o) => o.string(1, '').int(2, options.opset ?? 13)) // opset_import: the default domain
  return w.finish()
}
