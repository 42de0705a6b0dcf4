import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { LogActorSchema, LogEntrySchema, type LogEntry } from "@money/proto/audit/v1/log_entry_pb";
import { canonicalJson } from "../log/canonical-json.js";
import { CUSTOMER_ROLES, replaceCustomerReferences } from "../personal-data/personal-fields.js";
import { personalKey, pseudonymOf, type PersonalKind } from "../personal-data/personal-value.js";
import type { AuditMessage } from "./audit-message.js";

/** The salted hash standing for each personal value of the batch. */
export type RefOf = (kind: PersonalKind, value: string) => Uint8Array;

/** A resolver over a map keyed by `personalKey`. */
export function refsFrom(refs: ReadonlyMap<string, Uint8Array>): RefOf {
  return (kind, value) => {
    const ref = refs.get(personalKey(kind, value));
    // Every value of the batch was stored before leaves are built; a miss is a bug.
    if (!ref) throw new Error(`no ref for a ${kind} value of the batch`);
    return ref;
  };
}

/**
 * The leaf of an audit event at `sequence`: the event's fields with its
 * personal data replaced by salted hashes.
 */
export function leafOf(
  read: Extract<AuditMessage, { ok: true }>,
  sequence: number,
  recordedAt: Date,
  refOf: RefOf,
): LogEntry {
  const { event } = read;
  const actor = event.actor!;
  const pseudonym = (reference: string) => pseudonymOf(refOf("customer", reference));
  return create(LogEntrySchema, {
    sequence: BigInt(sequence),
    eventId: event.eventId,
    service: event.service,
    action: event.action,
    objectType: event.objectType,
    objectId: event.objectId,
    actor: create(LogActorSchema, {
      principalId: CUSTOMER_ROLES.has(actor.principalRole) ? pseudonym(actor.principalId) : actor.principalId,
      principalRole: actor.principalRole,
      actingDeviceId: actor.actingDeviceId,
      ipRef: actor.ip ? refOf("ip", actor.ip) : new Uint8Array(),
      userAgentRef: actor.userAgent ? refOf("user_agent", actor.userAgent) : new Uint8Array(),
    }),
    beforeJson: read.before ? canonicalJson(replaceCustomerReferences(read.before, pseudonym)) : "",
    afterJson: read.after ? canonicalJson(replaceCustomerReferences(read.after, pseudonym)) : "",
    reason: event.reason,
    approvalReference: event.approvalReference,
    occurredAt: event.occurredAt!,
    recordedAt: timestampFromDate(recordedAt),
    correlationId: event.correlationId,
  });
}
