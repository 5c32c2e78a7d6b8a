import { VeritaskError } from './errors.ts'

/**
 * The byte form of a tensor, as inference tasks take their input and return their output:
 *
 * ```
 * 0   4  magic "vtns"
 * 4   1  version (1)
 * 5   1  element type (1 = float32, ONNX's code for FLOAT)
 * 6   1  rank r, 1..8
 * 7   1  zero
 * 8  4r  dimensions, uint32 little-endian, each ≥ 1
 * …      elements, float32 little-endian, row-major
 * ```
 *
 * One encoding, one content id: decoding is strict (exact length, no trailing bytes), and the
 * encoder writes exactly what the decoder accepts.
 */
export interface Tensor {
  dims: readonly number[]
  data: Float32Array
}

export const TENSOR_MAGIC = [0x76, 0x74, 0x6e, 0x73] as const
export const TENSOR_FLOAT32 = 1
export const TENSOR_MAX_RANK = 8
const HEADER = 8

export type TensorErrorCode = 'TENSOR_MALFORMED'

/** Bytes that are not a tensor in the form above. */
export class TensorError extends VeritaskError<TensorErrorCode> {
  override name = 'TensorError'
}

function malformed(message: string, details: Record<string, unknown> = {}): TensorError {
  return new TensorError('TENSOR_MALFORMED', message, {
    details,
    hint: 'Encode tensors with encodeTensor (float32, rank 1–8, every dimension ≥ 1).',
  })
}

/** Number of elements a tensor of these dimensions holds. */
export function tensorElements(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1)
}

export function encodeTensor({ dims, data }: Tensor): Uint8Array {
  if (dims.length < 1 || dims.length > TENSOR_MAX_RANK) throw malformed(`A tensor has rank 1 to ${TENSOR_MAX_RANK}, not ${dims.length}.`)
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 1 || d > 0xffffffff) throw malformed(`Tensor dimension ${d} is not an integer from 1 to 2^32 - 1.`, { dims })
  }
  const count = tensorElements(dims)
  if (count !== data.length) throw malformed(`Dimensions ${dims.join('×')} need ${count} elements, got ${data.length}.`, { dims })
  const bytes = new Uint8Array(HEADER + 4 * dims.length + 4 * count)
  const view = new DataView(bytes.buffer)
  bytes.set(TENSOR_MAGIC, 0)
  bytes[4] = 1
  bytes[5] = TENSOR_FLOAT32
  bytes[6] = dims.length
  dims.forEach((d, i) => view.setUint32(HEADER + 4 * i, d, true))
  const start = HEADER + 4 * dims.length
  for (let i = 0; i < count; i++) view.setFloat32(start + 4 * i, data[i]!, true)
  return bytes
}

/** Decodes tensor bytes; throws `TensorError` (`TENSOR_MALFORMED`) for anything else. */
export function decodeTensor(bytes: Uint8Array): Tensor {
  if (bytes.byteLength < HEADER) throw malformed('Too short for a tensor header.', { size: bytes.byteLength })
  if (TENSOR_MAGIC.some((b, i) => bytes[i] !== b)) throw malformed('The bytes do not start with the tensor magic "vtns".')
  if (bytes[4] !== 1) throw malformed(`Unknown tensor version ${bytes[4]}.`)
  if (bytes[5] !== TENSOR_FLOAT32) throw malformed(`Unsupported element type ${bytes[5]}; only float32 (1) is.`)
  const rank = bytes[6]!
  if (rank < 1 || rank > TENSOR_MAX_RANK || bytes[7] !== 0) throw malformed(`Bad tensor rank byte ${rank}.`)
  if (bytes.byteLength < HEADER + 4 * rank) throw malformed('Too short for the tensor dimensions.', { size: bytes.byteLength })
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const dims: number[] = []
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(HEADER + 4 * i, true)
    if (d < 1) throw malformed('A tensor dimension is zero.')
    dims.push(d)
  }
  const start = HEADER + 4 * rank
  const count = tensorElements(dims)
  if (bytes.byteLength - start !== 4 * count) {
    throw malformed(`Dimensions ${dims.join('×')} need ${4 * count} data bytes, got ${bytes.byteLength - start}.`, { dims })
  }
  const data = new Float32Array(count)
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(start + 4 * i, true)
  return { dims, data }
}
