import type { AccountType } from "../accounts/account.js";

/**
 * What an account's balance row holds: sums of its posted entries and open
 * holds by side, in minor units, and its version (the number of its entries).
 */
export interface BalanceFigures {
  postedDebitsMinor: bigint;
  postedCreditsMinor: bigint;
  pendingDebitsMinor: bigint;
  pendingCreditsMinor: bigint;
  version: bigint;
}

export const ZERO_FIGURES: BalanceFigures = {
  postedDebitsMinor: 0n,
  postedCreditsMinor: 0n,
  pendingDebitsMinor: 0n,
  pendingCreditsMinor: 0n,
  version: 0n,
};

/** Assets and expenses grow with debits; liabilities, equity and revenue with credits. */
export function isDebitNormal(type: AccountType): boolean {
  return type === "asset" || type === "expense";
}

/** The posted balance on the account's normal side; negative when it is overdrawn. */
export function postedBalance(type: AccountType, f: BalanceFigures): bigint {
  return isDebitNormal(type)
    ? f.postedDebitsMinor - f.postedCreditsMinor
    : f.postedCreditsMinor - f.postedDebitsMinor;
}

/** Open holds on the account's normal side. */
export function pendingBalance(type: AccountType, f: BalanceFigures): bigint {
  return isDebitNormal(type)
    ? f.pendingDebitsMinor - f.pendingCreditsMinor
    : f.pendingCreditsMinor - f.pendingDebitsMinor;
}

/** The posted balance less the holds that would take from it. */
export function availableBalance(type: AccountType, f: BalanceFigures): bigint {
  return postedBalance(type, f) - (isDebitNormal(type) ? f.pendingCreditsMinor : f.pendingDebitsMinor);
}

/** How an entry of `direction` moves the account's normal-side balance. */
export function signedEffect(type: AccountType, direction: "debit" | "credit", amountMinor: bigint): bigint {
  return (direction === "debit") === isDebitNormal(type) ? amountMinor : -amountMinor;
}
