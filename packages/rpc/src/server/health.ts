import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import { EventEmitter, on } from "node:events";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
  HealthCheckResponseSchema,
  type HealthCheckResponse,
} from "@money/proto/grpc/health/v1/health_pb";

/**
 * gRPC health checking (grpc.health.v1) for one server: "" and each of its
 * service names report SERVING until shutdown begins, then NOT_SERVING so
 * load balancers stop sending new calls while in-flight ones drain.
 */
export class HealthStatus {
  private serving = true;
  private readonly changes = new EventEmitter();

  constructor(private readonly services: readonly string[]) {}

  setServing(serving: boolean): void {
    this.serving = serving;
    this.changes.emit("change");
  }

  statusOf(service: string): Status {
    if (service !== "" && !this.services.includes(service)) return Status.SERVICE_UNKNOWN;
    return this.serving ? Status.SERVING : Status.NOT_SERVING;
  }

  implementation(): ServiceImpl<typeof Health> {
    return {
      check: (req) => create(HealthCheckResponseSchema, { status: this.statusOf(req.service) }),
      watch: (req, ctx) => this.watch(req.service, ctx.signal),
    };
  }

  private async *watch(service: string, signal: AbortSignal): AsyncGenerator<HealthCheckResponse> {
    let last = this.statusOf(service);
    yield create(HealthCheckResponseSchema, { status: last });
    try {
      for await (const _ of on(this.changes, "change", { signal })) {
        const now = this.statusOf(service);
        if (now !== last) yield create(HealthCheckResponseSchema, { status: (last = now) });
      }
    } catch (error) {
      // The client went away or the server is stopping: the stream simply ends.
      if ((error as { name?: string }).name !== "AbortError") throw error;
    }
  }
}
