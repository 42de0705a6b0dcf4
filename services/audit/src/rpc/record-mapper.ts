import { create, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import {
  AuditRecordSchema,
  RecordActorSchema,
  SignedCheckpointSchema,
  type AuditRecord,
  type SignedCheckpoint,
} from "@money/proto/audit/v1/audit_pb";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { StoredCheckpoint } from "../db/checkpoints-table.js";
import { refOfPseudonym } from "../domain/personal-data/personal-value.js";
import type { ResolvedEntry } from "../domain/query/resolved-entry.js";

/** An entry as an auditor reads it: the leaf's fields, personal data resolved where it still exists. */
export function recordToWire(resolved: ResolvedEntry): AuditRecord {
  const { entry, personal } = resolved;
  let erased = false;
  const value = (ref: Uint8Array | undefined): string => {
    if (!ref || ref.length === 0) return "";
    const record = personal.get(Buffer.from(ref).toString("hex"));
    if (!record) erased = true;
    return record?.value ?? "";
  };
  const resolveText = (text: string): string => {
    const ref = refOfPseudonym(text);
    if (!ref) return text;
    const record = personal.get(Buffer.from(ref).toString("hex"));
    if (!record) erased = true;
    return record?.value ?? text;
  };
  const resolveJson = (json: string): JsonObject | undefined =>
    json === "" ? undefined : (mapStrings(JSON.parse(json) as JsonValue, resolveText) as JsonObject);

  const actor = entry.actor;
  const before = resolveJson(entry.beforeJson);
  const after = resolveJson(entry.afterJson);
  const wireActor = create(RecordActorSchema, {
    principalId: resolveText(actor?.principalId ?? ""),
    principalRole: actor?.principalRole ?? "",
    actingDeviceId: actor?.actingDeviceId ?? "",
    ip: value(actor?.ipRef),
    userAgent: value(actor?.userAgentRef),
  });
  wireActor.personalDataErased = erased;
  return create(AuditRecordSchema, {
    sequence: BigInt(resolved.sequence),
    eventId: entry.eventId,
    service: entry.service,
    action: entry.action,
    objectType: entry.objectType,
    objectId: entry.objectId,
    actor: wireActor,
    ...(before ? { before } : {}),
    ...(after ? { after } : {}),
    reason: entry.reason,
    approvalReference: entry.approvalReference,
    ...(entry.occurredAt ? { occurredAt: entry.occurredAt } : {}),
    ...(entry.recordedAt ? { recordedAt: entry.recordedAt } : {}),
    correlationId: entry.correlationId,
    leaf: resolved.leaf,
    leafHash: resolved.leafHash,
  });
}

export function checkpointToWire(checkpoint: StoredCheckpoint, origin: string): SignedCheckpoint {
  return create(SignedCheckpointSchema, {
    note: checkpoint.note,
    origin,
    size: BigInt(checkpoint.size),
    rootHash: checkpoint.root,
    signedAt: timestampFromDate(checkpoint.signedAt),
  });
}

function mapStrings(value: JsonValue, map: (text: string) => string): JsonValue {
  if (typeof value === "string") return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v as JsonValue, map)]));
}
