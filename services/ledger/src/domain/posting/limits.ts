import { formatAmount } from "@money/money";
import type { Account } from "../accounts/account.js";
import type { BalanceFigures } from "../balances/balance.js";
import { LedgerError } from "../ledger-error.js";

/**
 * Refuses a change that takes a flagged account past its bound: with
 * `debits_must_not_exceed_credits`, posted and pending debits may not exceed
 * posted credits plus the overdraft limit (and symmetrically). A change that
 * does not add to the bounded side passes even when the account is already
 * past it (a lowered overdraft limit must not block a deposit).
 *
 * Errors: INSUFFICIENT_FUNDS (debits would exceed credits), EXCEEDS_DEBITS.
 */
export function checkLimits(account: Account, before: BalanceFigures, after: BalanceFigures): void {
  const overdraft = account.overdraftLimitMinor ?? 0n;
  const fmt = (minor: bigint) => formatAmount(minor, account.currency);
  if (account.debitsMustNotExceedCredits) {
    const debits = after.postedDebitsMinor + after.pendingDebitsMinor;
    const grew = debits > before.postedDebitsMinor + before.pendingDebitsMinor;
    const bound = after.postedCreditsMinor + overdraft;
    if (grew && debits > bound) {
      throw new LedgerError(
        "INSUFFICIENT_FUNDS",
        `account ${account.id} would be short by ${fmt(debits - bound)} ${account.currency.code}`,
      );
    }
  }
  if (account.creditsMustNotExceedDebits) {
    const credits = after.postedCreditsMinor + after.pendingCreditsMinor;
    const grew = credits > before.postedCreditsMinor + before.pendingCreditsMinor;
    const bound = after.postedDebitsMinor + overdraft;
    if (grew && credits > bound) {
      throw new LedgerError(
        "EXCEEDS_DEBITS",
        `credits to account ${account.id} would exceed its debits by ${fmt(credits - bound)} ${account.currency.code}`,
      );
    }
  }
}

/** Errors: ACCOUNT_FROZEN, ACCOUNT_CLOSED. */
export function requireMovable(account: Account): void {
  if (account.status === "frozen") throw new LedgerError("ACCOUNT_FROZEN", `account ${account.id} is frozen`);
  if (account.status === "closed") throw new LedgerError("ACCOUNT_CLOSED", `account ${account.id} is closed`);
}
