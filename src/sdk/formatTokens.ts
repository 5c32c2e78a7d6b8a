/**
 * A token amount in base units as an exact decimal string: no floats, no rounding. `decimals` is
 * the token's (18 for VTT); at least `minFractionDigits` fraction digits are shown (padded with
 * zeros), never fewer than the amount needs.
 *
 * @example formatTokens(40000000000000000n) // '0.04'
 */
export function formatTokens(amount: bigint, { decimals = 18, minFractionDigits = 0 }: { decimals?: number; minFractionDigits?: number } = {}): string {
  const negative = amount < 0n
  const digits = (negative ? -amount : amount).toString().padStart(decimals + 1, '0')
  const whole = digits.slice(0, digits.length - decimals)
  let fraction = digits.slice(digits.length - decimals).replace(/0+$/, '')
  if (fraction.length < minFractionDigits) fraction = fraction.padEnd(minFractionDigits, '0')
  return `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`
}
