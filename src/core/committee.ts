/** The weight a batch needs: ⌈2/3 · S⌉ of the signing stake S (what `Settlement` requires). */
export function requiredCommitteeWeight(totalStake: bigint): bigint {
  return (2n * totalStake + 2n) / 3n
}
