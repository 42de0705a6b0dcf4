import type { JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { LeafFields } from "../log/leaf-encoder.js";
import { canonicalJson } from "../log/canonical-json.js";
import { CUSTOMER_ROLES, customerReferenceIn } from "../personal-data/personal-fields.js";
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

const NO_BYTES = new Uint8Array(0);

// The pseudonym text of each ref, kept while the ref is: refs are shared
// objects (the cache's, or the batch's map's), and a log names the same
// customers over and over.
const pseudonyms = new WeakMap<Uint8Array, string>();

// A batch stamps every entry with the same instant: convert it once.
let lastRecordedAt: { readonly date: Date; readonly seconds: bigint; readonly nanos: number } | undefined;

function timestampOf(date: Date): { readonly seconds: bigint; readonly nanos: number } {
  if (lastRecordedAt?.date !== date) {
    const { seconds, nanos } = timestampFromDate(date);
    lastRecordedAt = { date, seconds, nanos };
  }
  return lastRecordedAt;
}

function pseudonymOfRef(ref: Uint8Array): string {
  let text = pseudonyms.get(ref);
  if (text === undefined) {
    text = pseudonymOf(ref);
    pseudonyms.set(ref, text);
  }
  return text;
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
): LeafFields {
  const { event } = read;
  const actor = event.actor!;
  const pseudonym = (reference: string) => pseudonymOfRef(refOf("customer", reference));
  const pseudonymised = (key: string, value: JsonValue) => {
    const reference = customerReferenceIn(key, value);
    return reference === undefined ? undefined : pseudonym(reference);
  };
  const recorded = timestampOf(recordedAt);
  return {
    sequence,
    eventId: event.eventId,
    service: event.service,
    action: event.action,
    objectType: event.objectType,
    objectId: event.objectId,
    actor: {
      principalId: CUSTOMER_ROLES.has(actor.principalRole) ? pseudonym(actor.principalId) : actor.principalId,
      principalRole: actor.principalRole,
      actingDeviceId: actor.actingDeviceId,
      ipRef: actor.ip ? refOf("ip", actor.ip) : NO_BYTES,
      userAgentRef: actor.userAgent ? refOf("user_agent", actor.userAgent) : NO_BYTES,
    },
    beforeJson: read.before ? canonicalJson(read.before, pseudonymised) : "",
    afterJson: read.after ? canonicalJson(read.after, pseudonymised) : "",
    reason: event.reason,
    approvalReference: event.approvalReference,
    occurredAt: { seconds: event.occurredAt!.seconds, nanos: event.occurredAt!.nanos },
    recordedAt: { seconds: recorded.seconds, nanos: recorded.nanos },
    correlationId: event.correlationId,
  };
}
