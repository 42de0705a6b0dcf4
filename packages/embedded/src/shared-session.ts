import type { PGlite } from "@electric-sql/pglite";
import { NotificationRouter } from "./notification-router.js";
import {
  messagesOf,
  notificationOf,
  NOTIFICATION_RESPONSE,
  READY_FOR_QUERY,
  simpleQuery,
  sqlTextOf,
  SYNC,
  wholeMessagesLength,
  type TransactionStatus,
} from "./wire-messages.js";

/** A client connection as the session sees it. */
export interface SessionClient {
  /** search_path the client asked for at startup; undefined keeps the instance's default. */
  readonly searchPath: string | undefined;
  /** Writes an asynchronous message (a notification) to the client. */
  push(bytes: Buffer): void;
}

/**
 * PGlite's single Postgres session, shared by every client connection the
 * way a transaction-mode pooler shares a server connection.
 *
 * A client owns the session from its first message until Postgres answers
 * ReadyForQuery with status idle: that covers an explicit transaction and
 * an extended-protocol exchange (Parse … Sync), whose unnamed statement and
 * portal would otherwise be overwritten by another client's. Other clients
 * wait in arrival order. So transactions run one at a time, in full, and a
 * SERIALIZABLE transaction never meets a concurrent one.
 *
 * The session's state is shared: a session-level SET, a prepared statement
 * or a session advisory lock made by one client is seen by all of them.
 * Only search_path follows the client (set when the session changes hands).
 */
export class SharedSession {
  readonly notifications = new NotificationRouter<SessionClient>();
  private owner: SessionClient | undefined;
  private readonly waiting: { client: SessionClient; grant: () => void }[] = [];
  /** What the session's search_path was last set to for a client; undefined means the instance's default. */
  private searchPath: string | undefined;

  constructor(private readonly db: PGlite) {}

  /** Resolves once `client` owns the session; clients are served in the order they asked. */
  acquire(client: SessionClient): Promise<void> {
    if (this.owner === client) return Promise.resolve();
    if (this.owner === undefined) {
      this.owner = client;
      return Promise.resolve();
    }
    return new Promise((grant) => this.waiting.push({ client, grant }));
  }

  /**
   * Answers a StartupMessage. PGlite ignores the startup settings; the
   * client's search_path is applied before its first statement instead.
   */
  startup(client: SessionClient, packet: Buffer): Promise<Buffer> {
    return this.db.runExclusive(async () => {
      this.assertOwner(client);
      return this.reply(client, await this.exec(packet));
    });
  }

  /**
   * Runs whole frontend messages of the owning client and returns Postgres's
   * answer for it. Releases the session when Postgres is idle again.
   */
  run(client: SessionClient, messages: Buffer): Promise<Buffer> {
    return this.db.runExclusive(async () => {
      this.assertOwner(client);
      for (const message of messagesOf(messages)) {
        const text = sqlTextOf(message);
        if (text !== undefined) this.notifications.track(client, text);
      }
      if (client.searchPath !== this.searchPath) {
        await this.exec(
          simpleQuery(
            client.searchPath === undefined
              ? "RESET search_path"
              : `SELECT pg_catalog.set_config('search_path', ${quoteLiteral(client.searchPath)}, false)`,
          ),
        );
        this.searchPath = client.searchPath;
      }
      return this.reply(client, await this.exec(messages));
    });
  }

  /**
   * Forgets a client whose connection closed. If it owned the session, ends
   * what it left open (an extended exchange without Sync, a transaction),
   * as Postgres does when a backend's client goes away, and passes the
   * session on.
   */
  async abandon(client: SessionClient): Promise<void> {
    this.notifications.forget(client);
    const index = this.waiting.findIndex((w) => w.client === client);
    // Its acquire() never resolves; the closed connection awaits nothing else.
    if (index >= 0) this.waiting.splice(index, 1);
    await this.db.runExclusive(async () => {
      if (this.owner !== client) return;
      try {
        await this.exec(SYNC);
        if (this.db.isInTransaction()) await this.exec(simpleQuery("ROLLBACK"));
      } finally {
        this.release(client);
      }
    });
  }

  private assertOwner(client: SessionClient): void {
    if (this.owner !== client) throw new Error("the session belongs to another connection");
  }

  private release(client: SessionClient): void {
    if (this.owner !== client) return;
    const next = this.waiting.shift();
    this.owner = next?.client;
    next?.grant();
  }

  /** Sends notifications to their listeners, keeps the rest for `client`, and releases the session if idle. */
  private reply(client: SessionClient, output: Buffer): Buffer {
    const whole = wholeMessagesLength(output);
    const kept: Buffer[] = [];
    let status: TransactionStatus | undefined;
    for (const message of messagesOf(output.subarray(0, whole))) {
      if (message.type === NOTIFICATION_RESPONSE) {
        for (const listener of this.notifications.listenersOf(notificationOf(message).channel)) {
          if (listener === client) kept.push(message.bytes);
          else listener.push(Buffer.from(message.bytes));
        }
        continue;
      }
      kept.push(message.bytes);
      if (message.type === READY_FOR_QUERY)
        status = String.fromCharCode(message.body[0]!) as TransactionStatus;
      else if (!ASYNCHRONOUS.has(message.type)) status = undefined;
    }
    if (whole < output.length) {
      kept.push(output.subarray(whole));
      status = undefined;
    }
    if (status === "I") this.release(client);
    return Buffer.concat(kept);
  }

  /** Runs raw protocol bytes on the session and collects the answer (PGlite lends its own memory: copy). */
  private async exec(bytes: Buffer): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.db.execProtocolRawStream(bytes, { onRawData: (data) => chunks.push(Buffer.from(data)) });
    return Buffer.concat(chunks);
  }
}

/** NoticeResponse and ParameterStatus may follow a ReadyForQuery without starting a new exchange. */
const ASYNCHRONOUS: ReadonlySet<number> = new Set([0x4e, 0x53]);

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
