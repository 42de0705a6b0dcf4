import { createHash } from "node:crypto";
import pg from "pg";
import { parse as parseArray } from "postgres-array";
import type { QuerySqlToken } from "slonik";
import { PLATFORM_TYPE_PARSERS } from "./pool.js";
import {
  backOffAfterConflict,
  collectCommitHooks,
  isRetryableConflict,
  runCommitHooks,
} from "./transaction.js";

/** A row as node-postgres returns it, parsed by the platform's type parsers. */
export type Row = Record<string, unknown>;

/**
 * One transaction on a pipelined connection, at its connections' isolation level. Statements
 * go out as soon as they are given, without waiting for the ones before:
 * the first goes out with the transaction's BEGIN, the last with its COMMIT.
 */
export interface PipelinedTransaction {
  /** Runs a statement in the transaction; the transaction's first statement shares its round trip with BEGIN. */
  query(statement: QuerySqlToken, options?: StatementOptions): Promise<readonly Row[]>;
  /**
   * Runs the transaction's last statement and commits, in one round trip:
   * COMMIT is sent right behind the statement, before its result is known.
   * A statement that fails aborts the transaction, so that COMMIT rolls it
   * back, and its error is thrown. A statement that finds the transaction
   * must not commit must therefore fail itself (raise), not return a flag.
   */
  commitWith(statement: QuerySqlToken, options?: StatementOptions): Promise<readonly Row[]>;
}

export interface StatementOptions {
  /**
   * Prepare the statement on its connection, named by its text: it is parsed
   * once per connection instead of once per call, and after five calls
   * Postgres may run it with one generic plan, planned without its values
   * and kept until the tables' statistics change. For a hot statement whose
   * best plan does not depend on its values or on how big its tables have
   * grown since (rows looked up by key). Not for one that scans a table that
   * fills and empties, such as the outbox: prepared, the relay's pass took
   * nine times as long in Postgres (1.8 ms against 0.2 ms). Its text must
   * carry no values, only placeholders, as the sql tag writes them. When a
   * migration changes the shape of its tables' rows, the statement fails
   * once per connection (SQLSTATE 0A000), and that connection is replaced.
   */
  prepare?: boolean;
}

export interface PipelinedConnectionsOptions {
  /** Connections at most; a transaction beyond them waits for one. */
  size: number;
  /** Milliseconds a single statement may run before Postgres cancels it. */
  statementTimeoutMs?: number;
  /**
   * Every transaction's level (default read committed). A serializable one can fail with a
   * serialization error (SQLSTATE 40001) at any statement or at COMMIT: the caller retries it.
   */
  isolation?: "read committed" | "serializable";
}

/**
 * Connections of their own in node-postgres's pipeline mode, for a hot path
 * whose transactions are two statements: BEGIN is sent with the first and
 * COMMIT with the last, two round trips instead of four. Why not slonik's
 * pool: slonik waits for each statement's result before it sends the next.
 * On two saturated cores each round trip is also a wait for a core, so the
 * loyalty group commit's batches got about 10% more postings through.
 *
 * A hot statement can be prepared on its connection (StatementOptions):
 * for the loyalty group commit's two, that saved about a sixth of
 * Postgres's time per posting.
 *
 * Statements are slonik `sql` tokens, so the SQL is written as everywhere
 * else; rows are parsed by the same type parsers as the pools' (numeric and
 * int8 as text). Connections open on first use.
 */
