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
  /** Interrupted by Ctrl-C. */
  interrupted: 130,
} as const
