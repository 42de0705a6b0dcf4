import { formatAmount, type Currency } from "@money/money";
import { signedEffect, postedBalance, type BalanceFigures } from "../balances/balance.js";
import { requireAmount } from "../input/amount.js";
import { LedgerError } from "../ledger-error.js";
import type { Direction, EntryRecord } from "../transactions/transaction.js";
import type { Book } from "./book.js";
import { checkLimits, requireMovable } from "./limits.js";
import type { ShapedLeg } from "./new-transaction.js";

/** A leg with its amount in minor units of its account's currency. */
export interface PricedLeg {
  accountId: string;
  direction: Direction;
  amountMinor: bigint;
  currency: Currency;
  expectedVersion: bigint | undefined;
}

/**
 * Reads each leg's amount in its account's currency.
 * Errors: ACCOUNT_NOT_FOUND, CURRENCY_MISMATCH (the leg names another currency), INVALID_AMOUNT.
 */
export function priceLegs(book: Book, legs: readonly ShapedLeg[]): PricedLeg[] {
  return legs.map((leg, i) => {
    const { account } = book.get(leg.accountId);
    if (leg.currency !== "" && leg.currency !== account.currency.code) {
      throw new LedgerError(
        "CURRENCY_MISMATCH",
        `legs[${i}] is in ${leg.currency} but account ${account.id} is in ${account.currency.code}`,
      );
    }
    return {
      accountId: account.id,
      direction: leg.direction,
      amountMinor: requireAmount(leg.amount, account.currency, `legs[${i}].amount`),
      currency: account.currency,
      expectedVersion: leg.expectedVersion,
    };
  });
}

/** Errors: UNBALANCED_TRANSACTION when debits and credits differ in some currency. */
export function requireBalanced(legs: readonly PricedLeg[]): void {
  const net = new Map<string, { currency: Currency; debits: bigint; credits: bigint }>();
  for (const leg of legs) {
    const sums = net.get(leg.currency.code) ?? { currency: leg.currency, debits: 0n, credits: 0n };
    if (leg.direction === "debit") sums.debits += leg.amountMinor;
    else sums.credits += leg.amountMinor;
    net.set(leg.currency.code, sums);
  }
  for (const { currency, debits, credits } of net.values()) {
    if (debits !== credits) {
      throw new LedgerError(
        "UNBALANCED_TRANSACTION",
        `${currency.code} debits ${formatAmount(debits, currency)} differ from credits ${formatAmount(credits, currency)}`,
      );
    }
  }
}

/**
 * Posts balanced legs to their accounts in the book: checks every rule, then
 * applies them all, so a refusal leaves the book untouched (a batch item that
 * fails costs the others nothing). Returns the entries, with each account's
 * balance before and after and its new version.
 *
 * Errors, in this order: ACCOUNT_FROZEN, ACCOUNT_CLOSED, ACCOUNT_VERSION_MISMATCH,
 * INSUFFICIENT_FUNDS, EXCEEDS_DEBITS.
 */
export function postEntries(book: Book, transactionId: string, legs: readonly PricedLeg[]): EntryRecord[] {
  const planned = legs.map((leg) => {
    const { account, figures } = book.get(leg.accountId);
    requireMovable(account);
    if (leg.expectedVersion !== undefined && leg.expectedVersion !== figures.version) {
      throw new LedgerError(
        "ACCOUNT_VERSION_MISMATCH",
        `account ${account.id} is at version ${figures.version}, not ${leg.expectedVersion}; read it again`,
      );
    }
    const after: BalanceFigures = {
      ...figures,
      postedDebitsMinor: figures.postedDebitsMinor + (leg.direction === "debit" ? leg.amountMinor : 0n),
      postedCreditsMinor: figures.postedCreditsMinor + (leg.direction === "credit" ? leg.amountMinor : 0n),
      version: figures.version + 1n,
    };
    checkLimits(account, figures, after);
    const before = postedBalance(account.type, figures);
    const entry: EntryRecord = {
      transactionId,
      accountId: account.id,
      direction: leg.direction,
      amountMinor: leg.amountMinor,
      currency: account.currency,
      balanceBeforeMinor: before,
      balanceAfterMinor: before + signedEffect(account.type, leg.direction, leg.amountMinor),
      accountVersion: after.version,
      postedAt: book.now,
    };
    return { entry, after };
  });
  for (const { entry, after } of planned) book.set(entry.accountId, after);
  return planned.map((p) => p.entry);
}

/** The single currency of priced legs and the sum of their debits; nulls when they span several. */
export function amountOf(legs: readonly PricedLeg[]): {
  currency: Currency | null;
  amountMinor: bigint | null;
} {
  const first = legs[0]?.currency;
  if (!first || legs.some((leg) => leg.currency.code !== first.code))
    return { currency: null, amountMinor: null };
  return {
    currency: first,
    amountMinor: legs.filter((l) => l.direction === "debit").reduce((sum, l) => sum + l.amountMinor, 0n),
  };
}