export class PipelinedConnections {
  private readonly idle: pg.Client[] = [];
  private readonly waiting: Array<{ resolve(client: pg.Client): void; reject(error: unknown): void }> = [];
  private readonly broken = new WeakSet<pg.Client>();
  /** Each connection's names for the statements it has prepared. */
  private readonly preparedNames = new WeakMap<pg.Client, (text: string) => string | undefined>();
  private opened = 0;
  private ended = false;
  /**
   * The pools' type parsers (pool.ts) by the OIDs of their types and arrays,
   * looked up by the first connection that opens; every connection reads them here.
   */
  private readonly parsersByOid = new Map<number, (text: string) => unknown>();
  private readonly types: pg.CustomTypesConfig = {
    getTypeParser: ((oid: number, format?: string) =>
      this.parsersByOid.get(oid) ??
      pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
  };

  constructor(
    private readonly url: string,
    private readonly options: PipelinedConnectionsOptions,
  ) {}

  /** Connections at most: how many transactions run at once. */
  get size(): number {
    return this.options.size;
  }

  /**
   * Runs `body` in one transaction. It commits when `body` calls commitWith,
   * or when `body` returns (one more round trip); it rolls back when `body`
   * throws, and the error is rethrown. A body that returns after its
   * commitWith failed gets that failure thrown: nothing committed. With
   * `retries`, a serialization failure or deadlock (SQLSTATE 40xxx) runs
   * `body` again in a new transaction, up to that many times, as
   * inTransaction does.
   */
  async transaction<T>(
    body: (tx: PipelinedTransaction) => Promise<T>,
    { retries = 0 }: { retries?: number } = {},
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(body);
      } catch (error) {
        if (!isRetryableConflict(error) || attempt >= retries) throw error;
        await backOffAfterConflict(attempt);
      }
    }
  }

  private async once<T>(body: (tx: PipelinedTransaction) => Promise<T>): Promise<T> {
    const client = await this.acquire();
    const transaction = new OneTransaction(
      client,
      this.preparedNames.get(client)!,
      this.options.isolation === "serializable" ? BEGIN_SERIALIZABLE : BEGIN_READ_COMMITTED,
    );
    const hooks = collectCommitHooks(transaction);
    let value: T;
    try {
      value = await body(transaction);
      await transaction.commitIfOpen();
    } catch (error) {
      await transaction.rollBackIfOpen().then(
        // A prepared statement whose tables changed shape fails on every call
        // ("cached plan must not change result type"): its connection goes.
        () => (isStalePlan(error) ? this.discard(client) : this.release(client)),
        () => this.discard(client),
      );
      throw error;
    } finally {
      // A statement given after this point would run outside the transaction, on a connection another caller may hold.
      transaction.close();
    }
    this.release(client);
    if (transaction.failure !== undefined) throw transaction.failure;
    if (transaction.committed) runCommitHooks(hooks);
    return value;
  }

  /**
   * Closes every idle connection and each busy one as its transaction ends;
   * transactions still waiting for a connection are refused.
   */
  async end(): Promise<void> {
    this.ended = true;
    for (const waiter of this.waiting.splice(0))
      waiter.reject(new Error("the pipelined connections were closed"));
    const idle = this.idle.splice(0);
    this.opened -= idle.length;
    await Promise.all(idle.map((client) => client.end().catch(() => {})));
  }

  private async acquire(): Promise<pg.Client> {
    if (this.ended) throw new Error("the pipelined connections were closed");
    for (let client = this.idle.pop(); client; client = this.idle.pop()) {
      if (!this.broken.has(client)) return client;
      void this.discard(client);
    }
    if (this.opened >= this.options.size) {
      return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
    }
    this.opened++;
    try {
      return await this.open();
    } catch (error) {
      this.opened--;
      this.openForNextWaiter();
      throw error;
    }
  }

  private async open(): Promise<pg.Client> {
    const statementTimeoutMs = this.options.statementTimeoutMs ?? 30_000;
    const client = new pg.Client({
      connectionString: this.url,
      pipeline: true,
      statement_timeout: statementTimeoutMs,
      // Postgres cancels a slow statement itself; these catch a server or a
      // network that stopped answering, which would otherwise hang the transaction.
      query_timeout: statementTimeoutMs + 5_000,
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
      types: this.types,
    } as pg.ClientConfig);
    // A connection that fails is dropped when its transaction ends (without
    // a listener, its error would crash the process).
    client.on("error", () => this.broken.add(client));
    client.on("end", () => this.broken.add(client));
    await client.connect();
    if (this.parsersByOid.size === 0)
      await this.lookUpTypeParsers(client).catch(async (error: unknown) => {
        await client.end().catch(() => {});
        throw error;
      });
    this.preparedNames.set(client, statementNames());
    return client;
  }

  private release(client: pg.Client): void {
    if (this.broken.has(client) || this.ended) {
      void this.discard(client);
      return;
    }
    const next = this.waiting.shift();
    if (next) next.resolve(client);
    else this.idle.push(client);
  }

  /** Drops a connection whose state is unknown; a waiting transaction gets a new one. */
  private async discard(client: pg.Client): Promise<void> {
    const closed = client.end().catch(() => {});
    this.opened--;
    this.openForNextWaiter();
    await closed;
  }

  /** A slot came free without a connection to hand over: open one for the next waiting transaction. */
  private openForNextWaiter(): void {
    if (this.ended || this.opened >= this.options.size) return;
    const next = this.waiting.shift();
    if (!next) return;
    this.opened++;
    this.open().then(next.resolve, (error: unknown) => {
      this.opened--;
      next.reject(error);
      this.openForNextWaiter();
    });
  }

  private async lookUpTypeParsers(client: pg.Client): Promise<void> {
    const { rows } = await client.query<{ oid: number; typarray: number; typname: string }>(
      `SELECT oid::int, typarray::int, typname FROM pg_type WHERE typname = ANY($1::text[])`,
      [PLATFORM_TYPE_PARSERS.map((parser) => parser.name)],
    );
    const found = PLATFORM_TYPE_PARSERS.map(({ name, parse }) => {
      const type = rows.find((t) => t.typname === name);
      if (!type) throw new Error(`database type "${name}" not found`);
      return { type, parse };
    });
    // All at once, so that a failed lookup leaves none and the next connection looks again.
    for (const { type, parse } of found) {
      this.parsersByOid.set(type.oid, parse);
      if (type.typarray) this.parsersByOid.set(type.typarray, (text) => parseArray(text, parse));
    }
  }
}

