import { sql, type CommonQueryMethods } from "@money/db";
import type { AccountType } from "../domain/accounts/account.js";

export interface PostedTotalsRow {
  accountId: string;
  type: AccountType;
  currency: string;
  postedDebitsMinor: bigint;
  postedCreditsMinor: bigint;
}

/** Every account's posted totals from its balance row, by currency then id. */
export async function postedTotalsByAccount(db: CommonQueryMethods): Promise<PostedTotalsRow[]> {
  const rows = await db.any(sql.unsafe`
    SELECT a.id, a.type, a.currency, b.posted_debits_minor, b.posted_credits_minor
    FROM accounts a JOIN balances b ON b.account_id = a.id
    ORDER BY a.currency, a.id
  `);
  return rows.map((r) => ({
    accountId: r["id"] as string,
    type: r["type"] as AccountType,
    currency: r["currency"] as string,
    postedDebitsMinor: BigInt(r["posted_debits_minor"] as string),
    postedCreditsMinor: BigInt(r["posted_credits_minor"] as string),
  }));
}

export interface PeriodRow {
  accountId: string;
  type: AccountType;
  currency: string;
  openingMinor: bigint;
  debitsMinor: bigint;
  creditsMinor: bigint;
  closingMinor: bigint;
}

/**
 * Per account, over posting times [from, to): the balance after its last
 * entry before `from` (opening) and before `to` (closing), each one index
 * descent, and the sums of its entries in between (a range scan of the period).
 */
export async function periodFigures(db: CommonQueryMethods, from: Date, to: Date): Promise<PeriodRow[]> {
  const f = from.toISOString();
  const t = to.toISOString();
  const rows = await db.any(sql.unsafe`
    SELECT a.id, a.type, a.currency,
      coalesce(opening.balance_after_minor, 0) AS opening,
      coalesce(moved.debits, 0) AS debits,
      coalesce(moved.credits, 0) AS credits,
      coalesce(closing.balance_after_minor, 0) AS closing
    FROM accounts a
    LEFT JOIN LATERAL (
      SELECT balance_after_minor FROM entries e WHERE e.account_id = a.id AND e.posted_at < ${f}
      ORDER BY e.posted_at DESC, e.account_version DESC LIMIT 1
    ) opening ON true
    LEFT JOIN LATERAL (
      SELECT balance_after_minor FROM entries e WHERE e.account_id = a.id AND e.posted_at < ${t}
      ORDER BY e.posted_at DESC, e.account_version DESC LIMIT 1
    ) closing ON true
    LEFT JOIN (
      SELECT account_id,
        sum(amount_minor) FILTER (WHERE direction = 'debit') AS debits,
        sum(amount_minor) FILTER (WHERE direction = 'credit') AS credits
      FROM entries WHERE posted_at >= ${f} AND posted_at < ${t}
      GROUP BY account_id
    ) moved ON moved.account_id = a.id
    WHERE a.created_at < ${t}
    ORDER BY a.currency, a.id
  `);
  return rows.map((r) => ({
    accountId: r["id"] as string,
    type: r["type"] as AccountType,
    currency: r["currency"] as string,
    openingMinor: BigInt(r["opening"] as string),
    debitsMinor: BigInt(r["debits"] as string),
    creditsMinor: BigInt(r["credits"] as string),
    closingMinor: BigInt(r["closing"] as string),
  }));
}

export interface RecomputedRow {
  accountId: string;
  type: AccountType;
  currency: string;
  stored: Record<
    "posted_debits" | "posted_credits" | "pending_debits" | "pending_credits" | "version",
    bigint
  >;
  recomputed: Record<
    "posted_debits" | "posted_credits" | "pending_debits" | "pending_credits" | "version",
    bigint
  >;
  /** Balance after the account's last entry; null when it has none. */
  lastBalanceAfterMinor: bigint | null;
}

