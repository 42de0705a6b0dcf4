import type { JsonObject } from "@bufbuild/protobuf";
import type { IncomingMessage } from "@money/kafka";
import { decodeAuditEnvelope, type DecodedAuditEvent } from "./audit-envelope-decoder.js";

/** A message of the audit topic, read: an audit event to append, or why it is none. */
export type AuditMessage =
  | {
      readonly ok: true;
      readonly message: IncomingMessage;
      readonly event: DecodedAuditEvent;
      readonly occurredAt: Date;
      readonly before: JsonObject | undefined;
      readonly after: JsonObject | undefined;
    }
  | { readonly ok: false; readonly message: IncomingMessage; readonly reason: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Reads one message of the audit topic: an EventEnvelope holding an
 * events.v1.AuditEvent with its id, who, what and when. Anything else is
 * refused with a reason, never thrown: a malformed message must not stall
 * the partition behind it.
 */
export function readAuditMessage(message: IncomingMessage): AuditMessage {
  const refuse = (reason: string): AuditMessage => ({ ok: false, message, reason });
  let event: DecodedAuditEvent | undefined;
  let envelopeId: string;
  try {
    const envelope = decodeAuditEnvelope(message.value);
    envelopeId = envelope.eventId;
    event = envelope.event;
    if (!event) return refuse(`payload is ${envelope.payloadType || "missing"}, not an AuditEvent`);
  } catch (error) {
    return refuse(`not an EventEnvelope: ${(error as Error).message}`);
  }
  if (!UUID.test(event.eventId)) return refuse(`event_id ${JSON.stringify(event.eventId)} is not a UUID`);
  if (envelopeId !== event.eventId) return refuse("the envelope and the audit event carry different ids");
  for (const [name, value] of [
    ["service", event.service],
    ["action", event.action],
    ["object_type", event.objectType],
    ["object_id", event.objectId],
    ["actor.principal_id", event.actor?.principalId ?? ""],
  ] as const) {
    if (value === "") return refuse(`${name} is empty`);
  }
  if (!event.occurredAt) return refuse("occurred_at is missing");
  // Struct fields arrive as plain JSON objects.
  return {
    ok: true,
    message,
    event,
    // As protobuf-es's timestampDate reads it, so that it matches the domain events' instants.
    occurredAt: new Date(
      Number(event.occurredAt.seconds) * 1000 + Math.round(event.occurredAt.nanos / 1_000_000),
    ),
    before: event.before,
    after: event.after,
  };
}
