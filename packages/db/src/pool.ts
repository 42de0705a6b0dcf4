import { createPool, type DatabasePool, type DriverTypeParser } from "slonik";
import type { Isolation } from "./isolation.js";

/**
 * Type parsers for every pool of the platform. Money columns (numeric) and
 * counters (int8) arrive as the exact text Postgres sent: slonik's defaults
 * turn numeric into a float and int8 into a BigInt, and a float is how cents
 * get lost.
 */
export const PLATFORM_TYPE_PARSERS: readonly DriverTypeParser[] = [
  { name: "numeric", parse: (text) => text },
  { name: "int8", parse: (text) => text },
  { name: "timestamptz", parse: parseTimestamp },
  { name: "date", parse: (text) => text },
];

/** Postgres sends "2026-11-22 11:00:00.123456+00"; Date wants ISO 8601 with a full offset. */
function parseTimestamp(text: string): Date {
  const iso = text.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00");
  return new Date(iso);
}

export interface PoolOptions {
  maximumPoolSize?: number;
  /** Milliseconds a single statement may run before Postgres cancels it. */
  statementTimeoutMs?: number;
  /**
   * Isolation level every transaction of this pool starts in, set once per
   * connection at startup (`default_transaction_isolation`), so that a
   * transaction at this level costs no SET TRANSACTION round trip. Default:
   * Postgres's own, read committed.
   */
  defaultIsolation?: Isolation;
}

const defaultIsolations = new WeakMap<DatabasePool, Isolation>();

/** The level a transaction of `pool` starts in when it sets none. */
export function defaultIsolationOf(pool: DatabasePool): Isolation {
  return defaultIsolations.get(pool) ?? "read committed";
}

/**
 * Opens a slonik pool with the platform's type parsers. Transactions are not
 * retried by slonik itself: `inTransaction` owns retries so that they back
 * off and stay bounded.
 */
export async function createDatabasePool(url: string, options: PoolOptions = {}): Promise<DatabasePool> {
  const isolation = options.defaultIsolation ?? "read committed";
  const pool = await createPool(withDefaultIsolation(url, isolation), {
    typeParsers: PLATFORM_TYPE_PARSERS,
    maximumPoolSize: options.maximumPoolSize ?? 10,
    statementTimeout: options.statementTimeoutMs ?? 30_000,
    transactionRetryLimit: 0,
    queryRetryLimit: 0,
    // DISCARD ALL after every checkout costs a round trip and would drop the
    // session's search_path in embedded mode; our code never leaves session state behind.
    resetConnection: async () => {},
  });
  defaultIsolations.set(pool, isolation);
  return pool;
}

/**
 * Adds `-c default_transaction_isolation=…` to the URL's startup options,
 * beside any already there (search_path in embedded mode). A space inside
 * an option's value is escaped with a backslash, as libpq expects.
 */
function withDefaultIsolation(url: string, isolation: Isolation): string {
  if (isolation === "read committed") return url;
  const parsed = new URL(url);
  const setting = `-c default_transaction_isolation=${isolation.replace(" ", "\\ ")}`;
  const options = parsed.searchParams.get("options");
  parsed.searchParams.set("options", options ? `${options} ${setting}` : setting);
  return parsed.toString();
}
