import http from "node:http";
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
}

/** A client's unary methods, plus closing its connection. */
export type LeanConnectClient<S extends DescService> = Client<S> & { close(): void };

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
  options: LeanConnectClientOptions,
): LeanConnectClient<S> {
  const url = new URL(options.baseUrl);
  const prefix = url.pathname.replace(/\/$/, "");
  const send = options.httpVersion === "2" ? http2Sender(url) : http1Sender(url);
  const client: Record<string, unknown> = { close: send.close };
  for (const method of service.methods) {
    if (method.methodKind !== "unary") continue;
    const unary = method as DescMethodUnary; // DescMethod is not a union TypeScript narrows by methodKind
    const path = `${prefix}/${service.typeName}/${method.name}`;
    client[method.localName] = async (input: object) => {
      const body = toBinary(unary.input, create(unary.input, input as never));
      const headers = {
        ...options.headers,
        "content-type": "application/proto",
        "connect-protocol-version": "1",
      };
      const answer = await send.post(path, headers, body);
      return decodeAnswer(unary, answer);
    };
  }
  return client as LeanConnectClient<S>;
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

function http1Sender(url: URL): Sender {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    post: (path, headers, body) =>
      new Promise((resolve, reject) => {
        const request = http.request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            path,
            method: "POST",
            headers: { ...headers, "content-length": String(body.byteLength) },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () =>
              resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }),
            );
            response.on("error", reject);
          },
        );
        request.on("error", reject);
        request.end(body);
      }),
    close: () => agent.destroy(),
  };
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
