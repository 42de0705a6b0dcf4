import { randomUUID } from "node:crypto";
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { inTransaction, type DatabasePool } from "@money/db";
import type { OutboxWriter } from "@money/kafka";
import { AuditActorSchema, AuditEventSchema } from "@money/proto/events/v1/audit_pb";
import type { Caller } from "@money/rpc";

/**
 * Records every query an auditor makes as an audit event of its own
 * (action "audit.queried"), through the outbox to the audit topic, which the
 * service then ingests like any other event: who looked at what is itself in
 * the tamper-evident trail.
 */
export class QueryRecorder {
  constructor(
    private readonly pool: DatabasePool,
    private readonly outbox: OutboxWriter,
    private readonly topic: string,
  ) {}

  /**
   * Writes the event before the answer is computed: a query that cannot be
   * recorded is not answered.
   */
  async record(caller: Caller, method: string, query: JsonObject, reason: string): Promise<void> {
    const occurredAt = new Date();
    const eventId = randomUUID();
    const event = create(AuditEventSchema, {
      eventId,
      service: "audit",
      action: "audit.queried",
      objectType: "audit_query",
      objectId: eventId,
      actor: create(AuditActorSchema, {
        principalId: caller.principalId,
        principalRole: caller.role,
        actingDeviceId: caller.actingDeviceId ?? "",
        ip: caller.ip ?? "",
        userAgent: caller.userAgent ?? "",
      }),
      after: { method, ...query },
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
          aggregateType: "audit_query",
          aggregateId: eventId,
          occurredAt,
          eventId,
        }),
      { isolation: "read committed" },
    );
  }
}
