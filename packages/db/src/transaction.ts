import { setTimeout as sleep } from "node:timers/promises";
import { sql, type DatabasePool, type DatabaseTransactionConnection } from "slonik";

export type Isolation = "read committed" | "repeatable read" | "serializable";

export interface TransactionOptions {
  isolation?: Isolation;
  /** Attempts after the first one when Postgres aborts the transaction (serialization failure, deadlock). */
  retries?: number;
}

/** SQLSTATE class 40: transaction rollback (40001 serialization failure, 40P01 deadlock). */
export function isRetryableConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("40");
}

const ISOLATION_SQL = {
  "read committed": sql.fragment`READ COMMITTED`,
  "repeatable read": sql.fragment`REPEATABLE READ`,
  serializable: sql.fragment`SERIALIZABLE`,
} as const;

/**
 * Runs `handler` in one database transaction and retries it, with jittered
 * backoff, when Postgres aborts it for a conflict. The handler may therefore
 * run more than once: it must not send messages, call other services or keep
 * state outside the transaction (write to the outbox instead). When every
 * attempt conflicts, the last error is thrown; the RPC layer turns it into
 * ABORTED.
 */
export async function inTransaction<T>(
  pool: DatabasePool,
  handler: (tx: DatabaseTransactionConnection) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const isolation = options.isolation ?? "serializable";
  const retries = options.retries ?? 10;
  for (let attempt = 0; ; attempt++) {
    try {
      return await pool.transaction(async (tx: DatabaseTransactionConnection) => {
        if (isolation !== "read committed") {
          await tx.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL ${ISOLATION_SQL[isolation]}`);
        }
        return handler(tx);
      }, 0);
    } catch (error) {
      if (!isRetryableConflict(error) || attempt >= retries) throw error;
      await sleep(Math.random() * Math.min(50, 2 ** attempt));
    }
  }
}
