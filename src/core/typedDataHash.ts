import { writeHex } from './hexBytes.ts'
import { keccak256Bytes, toHex } from './keccak.ts'
import type { Hex } from './types.ts'

/**
 * EIP-712 hashing compiled once per set of types. viem's `hashTypedData` re-derives and re-hashes
 * every type string and the domain separator on each call (about ten keccak runs for a commit);
 * here type hashes are computed once and domain separators are cached, so a message costs one
 * keccak for its struct plus one for the digest (and one per nested struct, string or array).
 * The digest is byte-identical to viem's (typedDataHash.test.ts compares them).
 */

export interface TypedField {
  readonly name: string
  readonly type: string
}

export type TypedFields = Readonly<Record<string, readonly TypedField[]>>

/** The EIP-712 domain fields veritask uses, in the standard's order. */
export interface TypedDataDomain {
  name?: string
  version?: string
  chainId?: number | bigint
  verifyingContract?: Hex
  salt?: Hex
}

const DOMAIN_FIELDS: readonly TypedField[] = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
  { name: 'salt', type: 'bytes32' },
]

const encoder = new TextEncoder()
const WORD = 32

/** Writes `value` (non-negative, below 2^256) as a big-endian 32-byte word at `offset`. */
function writeUint(out: Uint8Array, offset: number, value: bigint): void {
  for (let i = WORD - 1; i >= 0; i--) {
    out[offset + i] = Number(value & 0xffn)
    value >>= 8n
  }
}

function hexToBytes(hex: string, what: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0) throw new TypeError(`EIP-712: expected ${what} as 0x-prefixed hex, got ${String(hex)}`)
  const out = new Uint8Array((hex.length - 2) / 2)
  writeHex(out, 0, hex, out.length, what)
  return out
}

function toBigInt(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') return value
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value)
  throw new TypeError(`EIP-712: expected ${what} as an integer, got ${String(value)}`)
}

/** A field encoder: writes the 32-byte encoding of one value at an offset. */
type Encode = (out: Uint8Array, offset: number, value: unknown) => void

/**
 * Compiles `types` into a hasher. Supports the atomic types (`uintN`, `intN`, `address`, `bool`,
 * `bytesN`), `string`, `bytes`, nested structs and arrays of any of these.
 */
