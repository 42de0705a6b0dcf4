import net from "node:net";
import http2 from "node:http2";
import { create, fromBinary, toBinary, type DescMethodUnary, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";

export interface LeanConnectClientOptions {
  baseUrl: string;
  /** "1.1": one keep-alive connection per client; "2": one session, calls multiplexed on it. */
  httpVersion: "1.1" | "2";
  /** Sent with every call, e.g. `{ authorization: "Bearer …" }`. */
  headers?: Readonly<Record<string, string>>;
  /**
   * "decoded" (the default): each call resolves to its answer. "checked": to nothing, once the
   * answer is known to be a success (HTTP 200, which in the Connect protocol only a success
   * has); a refusal still throws its ConnectError. For a load generator that never reads the
   * answers: decoding them was two fifths of its CPU.
   */
  replies?: "decoded" | "checked";
}

/** A client's unary methods, plus closing its connection. */
export type LeanConnectClient<S extends DescService> = Client<S> & { close(): void };

/** A client whose calls resolve to nothing once they succeed (`replies: "checked"`). */
export type CheckingConnectClient<S extends DescService> = {
  [M in keyof Client<S>]: (request: Parameters<Client<S>[M]>[0]) => Promise<void>;
} & { close(): void };

/**
 * A load generator's client: unary calls in the Connect protocol with binary
 * bodies, written straight onto node:http or node:http2.
 *
 * Why not connect-node's client: on a two-core machine the load generator
 * shares the cores with the service it measures, and connect-node's client
 * spends about as much CPU per call as the service does (web Headers, async
 * iterables and AbortControllers per call). Same requests on the wire, a
 * fraction of the cost, so a benchmark measures the service. Only what the
 * benchmarks use: unary calls, no compression, no timeouts, no streaming.
 */
export function leanConnectClient<S extends DescService>(
  service: S,
  options: LeanConnectClientOptions & { replies?: "decoded" },
): LeanConnectClient<S>;
export function leanConnectClient<S extends DescService>(
  service: S,
  options: LeanConnectClientOptions & { replies: "checked" },
): CheckingConnectClient<S>;
export function leanConnectClient<S extends DescService>(
  service: S,
  options: LeanConnectClientOptions,
): LeanConnectClient<S> | CheckingConnectClient<S> {
  const url = new URL(options.baseUrl);
  const prefix = url.pathname.replace(/\/$/, "");
  const send = options.httpVersion === "2" ? http2Sender(url) : http1Sender(url);
  const client: Record<string, unknown> = { close: send.close };
  const headers = {
    ...options.headers,
    "content-type": "application/proto",
    "connect-protocol-version": "1",
  };
  const decoded = options.replies !== "checked";
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    const unary = method as DescMethodUnary; // DescMethod is not a union TypeScript narrows by methodKind
    const path = `${prefix}/${service.typeName}/${method.name}`;
    client[method.localName] = async (input: object) => {
      const body = toBinary(unary.input, create(unary.input, input as never));
      const answer = await send.post(path, headers, body);
      if (answer.status === 200 && !decoded) return undefined;
      return decodeAnswer(unary, answer);
    };
  }
  return client as LeanConnectClient<S> | CheckingConnectClient<S>;
}

interface Answer {
  status: number;
  body: Buffer;
}

interface Sender {
  post(path: string, headers: Record<string, string>, body: Uint8Array): Promise<Answer>;
  close(): void;
}

function decodeAnswer(method: DescMethodUnary, answer: Answer): unknown {
  if (answer.status === 200) return fromBinary(method.output, answer.body);
  // A Connect error: a JSON body with the code as a string.
  let error: { code?: string; message?: string } = {};
  try {
    error = JSON.parse(answer.body.toString("utf8")) as typeof error;
  } catch {
    // Not a Connect error body (a proxy's page, say): the status alone says what happened.
  }
  const code = (error.code && codeFromString(error.code)) || Code.Unknown;
  throw new ConnectError(error.message ?? `HTTP ${answer.status}`, code);
}

interface Exchange {
  request: Buffer;
  resolve: (answer: Answer) => void;
  reject: (error: unknown) => void;
}

/**
 * HTTP/1.1 on one keep-alive socket, written and read directly: one exchange at a time, the
 * rest queued. node:http's client builds a ClientRequest, an IncomingMessage and their streams
 * per call, which on the shared cores cost the load generator more than the service it drives.
 * The service's side is node:http's server as deployed; only the caller is lean.
 */
