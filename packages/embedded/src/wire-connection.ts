import type { Socket } from "node:net";
import type { SessionClient, SharedSession } from "./shared-session.js";
import {
  CANCEL_REQUEST_CODE,
  commandLineSettings,
  errorResponse,
  GSSENC_REQUEST_CODE,
  messagesOf,
  PROTOCOL_MAJOR_3,
  SSL_REQUEST_CODE,
  startupParameters,
  TERMINATE,
  wholeMessagesLength,
} from "./wire-messages.js";

/** Postgres refuses startup packets above 10 000 bytes; so do we. */
const MAX_STARTUP_PACKET_BYTES = 10_000;

/**
 * One client's TCP connection: frames its messages and hands them to the
 * shared session in batches, in order. All complete messages that arrived
 * together go in one batch, so a pipelined Parse/Bind/Execute/Sync costs
 * one trip through PGlite.
 */
export class WireConnection implements SessionClient {
  searchPath: string | undefined;
  /** Settles once the connection is closed and whatever it left open in the session is rolled back. */
  readonly finished: Promise<void>;
  private buffer: Buffer = Buffer.alloc(0);
  private started = false;
  private pumping = false;
  private ended = false;
  private markFinished: () => void = () => {};

  constructor(
    private readonly socket: Socket,
    private readonly session: SharedSession,
  ) {
    this.finished = new Promise((resolve) => (this.markFinished = resolve));
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      void this.pump();
    });
    // A reset by the client is an ordinary way to leave; 'close' follows.
    socket.on("error", () => {});
    socket.on("close", () => this.end());
  }

  push(bytes: Buffer): void {
    if (!this.ended && this.socket.writable && bytes.length > 0) this.socket.write(bytes);
  }

  /** Closes the socket and releases the session; safe to call more than once. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.buffer = Buffer.alloc(0);
    this.socket.end();
    this.socket.destroySoon();
    this.session
      .abandon(this)
      .catch(() => {
        // PGlite is closing or broken; there is nothing left to roll back.
      })
      .finally(() => this.markFinished());
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.ended && (this.started ? await this.serveMessages() : await this.serveStartup()));
    } catch (error) {
      this.push(errorResponse("FATAL", "XX000", `embedded postgres: ${(error as Error).message}`));
      this.end();
    } finally {
      this.pumping = false;
    }
  }

  /** Handles one packet of the startup phase; false when it needs more bytes or the connection ended. */
  private async serveStartup(): Promise<boolean> {
    if (this.buffer.length < 8) return false;
    const length = this.buffer.readInt32BE(0);
    const code = this.buffer.readInt32BE(4);
    if (length < 8 || length > MAX_STARTUP_PACKET_BYTES) {
      this.push(errorResponse("FATAL", "08P01", "invalid length of startup packet"));
      this.end();
      return false;
    }
    if (this.buffer.length < length) return false;
    const packet = this.take(length);
    if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
      this.push(Buffer.from("N"));
      return true;
    }
    if (code === CANCEL_REQUEST_CODE) {
      this.end();
      return false;
    }
    if (code >>> 16 !== PROTOCOL_MAJOR_3) {
      this.push(errorResponse("FATAL", "0A000", `unsupported frontend protocol ${code >>> 16}`));
      this.end();
      return false;
    }
    const parameters = startupParameters(packet);
    this.searchPath =
      parameters.get("search_path") ??
      commandLineSettings(parameters.get("options") ?? "").get("search_path");
    await this.session.acquire(this);
    this.push(await this.session.startup(this, packet));
    this.started = true;
    return true;
  }

  /** Runs every whole message received so far; false when there is none or the client said goodbye. */
  private async serveMessages(): Promise<boolean> {
    const length = wholeMessagesLength(this.buffer);
    if (length === 0) return false;
    const batch = this.take(length);
    let upToTerminate = 0;
    let terminates = false;
    for (const message of messagesOf(batch)) {
      if (message.type === TERMINATE) {
        terminates = true;
        break;
      }
      upToTerminate += message.bytes.length;
    }
    if (upToTerminate > 0) {
      await this.session.acquire(this);
      this.push(await this.session.run(this, batch.subarray(0, upToTerminate)));
    }
    if (terminates) this.end();
    return !terminates;
  }

  private take(length: number): Buffer {
    const head = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return head;
  }
}
