import { rowsIn, sql, unnestArrays, type CommitScope } from "@money/db";
import type { OutboxInsert } from "@money/kafka";
import type { BalanceFigures } from "../domain/balances/balance.js";
import type { IdempotencyRecord } from "./idempotency-keys-table.js";
import type {
  EntryRecord,
  HoldRecord,
  StatusChangeRecord,
  TransactionRecord,
} from "../domain/transactions/transaction.js";

export interface JournalWrite {
  created: readonly TransactionRecord[];
  /** Existing transactions whose status, amount or reversed total changed (never one created here). */
  updated: readonly TransactionRecord[];
  entries: readonly EntryRecord[];
  statusChanges: readonly StatusChangeRecord[];
  holdsOpened: readonly { transactionId: string; hold: HoldRecord; createdAt: Date }[];
  holdsResolved: readonly { transactionId: string; hold: HoldRecord; resolvedAt: Date }[];
  /** The final balance rows of the accounts touched, locked by the caller. */
  balances: readonly { accountId: string; figures: BalanceFigures }[];
  /** The unit of work's outbox INSERT (LedgerEventSink.insertFragment), run in the same statement. */
  outbox?: OutboxInsert["sql"] | null;
  /**
   * Idempotency keys recorded in the same statement, in runIdempotent's table and format. When
   * one was taken (by an earlier call, or an earlier key here), the statement fails with
   * KEYS_TAKEN and nothing of it is written.
   */
  idempotencyKeys?: readonly IdempotencyRecord[];
}

/** SQLSTATE of writeJournal's failure when an idempotency key it was to record was taken (migration 0005). */
export const KEYS_TAKEN = "LG001";

/** toISOString, remembering the last answer: a unit of work stamps most rows with the one time. */
const iso = (() => {
  let lastMs = Number.NaN;
  let text = "";
  return (date: Date) => {
    const ms = date.getTime();
    if (ms !== lastMs) {
      lastMs = ms;
      text = date.toISOString();
    }
    return text;
  };
})();

/**
 * Writes a unit of work in one statement: each part is a data-modifying CTE
 * over arrays (unnest), so a thousand transactions are one round trip. The
 * foreign key from holds to the transactions inserted alongside is checked
 * at the end of the statement, when those rows exist (entries and status
 * changes have none: see migration 0004, and CheckBalances). Each
 * column travels as one array literal (see unnestArrays). The outbox INSERT
 * and the idempotency keys given ride in the same statement. With
 * `andCommit`, in a pipelined transaction, COMMIT goes out right behind it
 * (one round trip for both).
 */