function http1Sender(url: URL): Sender {
  const queue: Exchange[] = [];
  let current: Exchange | undefined;
  let socket: net.Socket | undefined;
  let reader = new ResponseReader();
  let closed = false;

  const fail = (error: unknown) => {
    socket?.destroy();
    socket = undefined;
    const failed = current;
    current = undefined;
    failed?.reject(error);
    next();
  };
  const next = () => {
    if (current || closed) return;
    current = queue.shift();
    if (!current) return;
    if (!socket) {
      const opened = net.connect({ host: url.hostname, port: Number(url.port), noDelay: true });
      reader = new ResponseReader();
      opened.on("data", (chunk: Buffer) => {
        let answer: ReturnType<ResponseReader["push"]>;
        try {
          answer = reader.push(chunk);
        } catch (error) {
          return fail(error);
        }
        if (!answer) return;
        const done = current;
        current = undefined;
        if (answer.close) {
          opened.destroy();
          if (socket === opened) socket = undefined;
        }
        done?.resolve(answer);
        next();
      });
      opened.on("error", (error) => socket === opened && fail(error));
      opened.on("close", () => socket === opened && fail(new Error("the connection closed mid-call")));
      socket = opened;
    }
    socket.write(current.request);
  };

  return {
    post: (path, headers, body) =>
      new Promise((resolve, reject) => {
        let head = `POST ${path} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-length: ${body.byteLength}\r\n`;
        for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
        const request = Buffer.concat([Buffer.from(`${head}\r\n`, "latin1"), body]);
        queue.push({ request, resolve, reject });
        next();
      }),
    close: () => {
      closed = true;
      socket?.destroy();
      socket = undefined;
      // Calls still waiting are refused, not left pending forever.
      for (const waiting of [...(current ? [current] : []), ...queue.splice(0)]) {
        waiting.reject(new Error("the client was closed"));
      }
      current = undefined;
    },
  };
}

/**
 * Reads HTTP/1.1 responses off a socket's chunks: the status, whether the server will close
 * the connection, and the body, sized by content-length or sent chunked.
 */
class ResponseReader {
  private buffered: Buffer = Buffer.alloc(0);

  /** The response complete with `chunk`, or undefined while more is to come. */
  push(chunk: Buffer): (Answer & { close: boolean }) | undefined {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headEnd = this.buffered.indexOf("\r\n\r\n");
    if (headEnd < 0) return undefined;
    const lines = this.buffered.toString("latin1", 0, headEnd).split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1]);
    if (!status) throw new Error(`not an HTTP/1.1 response: ${lines[0]}`);
    const header = (name: string) =>
      lines
        .find((line) => line.slice(0, name.length + 1).toLowerCase() === `${name}:`)
        ?.slice(name.length + 1)
        .trim();
    const close = header("connection")?.toLowerCase() === "close";
    const start = headEnd + 4;
    const body =
      header("transfer-encoding")?.toLowerCase() === "chunked"
        ? dechunk(this.buffered, start)
        : sized(this.buffered, start, Number(header("content-length") ?? "0"));
    if (!body) return undefined;
    this.buffered = this.buffered.subarray(body.end);
    return { status, body: body.bytes, close };
  }
}

function sized(buffer: Buffer, start: number, length: number): { bytes: Buffer; end: number } | undefined {
  if (buffer.length < start + length) return undefined;
  return { bytes: buffer.subarray(start, start + length), end: start + length };
}

/** A chunked body from `start`, when it is all there (trailers are not expected, nor kept). */
function dechunk(buffer: Buffer, start: number): { bytes: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buffer.indexOf("\r\n", at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(buffer.toString("latin1", at, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error("a malformed chunk size");
    if (size === 0) {
      const end = buffer.indexOf("\r\n\r\n", lineEnd);
      if (end < 0) return undefined;
      return { bytes: Buffer.concat(parts), end: end + 4 };
    }
    if (buffer.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

function http2Sender(url: URL): Sender {
  const session = http2.connect(url.origin);
  session.on("error", () => {}); // each call's stream reports its own failure
  return {
    post: (path, headers, body) =>
      new Promise((resolve, reject) => {
        const stream = session.request({ ":method": "POST", ":path": path, ...headers });
        let status = 0;
        const chunks: Buffer[] = [];
        stream.on("response", (responseHeaders) => (status = Number(responseHeaders[":status"])));
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => resolve({ status, body: Buffer.concat(chunks) }));
        stream.on("error", reject);
        stream.end(body);
      }),
    close: () => session.close(),
  };
}
