import { InvalidArgumentError } from 'commander'

/** Parses an integer flag within [min, max]; commander reports the error with the flag's name. */
export function integerOption(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    const value = Number(raw)
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${raw}".`)
    }
    return value
  }
}

/** Parses a number flag within [min, max). */
export function fractionOption(min: number, maxExclusive: number) {
  return (raw: string): number => {
    const value = Number(raw)
    if (raw.trim() === '' || !Number.isFinite(value) || value < min || value >= maxExclusive) {
      throw new InvalidArgumentError(`expected a number in [${min}, ${maxExclusive}), got "${raw}".`)
    }
    return value
  }
}

/** Exit codes of every command (docs/cli.md). */
export const exitCodes = {
  ok: 0,
  /** The command ran but its job failed (e.g. a devnet task got no outcome). */
  failure: 1,
  /** Wrong flags or arguments. */
  usage: 2,
  /** An input file, directory or program file is missing or unreadable. */
  inputNotFound: 3,
  /** The input has no bytes (an empty file, a directory without non-empty files). */
  inputEmpty: 4,
  /** The program is not a WebAssembly module. */
  invalidProgram: 5,
  /** The escrow (or the wallet, for a deposit) does not cover the fees; nothing was submitted. */
  insufficientEscrow: 6,
  /** No node API answered, after retries and fallbacks. */
  nodeUnreachable: 7,
  /** The EVM JSON-RPC endpoint did not answer, or a contract call failed, e.g. anchoring task ids (requester commands; the devnet uses 1). */
  chainUnreachable: 8,
  /** A node refused the task (limits, policy, deadline, signature: the message says which). */
  rejected: 9,
  /** A verdict or receipt did not come in time. */
  timeout: 10,
  /** Interrupted by Ctrl-C. */
  interrupted: 130,
} as const

/** The exit code for an error's code (`VeritaskError.code`); see docs/cli.md. */
export function exitCodeForError(code: string): number {
  if (code.startsWith('USAGE_')) return exitCodes.usage
  switch (code) {
    case 'SDK_INPUT_NOT_FOUND':
      return exitCodes.inputNotFound
    case 'SDK_INPUT_EMPTY':
      return exitCodes.inputEmpty
    case 'SDK_INVALID_PROGRAM':
      return exitCodes.invalidProgram
    case 'SDK_INSUFFICIENT_ESCROW':
    case 'SPEC_INSUFFICIENT_ESCROW':
    case 'SDK_INSUFFICIENT_TOKENS':
      return exitCodes.insufficientEscrow
    case 'SDK_NODE_UNREACHABLE':
      return exitCodes.nodeUnreachable
    case 'SDK_CHAIN_UNREACHABLE':
    case 'SDK_ANCHOR_FAILED':
      return exitCodes.chainUnreachable
    case 'SDK_TIMEOUT':
      return exitCodes.timeout
  }
  if (code.startsWith('SPEC_') || code.startsWith('MESSAGE_') || code.startsWith('API_')) return exitCodes.rejected
  return exitCodes.failure
}
