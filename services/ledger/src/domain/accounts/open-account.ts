import { randomUUID } from "node:crypto";
import type { DatabaseTransactionConnection } from "@money/db";
import type { Actor, AuditRecorder } from "@money/kafka";
import { findCurrency } from "@money/money";
import { insertAccount } from "../../db/accounts-table.js";
import { requireAmountOrZero } from "../input/amount.js";
import { requireMetadata } from "../input/text-fields.js";
import { LedgerError } from "../ledger-error.js";
import { ACCOUNT_TYPES, accountAuditView, type Account, type AccountType } from "./account.js";

export interface OpenAccount {
  type: string;
  ownerRef: string;
  currency: string;
  debitsMustNotExceedCredits: boolean;
  creditsMustNotExceedDebits: boolean;
  /** Decimal string in the currency; empty for none. */
  overdraftLimit: string;
  metadata: Record<string, string>;
}

/**
 * Opens an account, active, with a zero balance, and records it in the audit trail.
 *
 * Errors: INVALID_ARGUMENT (type, owner, flags, metadata), UNKNOWN_CURRENCY, INVALID_AMOUNT (overdraft).
 */
export async function openAccount(
  tx: DatabaseTransactionConnection,
  audit: AuditRecorder,
  command: OpenAccount,
  actor: Actor,
): Promise<Account> {
  if (!(ACCOUNT_TYPES as readonly string[]).includes(command.type)) {
    throw new LedgerError("INVALID_ARGUMENT", `type must be one of ${ACCOUNT_TYPES.join(", ")}`);
  }
  if (command.ownerRef.length < 1 || command.ownerRef.length > 200) {
    throw new LedgerError("INVALID_ARGUMENT", "owner_ref must be 1 to 200 characters");
  }
  const currency = findCurrency(command.currency);
  if (!currency)
    throw new LedgerError(
      "UNKNOWN_CURRENCY",
      `currency ${JSON.stringify(command.currency)} is not a supported ISO 4217 code`,
    );
  if (command.debitsMustNotExceedCredits && command.creditsMustNotExceedDebits) {
    throw new LedgerError("INVALID_ARGUMENT", "an account takes at most one of the two balance flags");
  }
  const overdraftLimitMinor =
    command.overdraftLimit === ""
      ? null
      : requireAmountOrZero(command.overdraftLimit, currency, "overdraft_limit");
  requireMetadata(command.metadata);
  const account = await insertAccount(tx, {
    id: randomUUID(),
    type: command.type as AccountType,
    ownerRef: command.ownerRef,
    currency,
    debitsMustNotExceedCredits: command.debitsMustNotExceedCredits,
    creditsMustNotExceedDebits: command.creditsMustNotExceedDebits,
    overdraftLimitMinor,
    status: "active",
    metadata: command.metadata,
  });
  await audit.record(tx, {
    action: "account.opened",
    objectType: "account",
    objectId: account.id,
    actor,
    after: accountAuditView(account),
    occurredAt: account.createdAt,
  });
  return account;
}
