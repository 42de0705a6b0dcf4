import type { CommonQueryMethods } from "@money/db";
import {
  countDomainEventsBefore,
  domainEventsWithoutEntry,
  type DomainEventRow,
} from "../../db/domain-events-table.js";

export interface CompletenessReport {
  /** Domain events compared with the trail. */
  readonly checked: number;
  /** Those without an audit entry, oldest first (at most `MAX_GAPS`). */
  readonly gaps: DomainEventRow[];
}

export const MAX_GAPS = 1_000;

/**
 * Every ledger transaction, refund and loyalty transaction must have its
 * audit record. The completeness monitor records each domain event it reads
 * from the domain topics; this compares them with the trail. Events after
 * `occurredBefore` are left out: their audit events may still be on their
 * way through the outboxes and the topic.
 */
export async function checkCompleteness(
  db: CommonQueryMethods,
  occurredBefore: Date,
): Promise<CompletenessReport> {
  return {
    checked: await countDomainEventsBefore(db, occurredBefore),
    gaps: await domainEventsWithoutEntry(db, occurredBefore, MAX_GAPS),
  };
}