export function createTypedDataHasher(types: TypedFields) {
  const all: TypedFields = types
  const typeHashes = new Map<string, Uint8Array>()
  const encoders = new Map<string, Encode>()

  /** The struct types `type` references, itself first, for `encodeType`. */
  function dependencies(type: string, found = new Set<string>()): Set<string> {
    const base = type.replace(/\[\d*\]$/, '')
    if (found.has(base) || all[base] === undefined) return found
    found.add(base)
    for (const field of all[base]) dependencies(field.type, found)
    return found
  }

  function typeHashOf(type: string): Uint8Array {
    let hash = typeHashes.get(type)
    if (hash === undefined) {
      const [primary, ...rest] = dependencies(type)
      const ordered = [primary as string, ...rest.sort()]
      const encoded = ordered.map((name) => `${name}(${(all[name] ?? []).map((f) => `${f.type} ${f.name}`).join(',')})`).join('')
      hash = keccak256Bytes(encoder.encode(encoded))
      typeHashes.set(type, hash)
    }
    return hash
  }

  function encoderOf(type: string): Encode {
    let encode = encoders.get(type)
    if (encode === undefined) {
      encode = compile(type)
      encoders.set(type, encode)
    }
    return encode
  }

  function compile(type: string): Encode {
    const array = /^(.*)\[(\d*)\]$/.exec(type)
    if (array !== null) {
      const element = encoderOf(array[1] as string)
      const length = array[2] === '' ? undefined : Number(array[2])
      return (out, offset, value) => {
        if (!Array.isArray(value) || (length !== undefined && value.length !== length)) {
          throw new TypeError(`EIP-712: expected ${type}, got ${String(value)}`)
        }
        const packed = new Uint8Array(value.length * WORD)
        value.forEach((v, i) => element(packed, i * WORD, v))
        out.set(keccak256Bytes(packed), offset)
      }
    }
    if (all[type] !== undefined) return (out, offset, value) => out.set(hashStructBytes(type, value), offset)
    if (type === 'address') return (out, offset, value) => writeHex(out, offset + 12, value as string, 20, 'an address')
    if (type === 'bool') {
      return (out, offset, value) => {
        if (typeof value !== 'boolean') throw new TypeError(`EIP-712: expected a bool, got ${String(value)}`)
        out[offset + WORD - 1] = value ? 1 : 0
      }
    }
    if (type === 'string') {
      return (out, offset, value) => {
        if (typeof value !== 'string') throw new TypeError(`EIP-712: expected a string, got ${String(value)}`)
        out.set(keccak256Bytes(encoder.encode(value)), offset)
      }
    }
    if (type === 'bytes') return (out, offset, value) => out.set(keccak256Bytes(hexToBytes(value as string, 'bytes')), offset)
    const uint = /^(u?)int(\d+)$/.exec(type)
    if (uint !== null) {
      const bits = BigInt(uint[2] as string)
      const signed = uint[1] === ''
      const min = signed ? -(1n << (bits - 1n)) : 0n
      const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n
      return (out, offset, value) => {
        const n = toBigInt(value, type)
        if (n < min || n > max) throw new RangeError(`EIP-712: ${n} is out of range for ${type}`)
        writeUint(out, offset, n < 0n ? (1n << 256n) + n : n)
      }
    }
    const fixed = /^bytes(\d+)$/.exec(type)
    if (fixed !== null) {
      const length = Number(fixed[1])
      if (length < 1 || length > WORD) throw new TypeError(`EIP-712: unsupported type ${type}`)
      return (out, offset, value) => writeHex(out, offset, value as string, length, type)
    }
    throw new TypeError(`EIP-712: unsupported type ${type}`)
  }

  function hashStructBytes(type: string, value: unknown): Uint8Array {
    const fields = all[type] as readonly TypedField[]
    if (typeof value !== 'object' || value === null) throw new TypeError(`EIP-712: expected a ${type} struct`)
    const record = value as Record<string, unknown>
    const out = new Uint8Array(WORD * (1 + fields.length))
    out.set(typeHashOf(type), 0)
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i] as TypedField
      encoderOf(field.type)(out, WORD * (1 + i), record[field.name])
    }
    return keccak256Bytes(out)
  }

  const separators = new Map<string, Uint8Array>()

  /** The domain separator, cached: a node signs and checks under one or two domains. */
  function domainSeparator(domain: TypedDataDomain): Uint8Array {
    const key = `${domain.name}|${domain.version}|${domain.chainId}|${domain.verifyingContract?.toLowerCase()}|${domain.salt}`
    let separator = separators.get(key)
    if (separator === undefined) {
      separator = hashDomain(domain)
      if (separators.size >= 64) separators.clear()
      separators.set(key, separator)
    }
    return separator
  }

  /** hashStruct of the domain; its type lists only the fields the domain has. */
  function hashDomain(domain: TypedDataDomain): Uint8Array {
    const fields = DOMAIN_FIELDS.filter((f) => domain[f.name as keyof TypedDataDomain] !== undefined)
    const typeHash = keccak256Bytes(encoder.encode(`EIP712Domain(${fields.map((f) => `${f.type} ${f.name}`).join(',')})`))
    const out = new Uint8Array(WORD * (1 + fields.length))
    out.set(typeHash, 0)
    fields.forEach((field, i) => encoderOf(field.type)(out, WORD * (1 + i), domain[field.name as keyof TypedDataDomain]))
    return keccak256Bytes(out)
  }

  const digestInput = new Uint8Array(2 + 2 * WORD)
  digestInput[0] = 0x19
  digestInput[1] = 0x01

  return {
    /** The EIP-712 digest of `message` as a `primaryType` under `domain`: what gets signed. */
    hash(domain: TypedDataDomain, primaryType: string, message: unknown): Hex {
      if (types[primaryType] === undefined) throw new TypeError(`EIP-712: unknown type ${primaryType}`)
      const struct = hashStructBytes(primaryType, message)
      digestInput.set(domainSeparator(domain), 2)
      digestInput.set(struct, 2 + WORD)
      return toHex(keccak256Bytes(digestInput))
    },
    /** hashStruct(message): the struct's own hash, without the domain. */
    hashStruct: (primaryType: string, message: unknown): Hex => toHex(hashStructBytes(primaryType, message)),
    /**
     * The digest of a struct whose one field is an array of structs, from the elements' own
     * hashes (`hashStruct` of each): a signed batch checked from one item and its siblings' hashes.
     */
    hashArrayStruct(domain: TypedDataDomain, primaryType: string, elementHashes: readonly Hex[]): Hex {
      const fields = types[primaryType]
      if (fields?.length !== 1 || !/\[\]$/.test(fields[0]!.type)) throw new TypeError(`EIP-712: ${primaryType} is not a one-array struct`)
      const packed = new Uint8Array(elementHashes.length * WORD)
      elementHashes.forEach((hash, i) => writeHex(packed, i * WORD, hash, WORD, 'an element hash'))
      const struct = new Uint8Array(2 * WORD)
      struct.set(typeHashOf(primaryType), 0)
      struct.set(keccak256Bytes(packed), WORD)
      digestInput.set(domainSeparator(domain), 2)
      digestInput.set(keccak256Bytes(struct), 2 + WORD)
      return toHex(keccak256Bytes(digestInput))
    },
  }
}
