import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";
import { SharedSession } from "./shared-session.js";
import { WireConnection } from "./wire-connection.js";
import { errorResponse } from "./wire-messages.js";

export interface WireServerOptions {
  db: PGlite;
  host: string;
  /** 0 lets the system pick a free port. */
  port: number;
  maxConnections: number;
}

/**
 * A Postgres wire-protocol server in front of one PGlite instance, so that
 * `pg` and slonik connect to it as to any Postgres server.
 *
 * It replaces `PGLiteSocketServer` from @electric-sql/pglite-socket 0.2.17,
 * whose multiplexer hands PGlite one message at a time from whichever
 * connection is next: outside an explicit transaction, one client's Parse
 * and Bind can be split by another client's Parse (a Bind then reports
 * "bind message supplies 2 parameters, but prepared statement "" requires
 * 1", or runs the wrong statement). Here a connection keeps the session
 * until Postgres is idle again; see SharedSession.
 */
export class WireServer {
  private readonly connections = new Set<WireConnection>();
  private readonly session: SharedSession;

  private constructor(
    private readonly server: Server,
    options: WireServerOptions,
  ) {
    this.session = new SharedSession(options.db);
    server.on("connection", (socket: Socket) => {
      if (this.connections.size >= options.maxConnections) {
        // What Postgres answers past max_connections; pg reports it as the connect error.
        // pg keeps its end open after a startup error, so close ours fully.
        socket.on("error", () => {});
        socket.end(errorResponse("FATAL", "53300", "sorry, too many clients already"), () =>
          socket.destroy(),
        );
        return;
      }
      const connection = new WireConnection(socket, this.session);
      this.connections.add(connection);
      void connection.finished.then(() => this.connections.delete(connection));
    });
  }

  /** Starts listening; rejects if the port is taken. */
  static async listen(options: WireServerOptions): Promise<WireServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    return new WireServer(server, options);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Stops accepting, closes every connection, and waits until their open transactions are rolled back. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const connections = [...this.connections];
    for (const connection of connections) connection.end();
    await Promise.all(connections.map((c) => c.finished));
    await closed;
  }
}
