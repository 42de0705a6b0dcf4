import type { CommonQueryMethods } from "@money/db";
import { AuditError } from "../audit-error.js";
import { queryEvents, type EventPage } from "./query-events.js";

/**
 * Every entry about one object, oldest first, a page at a time.
 *
 * Errors: INVALID_ARGUMENT (object type or id missing, page size), INVALID_PAGE_TOKEN.
 */
export async function objectHistory(
  db: CommonQueryMethods,
  objectType: string,
  objectId: string,
  pageSize: number,
  pageToken: string,
): Promise<EventPage> {
  if (objectType === "" || objectId === "") {
    throw new AuditError("INVALID_ARGUMENT", "object_type and object_id are required");
  }
  return queryEvents(db, {
    service: "",
    actor: "",
    deviceId: "",
    objectType,
    objectId,
    action: "",
    occurredFrom: undefined,
    occurredTo: undefined,
    pageSize,
    pageToken,
  });
}
