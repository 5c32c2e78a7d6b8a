/**
 * The parameter and result types of a module's exported functions, read from its binary (the JS
 * API of Node 20 does not reflect them). Exports whose types are not plain numbers are left out.
 */
import { ByteReader } from '../binary.ts'
import type { ValueType } from './parseWast.ts'

export type Signatures = Map<string, { params: ValueType[]; results: ValueType[] }>

const NUMERIC: Record<number, ValueType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64' }

export function readSignatures(bytes: Uint8Array): Signatures {
  const r = new ByteReader(bytes, 8)
  const types: Array<{ params: number[]; results: number[] }> = []
  const funcTypes: number[] = []
  const signatures: Signatures = new Map()
  const vec = <T>(s: ByteReader, item: () => T): T[] => Array.from({ length: s.u32() }, item)
  while (!r.done) {
    const id = r.u8()
    const s = new ByteReader(r.take(r.u32()))
    if (id === 1) {
      vec(s, () => {
        s.u8() // 0x60
        types.push({ params: vec(s, () => s.u8()), results: vec(s, () => s.u8()) })
      })
    } else if (id === 2) {
      vec(s, () => {
        s.name()
        s.name()
        const kind = s.u8()
        if (kind !== 0) throw new Error('the conformance corpus imports only functions')
        funcTypes.push(s.u32())
      })
    } else if (id === 3) {
      funcTypes.push(...vec(s, () => s.u32()))
    } else if (id === 7) {
      vec(s, () => {
        const name = s.name()
        const kind = s.u8()
        const index = s.u32()
        const type = kind === 0 ? types[funcTypes[index] as number] : undefined
        if (type === undefined) return
        const params = type.params.map((t) => NUMERIC[t])
        const results = type.results.map((t) => NUMERIC[t])
        if (params.every((t) => t !== undefined) && results.every((t) => t !== undefined)) {
          signatures.set(name, { params: params as ValueType[], results: results as ValueType[] })
        }
      })
    }
  }
  return signatures
}