// The level said, not the session's default: the pool's URL may set another.
const BEGIN_READ_COMMITTED = "BEGIN ISOLATION LEVEL READ COMMITTED";
const BEGIN_SERIALIZABLE = "BEGIN ISOLATION LEVEL SERIALIZABLE";

class OneTransaction implements PipelinedTransaction {
  private begun: Promise<unknown> | null = null;
  /** COMMIT or ROLLBACK has been sent, or the transaction is over: nothing more may run in it. */
  private ended = false;
  /** Why a commitWith did not commit, if it did not. */
  failure: unknown = undefined;
  committed = false;

  constructor(
    private readonly client: pg.Client,
    private readonly statementName: (text: string) => string | undefined,
    private readonly begin: string,
  ) {}

  query(statement: QuerySqlToken, options: StatementOptions = {}): Promise<readonly Row[]> {
    if (this.ended) return Promise.reject(new Error("the transaction has ended"));
    this.begun ??= this.client.query(this.begin);
    const text = statement.sql.replaceAll("$slonik_", "$");
    const rows = this.client
      .query({
        name: options.prepare ? this.statementName(text) : undefined,
        text,
        values: statement.values as unknown[],
      })
      .then((result) => result.rows as Row[]);
    return Promise.all([this.begun, rows]).then(([, result]) => result);
  }

  async commitWith(statement: QuerySqlToken, options: StatementOptions = {}): Promise<readonly Row[]> {
    if (this.ended) throw new Error("the transaction has ended");
    const rows = this.query(statement, options);
    const commit = this.commit();
    // Both answers arrive before the connection is free again, whichever fails.
    const [statementOutcome, commitOutcome] = await Promise.allSettled([rows, commit]);
    const failure =
      statementOutcome.status === "rejected"
        ? statementOutcome.reason
        : commitOutcome.status === "rejected"
          ? commitOutcome.reason
          : undefined;
    if (failure !== undefined) {
      this.failure = failure;
      throw failure;
    }
    return (statementOutcome as PromiseFulfilledResult<readonly Row[]>).value;
  }

  async commitIfOpen(): Promise<void> {
    if (!this.ended && this.begun) await Promise.all([this.begun, this.commit()]);
  }

  async rollBackIfOpen(): Promise<void> {
    // A COMMIT that was sent has ended the transaction, committed or not.
    if (!this.begun || this.ended) return;
    this.ended = true;
    await this.begun.catch(() => {});
    await this.client.query("ROLLBACK");
  }

  close(): void {
    this.ended = true;
  }

  private async commit(): Promise<void> {
    this.ended = true;
    const result = await this.client.query("COMMIT");
    // COMMIT in a transaction that an earlier statement aborted answers ROLLBACK, not an error.
    if (result.command !== "COMMIT") throw new Error("the transaction rolled back at COMMIT");
    this.committed = true;
  }
}

/** SQLSTATE 0A000, which Postgres raises for a prepared statement whose result columns changed. */
const isStalePlan = (error: unknown) => (error as { code?: unknown } | null)?.code === "0A000";

/**
 * Prepared statements per connection at most. A caller that wrote values
 * into its SQL text would otherwise fill the backend's memory with one
 * statement per call; past the limit, statements are parsed each time.
 */
const MAX_PREPARED_PER_CONNECTION = 100;

/** Names for one connection's statements, by their text; undefined (unnamed) past the limit. */
function statementNames(): (text: string) => string | undefined {
  const names = new Set<string>();
  return (text) => {
    const name = `pipelined_${createHash("sha1").update(text).digest("base64url")}`;
    if (names.has(name)) return name;
    if (names.size >= MAX_PREPARED_PER_CONNECTION) return undefined;
    names.add(name);
    return name;
  };
}
