import { randomUUID } from "node:crypto";
import { create, type JsonObject } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { encodeEnvelope, envelopeOf, type OutgoingMessage } from "@money/kafka";
import { AuditActorSchema, AuditEventSchema, type AuditEvent } from "@money/proto/events/v1/audit_pb";

/** An audit event as a service's AuditRecorder would emit it; every field overridable. */
export interface AuditEventInit {
  eventId?: string;
  service?: string;
  action?: string;
  objectType?: string;
  objectId?: string;
  principalId?: string;
  role?: string;
  deviceId?: string;
  ip?: string;
  userAgent?: string;
  before?: JsonObject;
  after?: JsonObject;
  reason?: string;
  approvalReference?: string;
  correlationId?: string;
  occurredAt?: Date;
}

export function auditEvent(init: AuditEventInit = {}): AuditEvent {
  return create(AuditEventSchema, {
    eventId: init.eventId ?? randomUUID(),
    service: init.service ?? "ledger",
    action: init.action ?? "transaction.posted",
    objectType: init.objectType ?? "transaction",
    objectId: init.objectId ?? randomUUID(),
    actor: create(AuditActorSchema, {
      principalId: init.principalId ?? "admin-1",
      principalRole: init.role ?? "admin",
      actingDeviceId: init.deviceId ?? "",
      ip: init.ip ?? "10.0.0.1",
      userAgent: init.userAgent ?? "test-agent/1.0",
    }),
    ...(init.before ? { before: init.before } : {}),
    after: init.after ?? { amount_minor: "1000", currency: "EUR" },
    reason: init.reason ?? "",
    approvalReference: init.approvalReference ?? "",
    occurredAt: timestampFromDate(init.occurredAt ?? new Date()),
    correlationId: init.correlationId ?? "",
  });
}

/** The message a service's outbox relay would publish for `event`. */
export function auditMessage(topic: string, event: AuditEvent): OutgoingMessage {
  const envelope = envelopeOf(event.service, {
    topic,
    schema: AuditEventSchema,
    payload: event,
    aggregateType: event.objectType,
    aggregateId: event.objectId,
    occurredAt: new Date(),
    eventId: event.eventId,
  });
  return {
    topic,
    key: event.objectId,
    value: encodeEnvelope(envelope),
    headers: { "event-id": envelope.eventId, "event-type": envelope.eventType },
  };
}
