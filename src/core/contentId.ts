import { stringToBytes } from 'viem'
import { keccak256Hex } from './keccak.ts'
import type { Hex } from './types.ts'

/** The content id of a blob: keccak256 of its bytes. Programs, inputs and results are named by it. */
export function contentId(bytes: Uint8Array): Hex {
  return keccak256Hex(bytes)
}

/** Whether `bytes` are the blob named `cid`. */
export function isContentOf(cid: Hex, bytes: Uint8Array): boolean {
  return contentId(bytes) === cid.toLowerCase()
}

/**
 * The result hash of a deterministic failure: the content id of `failed:<reason>`, so executors
 * that fail the same way reveal the same hash.
 */
export function failureResultHash(reason: string): Hex {
  return contentId(stringToBytes(`failed:${reason}`))
}
