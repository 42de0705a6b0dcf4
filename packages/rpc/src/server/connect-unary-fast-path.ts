import type http from "node:http";
import type http2 from "node:http2";
import {
  create,
  fromBinary,
  isMessage,
  type DescMethodUnary,
  type DescService,
  type JsonReadOptions,
  type JsonWriteOptions,
} from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  type ServiceImpl,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { compressionNegotiate, type Compression } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  contentTypeUnaryJson,
  contentTypeUnaryProto,
  errorToJsonBytes,
  headerUnaryAcceptEncoding,
  headerUnaryEncoding,
} from "@connectrpc/connect/protocol-connect";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import { encodeMessage } from "@money/kafka";
import { knownEncodingOf } from "./known-encodings.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** A unary method as registered on the router, with its implementation. */
interface UnaryRoute {
  service: DescService;
  method: DescMethodUnary;
  impl: (request: never, context: HandlerContext) => unknown;
}

export interface ConnectUnaryFastPathOptions {
  /** The server's interceptors, outermost first, as given to connectNodeAdapter. */
  interceptors: readonly Interceptor[];
  /** Context values of a call, as given to connectNodeAdapter. */
  contextValues: (req: NodeRequest) => ContextValues;
  /** How error bodies are written, as given to connectNodeAdapter. */
  jsonOptions?: Partial<JsonReadOptions & JsonWriteOptions>;
}

/** connect-node's defaults, which the servers using this path keep. */
const ACCEPT_COMPRESSION: readonly Compression[] = [compressionGzip, compressionBrotli];
const COMPRESS_MIN_BYTES = 1024;

/**
 * A lean path for the calls that dominate service-to-service traffic: unary
 * RPCs in the Connect protocol with a binary (protobuf) body, not compressed
 * and without a deadline header, on a method registered without options.
 *
 * Why: connect-node serves every protocol through one generic machinery (web
 * `Headers` for every header set, async iterables around a one-chunk body, a
 * URL parse, and two AbortControllers per call whose `abort()` builds a
 * DOMException with a stack trace), which costs more CPU per call (about
 * 0.15 ms here) than a group-committed ledger transfer's own work. This path
 * runs the same implementation behind the same interceptors, in the same
 * order, and answers as connect-node's Connect handler does: the status, the
 * headers (trailers as `trailer-` headers), the JSON error body, response
 * compression. Every other request (gRPC, gRPC-Web, JSON, GET, compressed or
 * with a timeout, unknown paths) goes to connect-node.
 *
 * The handler context's abort signal is made only when a handler reads it;
 * it then aborts when the call ends or the client goes away, as connect's.
 */
export class ConnectUnaryFastPath {
  private readonly routes = new Map<string, UnaryRoute>();

  constructor(private readonly options: ConnectUnaryFastPathOptions) {}

  /** Wraps `router` so that the unary methods registered on it are known to this path as well. */
  recording(router: ConnectRouter): ConnectRouter {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper must return itself ("this" there)
    const fastPath = this;
    const recorder: ConnectRouter = {
      get handlers() {
        return router.handlers;
      },
      service(service, implementation, options) {
        router.service(service, implementation, options);
        // Per-service options (limits, interceptors) are connect-node's to apply.
        if (options === undefined) fastPath.addService(service, implementation);
        return recorder;
      },
      rpc(method, impl, options) {
        router.rpc(method, impl, options);
        return recorder;
      },
    };
    return recorder;
  }

  private addService<T extends DescService>(service: T, implementation: Partial<ServiceImpl<T>>): void {
    for (const method of service.methods) {
      const impl = (implementation as Record<string, unknown>)[method.localName];
      if (method.methodKind !== "unary" || typeof impl !== "function") continue;
      this.routes.set(`/${service.typeName}/${method.name}`, {
        service,
        method: method as DescMethodUnary,
        impl: impl.bind(implementation) as UnaryRoute["impl"],
      });
    }
  }

