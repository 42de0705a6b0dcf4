import { LedgerError } from "../ledger-error.js";
import { requireUuid } from "../input/uuid.js";
import {
  MAX_EXTERNAL_REF_LENGTH,
  MAX_TEXT_LENGTH,
  requireAtMost,
  requireMetadata,
} from "../input/text-fields.js";
import type { Direction } from "../transactions/transaction.js";

/** One side of a journal entry as the caller gave it; the amount is still text. */
export interface LegInput {
  accountId: string;
  /** Null when the caller left it unspecified. */
  direction: Direction | null;
  /** Decimal text in the account's currency. */
  amount: string;
  /** The currency the caller means; empty to take the account's. */
  currency: string;
  /** Optimistic lock: the account version the caller last saw. */
  expectedVersion: bigint | undefined;
}

export interface NewTransactionInput {
  legs: LegInput[];
  externalRef: string;
  description: string;
  metadata: Record<string, string>;
  /** Null for the posting time. */
  effectiveAt: Date | null;
  reason: string;
}

export interface ShapedLeg extends LegInput {
  direction: Direction;
}

export interface ShapedTransaction extends NewTransactionInput {
  legs: ShapedLeg[];
}

const MAX_LEGS = 100;

/**
 * What can be checked of a journal entry without the database: at least two
 * legs, each naming an account (once) and a side; the text fields' limits.
 *
 * Errors: TOO_FEW_LEGS, INVALID_ARGUMENT, DUPLICATE_LEG_ACCOUNT.
 */
export function shapeTransaction(input: NewTransactionInput): ShapedTransaction {
  if (input.legs.length < 2) {
    throw new LedgerError("TOO_FEW_LEGS", "a transaction needs at least two legs, a debit and a credit");
  }
  if (input.legs.length > MAX_LEGS) {
    throw new LedgerError("INVALID_ARGUMENT", `a transaction takes at most ${MAX_LEGS} legs`);
  }
  const seen = new Set<string>();
  const legs = input.legs.map((leg, i): ShapedLeg => {
    const accountId = requireUuid(leg.accountId, `legs[${i}].account_id`);
    if (seen.has(accountId)) {
      throw new LedgerError(
        "DUPLICATE_LEG_ACCOUNT",
        `account ${accountId} appears in more than one leg; combine them into one`,
      );
    }
    seen.add(accountId);
    if (leg.direction === null) {
      throw new LedgerError("INVALID_ARGUMENT", `legs[${i}].direction must be DEBIT or CREDIT`);
    }
    return { ...leg, accountId, direction: leg.direction };
  });
  return {
    ...input,
    legs,
    externalRef: requireAtMost(input.externalRef, MAX_EXTERNAL_REF_LENGTH, "external_ref"),
    description: requireAtMost(input.description, MAX_TEXT_LENGTH, "description"),
    reason: requireAtMost(input.reason, MAX_TEXT_LENGTH, "reason"),
    metadata: requireMetadata(input.metadata),
  };
}