/** Each balance row beside the same figures summed from the entries and the open holds. */
export async function recomputeBalances(db: CommonQueryMethods): Promise<RecomputedRow[]> {
  const rows = await db.any(sql.unsafe`
    SELECT a.id, a.type, a.currency,
      b.posted_debits_minor, b.posted_credits_minor, b.pending_debits_minor, b.pending_credits_minor, b.version,
      coalesce(e.debits, 0) AS e_debits, coalesce(e.credits, 0) AS e_credits, coalesce(e.entries, 0) AS e_count,
      coalesce(hd.held, 0) AS h_debits, coalesce(hc.held, 0) AS h_credits,
      last.balance_after_minor AS last_after
    FROM accounts a
    JOIN balances b ON b.account_id = a.id
    LEFT JOIN (
      SELECT account_id,
        sum(amount_minor) FILTER (WHERE direction = 'debit') AS debits,
        sum(amount_minor) FILTER (WHERE direction = 'credit') AS credits,
        count(*) AS entries
      FROM entries GROUP BY account_id
    ) e ON e.account_id = a.id
    LEFT JOIN (
      SELECT debit_account_id AS account_id, sum(amount_minor) AS held FROM holds WHERE status = 'open' GROUP BY 1
    ) hd ON hd.account_id = a.id
    LEFT JOIN (
      SELECT credit_account_id AS account_id, sum(amount_minor) AS held FROM holds WHERE status = 'open' GROUP BY 1
    ) hc ON hc.account_id = a.id
    LEFT JOIN LATERAL (
      SELECT balance_after_minor FROM entries x WHERE x.account_id = a.id ORDER BY x.account_version DESC LIMIT 1
    ) last ON true
    ORDER BY a.currency, a.id
  `);
  const big = (v: unknown) => BigInt(v as string);
  return rows.map((r) => ({
    accountId: r["id"] as string,
    type: r["type"] as AccountType,
    currency: r["currency"] as string,
    stored: {
      posted_debits: big(r["posted_debits_minor"]),
      posted_credits: big(r["posted_credits_minor"]),
      pending_debits: big(r["pending_debits_minor"]),
      pending_credits: big(r["pending_credits_minor"]),
      version: big(r["version"]),
    },
    recomputed: {
      posted_debits: big(r["e_debits"]),
      posted_credits: big(r["e_credits"]),
      pending_debits: big(r["h_debits"]),
      pending_credits: big(r["h_credits"]),
      version: big(r["e_count"]),
    },
    lastBalanceAfterMinor: r["last_after"] === null ? null : big(r["last_after"]),
  }));
}

/** Journal rows that name an account or a transaction that does not exist, counted by what they name. */
export interface DanglingReference {
  /** The rows' table and the name they carry: entries.account_id, entries.transaction_id, … */
  reference: "entries.account_id" | "entries.transaction_id" | "transaction_status_history.transaction_id";
  /** The id named, which no row has. */
  id: string;
  rows: bigint;
}

/**
 * Entries and status changes naming a row that does not exist. The service
 * never writes one (the journal has no foreign keys, for speed: migration
 * 0004), so any row here was written behind its back.
 */
export async function danglingJournalReferences(db: CommonQueryMethods): Promise<DanglingReference[]> {
  const rows = await db.any(sql.unsafe`
    SELECT 'entries.account_id' AS reference, e.account_id::text AS id, count(*) AS rows
    FROM entries e WHERE NOT EXISTS (SELECT FROM accounts a WHERE a.id = e.account_id) GROUP BY e.account_id
    UNION ALL
    SELECT 'entries.transaction_id', e.transaction_id::text, count(*)
    FROM entries e WHERE NOT EXISTS (SELECT FROM transactions t WHERE t.id = e.transaction_id)
    GROUP BY e.transaction_id
    UNION ALL
    SELECT 'transaction_status_history.transaction_id', h.transaction_id::text, count(*)
    FROM transaction_status_history h WHERE NOT EXISTS (SELECT FROM transactions t WHERE t.id = h.transaction_id)
    GROUP BY h.transaction_id
    ORDER BY 1, 2
  `);
  return rows.map((r) => ({
    reference: r["reference"] as DanglingReference["reference"],
    id: r["id"] as string,
    rows: BigInt(r["rows"] as string),
  }));
}
