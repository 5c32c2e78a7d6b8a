import { BaseError, ContractFunctionRevertedError, decodeErrorResult } from 'viem'
import type { Abi } from 'viem'

/** A contract's custom error as a failed call reverted with it: its name and arguments. */
export interface Revert {
  name: string
  args: readonly unknown[]
}

/**
 * The custom error a failed contract call reverted with, decoded against `errors` (the error items
 * of the ABIs the call may reach) where viem did not decode it itself; undefined for a failure that
 * is no revert (a dead endpoint, a bad argument).
 */
export function decodeRevert(error: unknown, errors: Abi): Revert | undefined {
  if (!(error instanceof BaseError)) return undefined
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
  if (!(reverted instanceof ContractFunctionRevertedError)) return undefined
  if (reverted.data?.errorName) return { name: reverted.data.errorName, args: reverted.data.args ?? [] }
  if (reverted.raw && reverted.raw !== '0x') {
    try {
      const decoded = decodeErrorResult({ abi: errors, data: reverted.raw })
      return { name: decoded.errorName, args: decoded.args ?? [] }
    } catch {
      return { name: reverted.raw, args: [] }
    }
  }
  return reverted.reason === undefined ? undefined : { name: reverted.reason, args: [] }
}
