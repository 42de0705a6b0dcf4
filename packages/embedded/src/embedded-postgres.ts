import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { WireServer } from "./wire-server.js";

export interface EmbeddedPostgresOptions {
  /** Folder of the data files, created if missing and reused by the next start. Without it the database lives in memory. */
  dataDir?: string;
  /**
   * search_path of every connection that does not choose its own (with
   * `options=-c search_path=...` in its URL): the service's schema, as
   * `ALTER ROLE <service>_service SET search_path` gives it on a real
   * server. It survives RESET ALL and DISCARD ALL. Default "public".
   */
  searchPath?: string;
  /** Client connections accepted at once; more are refused with SQLSTATE 53300. Default 32. */
  maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`; no password is asked. */
  url: string;
  port: number;
  /** Client connections accepted at once, the listener and the migrator included. */
  maxConnections: number;
  /**
   * Pool size for `createDatabasePool`. PGlite has one session and runs one
   * transaction at a time, so a larger pool only moves the queue from the
   * pool to the server; any size up to maxConnections minus the other
   * clients works.
   */
  maximumPoolSize: number;
  /** Closes every connection (rolling back open transactions), frees the port, and closes PGlite. */
  stop(): Promise<void>;
}

const SEARCH_PATH = /^[a-z_][a-z0-9_$]*(\s*,\s*[a-z_][a-z0-9_$]*)*$/;

/**
 * Starts Postgres inside this process: one PGlite instance behind a wire
 * protocol server on 127.0.0.1 and a free port, for `pg` and slonik.
 *
 * Not a full server, and the differences matter to callers:
 * - One session serves every connection. A connection holds it from its
 *   first message until Postgres is idle outside a transaction, so
 *   transactions run one after another, never interleaved: no
 *   serialization failures or deadlocks, and a transaction that waits on
 *   another connection of the same instance (a query outside it, another
 *   service sharing the instance) waits forever.
 * - Session state is shared: advisory locks never block (pg_advisory_lock
 *   re-enters, pg_try_advisory_xact_lock always wins, which is harmless
 *   since transactions are serial), and a session-level SET is seen by all.
 * - LISTEN works for a lone `LISTEN channel` statement; notifications go
 *   to the connections that asked for them.
 * - search_path is the one startup setting honoured, per connection
 *   (`?options=-c%20search_path%3Dledger`); statement_timeout and the
 *   others are ignored, as PGlite ignores them.
 *
 * One instance per service, `searchPath` set to its schema, keeps the
 * services' transactions apart. Each costs about 3.5 s and 200 MB (the
 * first one in a process 700 MB); on disk, a first start takes 10 s and a
 * restart 0.5 s. Services may instead share one instance, each with its
 * search_path in its URL, if their transactions may queue behind one
 * another's.
 *
 * @throws Error if `searchPath` is not a list of plain identifiers, or PGlite cannot open `dataDir`.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const searchPath = options.searchPath ?? "public";
  if (!SEARCH_PATH.test(searchPath)) throw new Error(`bad search_path ${searchPath}`);
  const maxConnections = options.maxConnections ?? 32;
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    startParams: withSearchPath(PGlite.defaultStartParams, searchPath),
  });
  let server: WireServer;
  try {
    server = await WireServer.listen({ db, host: "127.0.0.1", port: 0, maxConnections });
  } catch (error) {
    await db.close();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${server.port}/postgres`,
    port: server.port,
    maxConnections,
    maximumPoolSize: 1,
    stop() {
      stopping ??= server.close().then(() => db.close());
      return stopping;
    },
  };
}

/**
 * PGlite's start parameters with our search_path. A command-line setting
 * is the session's default, so RESET ALL and DISCARD ALL come back to it.
 */
function withSearchPath(defaults: readonly string[], searchPath: string): string[] {
  const setting = `search_path=${searchPath}`;
  const index = defaults.findIndex((p) => p.startsWith("search_path="));
  return index >= 0 ? defaults.map((p, i) => (i === index ? setting : p)) : [...defaults, "-c", setting];
}
