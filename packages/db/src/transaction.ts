import { setTimeout as sleep } from "node:timers/promises";
import {
  BackendTerminatedError,
  ConnectionError,
  sql,
  type DatabasePool,
  type DatabaseTransactionConnection,
  type QuerySqlToken,
} from "slonik";
import type { Isolation } from "./isolation.js";
import type { PipelinedTransaction, Row, StatementOptions } from "./pipelined-connections.js";
import { defaultIsolationOf } from "./pool.js";

export interface TransactionOptions {
  /** Default: serializable. A level other than the pool's default costs one SET TRANSACTION. */
  isolation?: Isolation;
  /** Attempts after the first one when Postgres aborts the transaction (serialization failure, deadlock). */
  retries?: number;
}

/** SQLSTATE class 40: transaction rollback (40001 serialization failure, 40P01 deadlock). */
export function isRetryableConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("40");
}

/** Callbacks to run once the transaction they were registered in has committed. */
const commitHooks = new WeakMap<CommitScope, Array<() => void>>();

/** The pause before running a transaction again after its `attempt`-th conflict: random, growing to 50 ms. */
export function backOffAfterConflict(attempt: number): Promise<void> {
  return sleep(Math.random() * Math.min(50, 2 ** attempt));
}

/** A transaction that runs commit hooks: a slonik one opened by inTransaction, or a pipelined one. */
export type CommitScope = DatabaseTransactionConnection | PipelinedTransaction;

/**
 * A statement's rows, in a slonik transaction or a pipelined one: for SQL that serves both.
 * The options apply on a pipelined connection (slonik's pools prepare nothing).
 */
export function rowsIn(
  scope: CommitScope,
  statement: QuerySqlToken,
  options: StatementOptions = {},
): Promise<readonly Row[]> {
  return "commitWith" in scope
    ? scope.query(statement, options)
    : (scope.any(statement) as Promise<readonly Row[]>);
}

/** The hooks registered for `scope`, for its owner to run once it has committed. */
export function collectCommitHooks(scope: CommitScope): Array<() => void> {
  const hooks: Array<() => void> = [];
  commitHooks.set(scope, hooks);
  return hooks;
}

/**
 * Runs the hooks of a transaction that committed, each of them even when one throws: what
 * committed must be answered as committed, so a hook's failure is reported as a process
 * warning (and logged by whoever listens for them), never thrown to the caller.
 */
export function runCommitHooks(hooks: readonly (() => void)[]): void {
  for (const hook of hooks) {
    try {
      hook();
    } catch (error) {
      const why = (error as { stack?: unknown } | null)?.stack ?? String(error);
      process.emitWarning(
        `a commit hook failed after its transaction committed: ${String(why)}`,
        "CommitHookFailed",
      );
    }
  }
}

/**
 * Runs `hook` after `tx` commits (never if it rolls back or is retried), for
 * side effects that must not run inside a transaction, such as waking the
 * outbox relay. Works for transactions opened by `inTransaction` and by
 * `PipelinedConnections.transaction`; elsewhere the hook never runs.
 */
export function afterCommit(tx: CommitScope, hook: () => void): void {
  commitHooks.get(tx)?.push(hook);
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
  const setIsolation = isolation !== defaultIsolationOf(pool);
  const retries = options.retries ?? 10;
  for (let attempt = 0; ; attempt++) {
    let hooks: Array<() => void> = [];
    const outcome = await onePooledTransaction(pool, async (tx) => {
      hooks = collectCommitHooks(tx);
      if (setIsolation) {
        await tx.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL ${ISOLATION_SQL[isolation]}`);
      }
      return handler(tx);
    });
    if (outcome.committed) {
      runCommitHooks(hooks);
      return outcome.value;
    }
    if (!isRetryableConflict(outcome.error) || attempt >= retries) throw outcome.error;
    await backOffAfterConflict(attempt);
  }
}

type TransactionOutcome<T> = { committed: true; value: T } | { committed: false; error: unknown };

/**
 * One transaction on a pooled connection, its failure returned rather than
 * thrown. Why: slonik destroys a pooled connection whenever its callback
 * throws, so every refusal, replay and serialization retry would cost a new
 * Postgres backend. A transaction that rolled back cleanly leaves its
 * connection as good as new, so the error is carried out of the callback
 * and the connection goes back to the pool; one whose backend or socket
 * failed is still thrown inside, and destroyed.
 */
async function onePooledTransaction<T>(
  pool: DatabasePool,
  handler: (tx: DatabaseTransactionConnection) => Promise<T>,
): Promise<TransactionOutcome<T>> {
  try {
    return await pool.connect(async (connection) => {
      try {
        return { committed: true, value: await connection.transaction(handler, 0) } as const;
      } catch (error) {
        if (error instanceof BackendTerminatedError || error instanceof ConnectionError) throw error;
        return { committed: false, error } as const;
      }
    });
  } catch (error) {
    return { committed: false, error };
  }
}
