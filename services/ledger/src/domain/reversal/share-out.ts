/**
 * Splits `amount` over parts in proportion to `remaining` (what is left of
 * each), rounding down and giving the leftover minor units to the largest
 * remainders. The shares add up to `amount` exactly and none exceeds its
 * part's remaining, so successive partial reversals never offset a leg past
 * its original amount. Requires 0 < amount <= sum(remaining).
 */
export function shareOut(amount: bigint, remaining: readonly bigint[]): bigint[] {
  const total = remaining.reduce((sum, r) => sum + r, 0n);
  if (amount <= 0n || amount > total) throw new RangeError(`cannot share ${amount} out of ${total}`);
  const shares = remaining.map((r) => (r * amount) / total);
  let left = amount - shares.reduce((sum, s) => sum + s, 0n);
  const byRemainder = remaining
    .map((r, i) => ({ i, fraction: (r * amount) % total }))
    .sort((a, b) => (a.fraction === b.fraction ? a.i - b.i : a.fraction > b.fraction ? -1 : 1));
  for (const { i, fraction } of byRemainder) {
    if (left === 0n || fraction === 0n) break;
    shares[i]! += 1n;
    left -= 1n;
  }
  return shares;
}