export async function writeJournal(
  tx: CommitScope,
  w: JournalWrite,
  { andCommit = false }: { andCommit?: boolean } = {},
): Promise<void> {
  const parts = [];
  if (w.created.length > 0) {
    parts.push(sql.fragment`new_transactions AS (
      INSERT INTO transactions (id, kind, purpose, status, currency, amount_minor, reversed_minor,
        reverses_transaction_id, external_ref, description, reason, metadata, effective_at, created_at,
        performed_by, performed_by_role)
      SELECT * FROM ${unnestArrays(
        w.created.map((t) => [
          t.id,
          t.kind,
          t.purpose,
          t.status,
          t.currency?.code ?? null,
          t.amountMinor?.toString() ?? null,
          t.reversedMinor.toString(),
          t.reversesTransactionId,
          t.externalRef,
          t.description,
          t.reason,
          JSON.stringify(t.metadata),
          iso(t.effectiveAt),
          iso(t.createdAt),
          t.performedBy,
          t.performedByRole,
        ]),
        [
          "uuid",
          "text",
          "text",
          "text",
          "text",
          "int8",
          "int8",
          "uuid",
          "text",
          "text",
          "text",
          "jsonb",
          "timestamptz",
          "timestamptz",
          "text",
          "text",
        ],
      )})`);
  }
  if (w.updated.length > 0) {
    parts.push(sql.fragment`updated_transactions AS (
      UPDATE transactions t SET status = u.status, amount_minor = u.amount_minor, reversed_minor = u.reversed_minor
      FROM ${unnestArrays(
        w.updated.map((t) => [t.id, t.status, t.amountMinor?.toString() ?? null, t.reversedMinor.toString()]),
        ["uuid", "text", "int8", "int8"],
      )} AS u(id, status, amount_minor, reversed_minor)
      WHERE t.id = u.id)`);
  }
  if (w.entries.length > 0) {
    parts.push(sql.fragment`new_entries AS (
      INSERT INTO entries (account_id, account_version, transaction_id, direction, amount_minor,
        balance_before_minor, balance_after_minor, posted_at)
      SELECT * FROM ${unnestArrays(
        w.entries.map((e) => [
          e.accountId,
          e.accountVersion.toString(),
          e.transactionId,
          e.direction,
          e.amountMinor.toString(),
          e.balanceBeforeMinor.toString(),
          e.balanceAfterMinor.toString(),
          iso(e.postedAt),
        ]),
        ["uuid", "int8", "uuid", "text", "int8", "int8", "int8", "timestamptz"],
      )})`);
  }
  if (w.statusChanges.length > 0) {
    parts.push(sql.fragment`new_history AS (
      INSERT INTO transaction_status_history (transaction_id, from_status, to_status, performed_by,
        performed_by_role, reason, changed_at)
      SELECT * FROM ${unnestArrays(
        w.statusChanges.map((c) => [
          c.transactionId,
          c.from,
          c.to,
          c.performedBy,
          c.performedByRole,
          c.reason,
          iso(c.changedAt),
        ]),
        ["uuid", "text", "text", "text", "text", "text", "timestamptz"],
      )})`);
  }
  if (w.holdsOpened.length > 0) {
    parts.push(sql.fragment`new_holds AS (
      INSERT INTO holds (transaction_id, debit_account_id, credit_account_id, amount_minor, status,
        expires_at, created_at)
      SELECT * FROM ${unnestArrays(
        w.holdsOpened.map(({ transactionId, hold, createdAt }) => [
          transactionId,
          hold.debitAccountId,
          hold.creditAccountId,
          hold.amountMinor.toString(),
          hold.status,
          iso(hold.expiresAt),
          iso(createdAt),
        ]),
        ["uuid", "uuid", "uuid", "int8", "text", "timestamptz", "timestamptz"],
      )})`);
  }
  if (w.holdsResolved.length > 0) {
    parts.push(sql.fragment`resolved_holds AS (
      UPDATE holds h SET status = u.status, posted_minor = u.posted_minor, resolved_at = u.resolved_at
      FROM ${unnestArrays(
        w.holdsResolved.map(({ transactionId, hold, resolvedAt }) => [
          transactionId,
          hold.status,
          hold.postedMinor?.toString() ?? null,
          iso(resolvedAt),
        ]),
        ["uuid", "text", "int8", "timestamptz"],
      )} AS u(transaction_id, status, posted_minor, resolved_at)
      WHERE h.transaction_id = u.transaction_id)`);
  }
  if (w.balances.length > 0) {
    parts.push(sql.fragment`updated_balances AS (
      UPDATE balances b SET posted_debits_minor = u.posted_debits, posted_credits_minor = u.posted_credits,
        pending_debits_minor = u.pending_debits, pending_credits_minor = u.pending_credits, version = u.version
      FROM ${unnestArrays(
        w.balances.map(({ accountId, figures: f }) => [
          accountId,
          f.postedDebitsMinor.toString(),
          f.postedCreditsMinor.toString(),
          f.pendingDebitsMinor.toString(),
          f.pendingCreditsMinor.toString(),
          f.version.toString(),
        ]),
        ["uuid", "int8", "int8", "int8", "int8", "int8"],
      )} AS u(account_id, posted_debits, posted_credits, pending_debits, pending_credits, version)
      WHERE b.account_id = u.account_id)`);
  }
  if (w.outbox) parts.push(sql.fragment`events AS (${w.outbox})`);
  const keys = w.idempotencyKeys ?? [];
  if (keys.length > 0) {
    parts.push(sql.fragment`recorded_keys AS (
      INSERT INTO idempotency_keys (scope, key, request_hash, response)
      SELECT * FROM ${sql.unnest(
        keys.map((r) => [r.scope, r.key, r.requestHash, r.response]),
        ["text", "text", "bytea", "bytea"],
      )}
      ON CONFLICT DO NOTHING RETURNING 1)`);
  }
  if (parts.length === 0) {
    if (andCommit && "commitWith" in tx) await tx.commitWith(sql.unsafe`SELECT 1`);
    return;
  }
  const statement = sql.unsafe`
    WITH ${sql.join(parts, sql.fragment`, `)}
    SELECT ${keys.length > 0 ? sql.fragment`assert_keys_recorded((SELECT count(*) FROM recorded_keys) = ${keys.length})` : sql.fragment`true`}
  `;
  // Prepared on a pipelined connection: a hot path (the transfer group commit) sends the same
  // few shapes of this statement, each of whose rows is found by key.
  if (andCommit && "commitWith" in tx) await tx.commitWith(statement, { prepare: true });
  else await rowsIn(tx, statement, { prepare: true });
}
