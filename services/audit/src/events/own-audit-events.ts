import { randomUUID } from "node:crypto";
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { inTransaction, type DatabasePool } from "@money/db";
import type { OutboxWriter } from "@money/kafka";
import { AuditActorSchema, AuditEventSchema } from "@money/proto/events/v1/audit_pb";
import type { Caller } from "@money/rpc";

/**
 * The audit service's own audit events: every query an auditor makes
 * ("audit.queried") and every erasure ("personal_data.erased"), written
 * through the outbox to the audit topic, which the service then ingests like
 * any other event. Who looked at what, and who erased what, is itself in
 * the tamper-evident trail.
 */
export class OwnAuditEvents {
  constructor(
    private readonly pool: DatabasePool,
    private readonly outbox: OutboxWriter,
    private readonly topic: string,
  ) {}

  /** Written before the answer is computed: a query that cannot be recorded is not answered. */
  queried(caller: Caller, method: string, query: JsonObject, reason: string): Promise<void> {
    return this.record(caller, "audit.queried", "audit_query", { method, ...query }, reason);
  }

  /** Says how many side rows went, never which values. */
  erased(caller: Caller, erased: number, what: JsonObject, reason: string): Promise<void> {
    return this.record(caller, "personal_data.erased", "personal_data", { erased, ...what }, reason);
  }

  private async record(
    caller: Caller,
    action: string,
    objectType: string,
    after: JsonObject,
    reason: string,
  ): Promise<void> {
    const occurredAt = new Date();
    const eventId = randomUUID();
    const event = create(AuditEventSchema, {
      eventId,
      service: "audit",
      action,
      objectType,
      objectId: eventId,
      actor: create(AuditActorSchema, {
        principalId: caller.principalId,
        principalRole: caller.role,
        actingDeviceId: caller.actingDeviceId ?? "",
        ip: caller.ip ?? "",
        userAgent: caller.userAgent ?? "",
      }),
      after,
      reason,
      occurredAt: timestampFromDate(occurredAt),
      correlationId: caller.requestId,
    });
    await inTransaction(
      this.pool,
      (tx) =>
        this.outbox.write(tx, {
          topic: this.topic,
          schema: AuditEventSchema,
          payload: event,
          aggregateType: objectType,
          aggregateId: eventId,
          occurredAt,
          eventId,
        }),
      { isolation: "read committed" },
    );
  }
}
