/**
 * Which client connection listens on which channel.
 *
 * PGlite has one session, so a LISTEN from any connection makes the session
 * listen, and Postgres writes the NotificationResponse into the output of
 * whichever connection happened to commit the NOTIFY. The router sends each
 * notification to the connections that asked for its channel instead, which
 * is what a Postgres server with one backend per connection does.
 *
 * It learns about LISTEN and UNLISTEN by reading statements that consist of
 * exactly one of them (how pg and the outbox relay send them); a LISTEN
 * hidden in a multi-statement string or a function is not seen, and its
 * notifications are dropped.
 */
export class NotificationRouter<Connection> {
  private readonly listeners = new Map<string, Set<Connection>>();

  /** Records `sql` if it is a lone LISTEN or UNLISTEN. */
  track(connection: Connection, sql: string): void {
    const statement = LISTEN_STATEMENT.exec(sql);
    if (!statement) return;
    const [, verb, name] = statement;
    if (verb!.toUpperCase() === "LISTEN") {
      const channel = channelName(name!);
      let set = this.listeners.get(channel);
      if (!set) this.listeners.set(channel, (set = new Set()));
      set.add(connection);
    } else if (name === "*") {
      this.forget(connection);
    } else {
      this.remove(channelName(name!), connection);
    }
  }

  /** The connections listening on `channel`. */
  listenersOf(channel: string): ReadonlySet<Connection> {
    return this.listeners.get(channel) ?? EMPTY;
  }

  /** Drops every channel of a connection that closed. */
  forget(connection: Connection): void {
    for (const channel of [...this.listeners.keys()]) this.remove(channel, connection);
  }

  private remove(channel: string, connection: Connection): void {
    const set = this.listeners.get(channel);
    set?.delete(connection);
    if (set?.size === 0) this.listeners.delete(channel);
  }
}

const EMPTY: ReadonlySet<never> = new Set();

const LISTEN_STATEMENT = /^\s*(LISTEN|UNLISTEN)\s+("(?:[^"]|"")+"|\*|[\p{L}_][\p{L}\p{N}_$]*)\s*;?\s*$/iu;

/** An identifier as Postgres stores it: quoted ones verbatim, others folded to lower case. */
function channelName(identifier: string): string {
  return identifier.startsWith('"')
    ? identifier.slice(1, -1).replaceAll('""', '"')
    : identifier.toLowerCase();
}
