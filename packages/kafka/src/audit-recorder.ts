import { randomUUID } from "node:crypto";
import type { DescMessage, JsonObject } from "@bufbuild/protobuf";
import type { CommitScope, DatabaseTransactionConnection } from "@money/db";
import {
  AuditActorSchema,
  AuditEventSchema,
  type AuditActor,
  type AuditEvent,
} from "@money/proto/events/v1/audit_pb";
import { timestampOf, type NewEvent } from "./envelope.js";
import type { OutboxInsert, OutboxWriter } from "./outbox.js";
import { TOPICS } from "./topics.js";

/** Who acted: always filled from the verified token and the request, never from a request body. */
export interface Actor {
  principalId: string;
  role: string;
  actingDeviceId?: string | undefined;
  ip?: string | undefined;
  userAgent?: string | undefined;
}

export interface AuditEntry {
  action: string;
  objectType: string;
  objectId: string;
  actor: Actor;
  /** JSON view of the object before the change; omit when it did not exist. Amounts as strings. */
  before?: JsonObject;
  after?: JsonObject;
  reason?: string;
  approvalReference?: string;
  correlationId?: string;
  occurredAt: Date;
}

/**
 * The one way a service records an audit event: inside the transaction of
 * the change, through the outbox, to `audit.events` keyed by the object id.
 */
export class AuditRecorder {
  constructor(
    private readonly service: string,
    private readonly outbox: OutboxWriter,
  ) {}

  async record(tx: DatabaseTransactionConnection, entry: AuditEntry): Promise<AuditEvent> {
    const event = auditEventOf(this.service, entry);
    await this.outbox.write(tx, outboxEventOf(event, entry));
    return event;
  }

  /**
   * Records several audit events, together with any other events of the same
   * change (say the domain events), in one outbox statement.
   */
  async recordMany(
    tx: DatabaseTransactionConnection,
    entries: readonly AuditEntry[],
    alongWith: readonly NewEvent<DescMessage>[] = [],
  ): Promise<AuditEvent[]> {
    const audits = entries.map((entry) => auditEventOf(this.service, entry));
    await this.outbox.writeMany(tx, outboxEventsOf(audits, entries, alongWith));
    return audits;
  }

  /**
   * recordMany's INSERT, for the caller to run inside a statement of its own
   * in `tx` (one round trip fewer); see OutboxWriter.insertFragment.
   */
  insertFragment(
    tx: CommitScope,
    entries: readonly AuditEntry[],
    alongWith: readonly NewEvent<DescMessage>[] = [],
  ): OutboxInsert {
    return this.outbox.insertFragment(tx, this.eventsOf(entries, alongWith));
  }

  /** The outbox events recordMany writes, `alongWith` first. */
  eventsOf(
    entries: readonly AuditEntry[],
    alongWith: readonly NewEvent<DescMessage>[] = [],
  ): NewEvent<DescMessage>[] {
    const audits = entries.map((entry) => auditEventOf(this.service, entry));
    return outboxEventsOf(audits, entries, alongWith);
  }
}

const outboxEventsOf = (
  audits: readonly AuditEvent[],
  entries: readonly AuditEntry[],
  alongWith: readonly NewEvent<DescMessage>[],
): NewEvent<DescMessage>[] => [...alongWith, ...audits.map((audit, i) => outboxEventOf(audit, entries[i]!))];

/**
 * The literal message `create` would return (every field set, zero values included; `before`
 * and `after` only when given): `create` walks the schema reflectively for the event, its
 * actor and its timestamp, and a batch of a thousand postings records a thousand events.
 */
function auditEventOf(service: string, entry: AuditEntry): AuditEvent {
  const event: AuditEvent = {
    $typeName: AUDIT_EVENT,
    eventId: randomUUID(),
    service,
    action: entry.action,
    objectType: entry.objectType,
    objectId: entry.objectId,
    actor: {
      $typeName: AUDIT_ACTOR,
      principalId: entry.actor.principalId,
      principalRole: entry.actor.role,
      actingDeviceId: entry.actor.actingDeviceId ?? "",
      ip: entry.actor.ip ?? "",
      userAgent: entry.actor.userAgent ?? "",
    },
    reason: entry.reason ?? "",
    approvalReference: entry.approvalReference ?? "",
    occurredAt: timestampOf(entry.occurredAt),
    correlationId: entry.correlationId ?? "",
  };
  if (entry.before) event.before = entry.before;
  if (entry.after) event.after = entry.after;
  return event;
}

const AUDIT_EVENT = AuditEventSchema.typeName as AuditEvent["$typeName"];
const AUDIT_ACTOR = AuditActorSchema.typeName as AuditActor["$typeName"];

function outboxEventOf(event: AuditEvent, entry: AuditEntry): NewEvent<typeof AuditEventSchema> {
  return {
    topic: TOPICS.auditEvents.topic,
    schema: AuditEventSchema,
    payload: event,
    aggregateType: entry.objectType,
    aggregateId: entry.objectId,
    occurredAt: entry.occurredAt,
    eventId: event.eventId,
    ...(entry.correlationId ? { correlationId: entry.correlationId } : {}),
  };
}
