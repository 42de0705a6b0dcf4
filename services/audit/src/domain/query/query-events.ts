import type { CommonQueryMethods } from "@money/db";
import { queryLeaves, type EntryFilter } from "../../db/entries-table.js";
import { refOfValue } from "../../db/personal-data-table.js";
import { AuditError } from "../audit-error.js";
import { pseudonymOf } from "../personal-data/personal-value.js";
import { decodePageToken, encodePageToken } from "./page-token.js";
import { resolveEntries, type ResolvedEntry } from "./resolved-entry.js";

/** What to look for; empty strings and absent times match everything. */
export interface EventQuery {
  readonly service: string;
  readonly actor: string;
  readonly deviceId: string;
  readonly objectType: string;
  readonly objectId: string;
  readonly action: string;
  readonly occurredFrom: Date | undefined;
  readonly occurredTo: Date | undefined;
  readonly pageSize: number;
  readonly pageToken: string;
}

export interface EventPage {
  readonly entries: ResolvedEntry[];
  /** Empty on the last page. */
  readonly nextPageToken: string;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;
const MAX_FILTER_LENGTH = 500;

/**
 * Entries matching every given filter, in log order (oldest first), a page at
 * a time. A customer acting as principal is found by their reference: the
 * log stores it under a pseudonym, looked up here.
 *
 * Errors: INVALID_ARGUMENT (page size, over-long filters, from after to),
 * INVALID_PAGE_TOKEN.
 */
export async function queryEvents(db: CommonQueryMethods, query: EventQuery): Promise<EventPage> {
  const pageSize = pageSizeOf(query.pageSize);
  for (const [name, value] of Object.entries(query)) {
    if (typeof value === "string" && name !== "pageToken" && value.length > MAX_FILTER_LENGTH) {
      throw new AuditError("INVALID_ARGUMENT", `${name} is longer than ${MAX_FILTER_LENGTH} characters`);
    }
  }
  if (query.occurredFrom && query.occurredTo && query.occurredFrom > query.occurredTo) {
    throw new AuditError("INVALID_ARGUMENT", "occurred_from is after occurred_to");
  }
  if (query.objectId !== "" && query.objectType === "") {
    throw new AuditError("INVALID_ARGUMENT", "object_id needs object_type");
  }
  const fingerprint = JSON.stringify({ ...query, pageToken: undefined, pageSize: undefined });
  const after = decodePageToken(query.pageToken, fingerprint);

  const filter: { -readonly [K in keyof EntryFilter]: EntryFilter[K] } = {};
  if (query.service !== "") filter.service = query.service;
  if (query.actor !== "") {
    const customerRef = await refOfValue(db, "customer", query.actor);
    filter.principalIds = customerRef ? [query.actor, pseudonymOf(customerRef)] : [query.actor];
  }
  if (query.deviceId !== "") filter.actingDeviceId = query.deviceId;
  if (query.objectType !== "") filter.objectType = query.objectType;
  if (query.objectId !== "") filter.objectId = query.objectId;
  if (query.action !== "") filter.action = query.action;
  if (query.occurredFrom) filter.occurredFrom = query.occurredFrom;
  if (query.occurredTo) filter.occurredTo = query.occurredTo;

  // One more than a page tells whether another page follows.
  const leaves = await queryLeaves(db, filter, after, pageSize + 1);
  const page = leaves.slice(0, pageSize);
  const last = page[page.length - 1];
  return {
    entries: await resolveEntries(db, page),
    nextPageToken: leaves.length > pageSize && last ? encodePageToken(last.sequence, fingerprint) : "",
  };
}

export function pageSizeOf(requested: number): number {
  if (requested === 0) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(requested) || requested < 0 || requested > MAX_PAGE_SIZE) {
    throw new AuditError("INVALID_ARGUMENT", `page_size must be 1 to ${MAX_PAGE_SIZE}`);
  }
  return requested;
}
