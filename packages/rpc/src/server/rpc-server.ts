import { randomUUID } from "node:crypto";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { DescFile, DescService } from "@bufbuild/protobuf";
import { createContextValues, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { file_grpc_health_v1_health, Health } from "@money/proto/grpc/health/v1/health_pb";
import {
  file_grpc_reflection_v1_reflection,
  ServerReflection,
} from "@money/proto/grpc/reflection/v1/reflection_pb";
import { authInterceptor, type AccessPolicy } from "../auth/auth-interceptor.js";
import { peerKey } from "../auth/caller.js";
import type { TokenVerifier } from "../auth/token-verifier.js";
import type { ErrorCodeTable } from "../errors/domain-error.js";
import { errorInterceptor } from "../errors/error-interceptor.js";
import type { Logger } from "../log/logger.js";
import { HealthStatus } from "./health.js";
import { ConnectUnaryFastPath } from "./connect-unary-fast-path.js";
import { reflectionService } from "./reflection.js";

export interface RpcServerOptions {
  /** Service name for logs, e.g. "ledger". */
  name: string;
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** The domain services this server hosts; each must have a policy entry per method. */
  services: readonly DescService[];
  /** Proto files for reflection (the services' files; imports are followed). */
  files: readonly DescFile[];
  routes(router: ConnectRouter): void;
  policy: AccessPolicy;
  errors: ErrorCodeTable<string>;
  verifier: TokenVerifier;
  log: Logger;
  /** Honour X-Forwarded-For for the caller's IP (only behind a trusted proxy). */
  trustProxy?: boolean;
}

export interface RpcServer {
  readonly port: number;
  readonly url: string;
  readonly health: HealthStatus;
  /** Calls being served right now. */
  readonly inFlightCalls: number;
  /** Stops accepting calls, lets in-flight ones finish (at most `graceMs`), then closes. */
  close(graceMs?: number): Promise<void>;
}

/**
 * One port, three protocols: Connect, gRPC and gRPC-Web, over HTTP/2
 * (prior knowledge) and HTTP/1.1 alike. Node's plaintext HTTP/2 server does
 * not downgrade, so each connection's first bytes pick the server: the
 * HTTP/2 preface starts with "PRI".
 */
export async function startRpcServer(options: RpcServerOptions): Promise<RpcServer> {
  const { log } = options;
  assertPolicyCoversEveryMethod(options.services, options.policy);
  const serviceNames = [
    ...options.services.map((s) => s.typeName),
    Health.typeName,
    ServerReflection.typeName,
  ];
  const health = new HealthStatus(options.services.map((s) => s.typeName));
  // Probes and tooling call these without a token; they reveal no data.
  const policy: AccessPolicy = {
    ...options.policy,
    [`${Health.typeName}/Check`]: "public",
    [`${Health.typeName}/Watch`]: "public",
    [`${ServerReflection.typeName}/ServerReflectionInfo`]: "public",
  };
  let inFlight = 0;

  const logCalls: Interceptor = (next) => async (req) => {
    const started = performance.now();
    const requestId = req.contextValues.get(peerKey).requestId;
    inFlight++;
    try {
      const res = await next(req);
      res.header.set("x-request-id", requestId);
      log.info({ requestId, method: req.method.name, code: "ok", ms: ms(started) }, "rpc");
      return res;
    } catch (error) {
      const code = (error as { code?: number }).code;
      log.info({ requestId, method: req.method.name, code, ms: ms(started) }, "rpc");
      throw error;
    } finally {
      inFlight--;
    }
  };

  const interceptors = [
    logCalls,
    errorInterceptor(options.errors, log),
    authInterceptor(policy, options.verifier),
  ];
  // A field the schema does not know (say "performed_by") is refused, not silently dropped.
  const jsonOptions = { ignoreUnknownFields: false };
  const contextValues = (req: http.IncomingMessage | http2.Http2ServerRequest) => {
    const forwarded = options.trustProxy ? req.headers["x-forwarded-for"] : undefined;
    const ip =
      (typeof forwarded === "string" ? forwarded.split(",")[0]?.trim() : undefined) ??
      req.socket.remoteAddress;
    const requestId = req.headers["x-request-id"];
    return createContextValues().set(peerKey, {
      ip: ip?.replace(/^::ffff:/, ""),
      userAgent: req.headers["user-agent"],
      requestId: typeof requestId === "string" && requestId.length <= 128 ? requestId : randomUUID(),
    });
  };
  // Binary unary Connect calls take a leaner path to the same handlers and interceptors.
  const fastPath = new ConnectUnaryFastPath({ interceptors, contextValues, jsonOptions });
  const connectHandler = connectNodeAdapter({
    routes: (connectRouter) => {
      const router = fastPath.recording(connectRouter);
      options.routes(router);
      router.service(Health, health.implementation());
      router.service(
        ServerReflection,
        reflectionService(
          [...options.files, file_grpc_health_v1_health, file_grpc_reflection_v1_reflection],
          serviceNames,
        ),
      );
    },
    jsonOptions,
    interceptors,
    contextValues,
  });
  const handler = (
    req: http.IncomingMessage | http2.Http2ServerRequest,
    res: http.ServerResponse | http2.Http2ServerResponse,
  ) => {
    if (!fastPath.handle(req, res)) connectHandler(req as never, res as never);
  };

  const h1 = http.createServer(handler);
  const h2 = http2.createServer(handler);
  const sessions = new Set<http2.Http2Session>();
  h2.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
  });
  const sockets = new Set<net.Socket>();
  const listener = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.once("data", (chunk) => {
      socket.pause();
      socket.unshift(chunk);
      (chunk.subarray(0, 3).toString("latin1") === "PRI" ? h2 : h1).emit("connection", socket);
      process.nextTick(() => socket.resume());
    });
  });
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(options.port, options.host ?? "127.0.0.1", resolve);
  });
  const port = (listener.address() as net.AddressInfo).port;
  const url = `http://${options.host && options.host !== "0.0.0.0" ? options.host : "127.0.0.1"}:${port}`;
  log.info({ url }, `${options.name} listening`);

  return {
    port,
    url,
    health,
    get inFlightCalls() {
      return inFlight;
    },
    async close(graceMs = 10_000) {
      health.setServing(false);
      listener.close();
      for (const session of sessions) session.close();
      h1.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      while (inFlight > 0 && Date.now() < deadline) await sleep(20);
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      h1.close();
      h2.close();
      log.info({ abandoned: inFlight }, `${options.name} stopped`);
    },
  };
}

function ms(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function assertPolicyCoversEveryMethod(services: readonly DescService[], policy: AccessPolicy): void {
  for (const service of services) {
    for (const method of service.methods) {
      if (!(method.name in policy) && !(`${service.typeName}/${method.name}` in policy)) {
        throw new Error(`no access policy for ${service.typeName}/${method.name}: say who may call it`);
      }
    }
  }
}