  /** Serves the call if it is one for this path and returns true; returns false to leave it to connect-node. */
  handle(req: NodeRequest, res: NodeResponse): boolean {
    if (req.method !== "POST") return false;
    const route = this.routes.get(req.url ?? "");
    if (!route) return false;
    const headers = req.headers;
    if (headers["content-type"] !== contentTypeUnaryProto) return false;
    const encoding = headers["content-encoding"];
    if ((encoding !== undefined && encoding !== "identity") || headers["connect-timeout-ms"] !== undefined) {
      return false;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      void this.serve(route, req, res, body);
    });
    return true;
  }

  private async serve(
    route: UnaryRoute,
    req: NodeRequest,
    res: NodeResponse,
    body: Uint8Array,
  ): Promise<void> {
    const call = new FastCall(route, req, this.options.contextValues(req));
    const compression = compressionNegotiate(
      [...ACCEPT_COMPRESSION],
      null,
      headerOf(req, "accept-encoding"),
      headerUnaryAcceptEncoding,
    );
    let status = 200;
    let bytes: Uint8Array;
    try {
      let message;
      try {
        message = fromBinary(route.method.input, body);
      } catch (e) {
        throw new ConnectError(`parse binary: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
      }
      const output = await this.invoke(route, call, message);
      // encodeMessage writes what toBinary writes, several times faster (see @money/kafka); an
      // answer already encoded for its idempotency record is sent as those bytes.
      bytes = knownEncodingOf(output) ?? encodeMessage(route.method.output, output);
    } catch (e) {
      const error =
        e instanceof ConnectError
          ? e
          : new ConnectError("internal error", Code.Internal, undefined, undefined, e);
      status = codeToHttpStatus(error.code);
      call.responseHeader.set("content-type", contentTypeUnaryJson);
      error.metadata.forEach((value, key) => call.responseHeader.set(key, value));
      bytes = errorToJsonBytes(error, this.options.jsonOptions ?? {});
    } finally {
      call.end();
    }
    if (compression.response && bytes.byteLength >= COMPRESS_MIN_BYTES) {
      bytes = await compression.response.compress(bytes);
      call.responseHeader.set(headerUnaryEncoding, compression.response.name);
    }
    const out: Record<string, string> = {};
    call.responseHeader.forEach((value, key) => (out[key] = value));
    call.responseTrailer.forEach((value, key) => (out[`trailer-${key}`] = value));
    out["content-length"] = String(bytes.byteLength);
    // A client that went away has nobody to answer.
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(status, out);
    res.end(bytes);
  }

  /** The implementation behind the interceptors, as connect's invokeUnaryImplementation calls it. */
  private async invoke(route: UnaryRoute, call: FastCall, message: unknown) {
    const { method, service } = route;
    const innermost = async (request: UnaryRequest): Promise<UnaryResponse> => {
      const result = await route.impl(request.message as never, call.contextFor(request));
      return {
        stream: false,
        service,
        method,
        header: call.responseHeader,
        trailer: call.responseTrailer,
        message: isMessage(result, method.output) ? result : create(method.output, result as never),
      };
    };
    const next = this.options.interceptors.reduceRight<(r: UnaryRequest) => Promise<UnaryResponse>>(
      (inner, interceptor) => interceptor(inner as never) as never,
      innermost,
    );
    const response = await next(call.request(message));
    copyHeaders(response.header, call.responseHeader);
    copyHeaders(response.trailer, call.responseTrailer);
    return response.message;
  }
}

/** One call's request and response state. */
class FastCall {
  readonly requestHeader = new Headers();
  readonly responseHeader = new Headers({ "content-type": contentTypeUnaryProto });
  readonly responseTrailer = new Headers();
  private abortController: AbortController | undefined;
  private ended = false;

  constructor(
    readonly route: UnaryRoute,
    private readonly req: NodeRequest,
    readonly values: ContextValues,
  ) {
    for (const [key, value] of Object.entries(req.headers)) {
      if (key.startsWith(":") || value === undefined) continue;
      if (typeof value === "string") this.requestHeader.append(key, value);
      else for (const v of value) this.requestHeader.append(key, v);
    }
  }

  /** The call's abort signal, made on first use: aborted when the call ends or the client goes away. */
  get signal(): AbortSignal {
    if (!this.abortController) {
      const controller = (this.abortController = new AbortController());
      if (this.ended) controller.abort();
      else this.req.once("close", () => controller.abort());
    }
    return this.abortController.signal;
  }

  get url(): string {
    const authority = "authority" in this.req ? this.req.authority : this.req.headers.host;
    return new URL(this.req.url ?? "", `http://${authority}`).toString();
  }

  end(): void {
    this.ended = true;
    this.abortController?.abort();
  }

  request(message: unknown): UnaryRequest {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getters below read the call lazily
    const call = this;
    return {
      stream: false,
      service: this.route.service,
      method: this.route.method,
      requestMethod: "POST",
      header: this.requestHeader,
      contextValues: this.values,
      message: message as never,
      get url() {
        return call.url;
      },
      get signal() {
        return call.signal;
      },
    };
  }

  contextFor(request: UnaryRequest): HandlerContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getters below read the call lazily
    const call = this;
    return {
      method: this.route.method,
      service: request.service,
      requestMethod: "POST",
      protocolName: "connect",
      requestHeader: request.header,
      responseHeader: this.responseHeader,
      responseTrailer: this.responseTrailer,
      values: request.contextValues,
      timeoutMs: () => undefined,
      get url() {
        return call.url;
      },
      get signal() {
        return request.signal;
      },
    };
  }
}

function headerOf(req: NodeRequest, name: string): string | null {
  const value = req.headers[name];
  return typeof value === "string" ? value : null;
}

/** As connect's invokeUnaryImplementation: an interceptor may answer with headers of its own. */
function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  to.forEach((_, key) => to.delete(key));
  from.forEach((value, key) => to.set(key, value));
}
