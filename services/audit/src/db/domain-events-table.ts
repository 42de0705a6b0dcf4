import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from "@money/db";

/** A domain event seen on a domain topic, as far as completeness needs it. */
export interface DomainEventRow {
  readonly eventId: string;
  readonly topic: string;
  readonly eventType: string;
  readonly producer: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly occurredAt: Date;
}

/** Records domain events; one seen before (a replay) is left as it is. */
export async function insertDomainEvents(
  tx: DatabaseTransactionConnection,
  events: readonly DomainEventRow[],
): Promise<void> {
  if (events.length === 0) return;
  await tx.query(sql.unsafe`
    INSERT INTO domain_events (event_id, topic, event_type, producer, aggregate_type, aggregate_id, occurred_at)
    SELECT * FROM ${sql.unnest(
      events.map((e) => [
        e.eventId,
        e.topic,
        e.eventType,
        e.producer,
        e.aggregateType,
        e.aggregateId,
        e.occurredAt.toISOString(),
      ]),
      ["uuid", "text", "text", "text", "text", "text", "timestamptz"],
    )}
    ON CONFLICT (event_id) DO NOTHING
  `);
}

export async function countDomainEventsBefore(db: CommonQueryMethods, before: Date): Promise<number> {
  return Number(
    await db.oneFirst(
      sql.unsafe`SELECT count(*) FROM domain_events WHERE occurred_at < ${before.toISOString()}`,
    ),
  );
}

/**
 * Domain events before `before` that no entry answers for: an entry of the
 * same service, about the event's aggregate (as object or correlation id),
 * that occurred at the same instant, i.e. was written in the same
 * transaction, as the platform's services write both.
 */
export async function domainEventsWithoutEntry(
  db: CommonQueryMethods,
  before: Date,
  limit: number,
): Promise<DomainEventRow[]> {
  const rows = await db.any(sql.unsafe`
    SELECT * FROM domain_events d
    WHERE d.occurred_at < ${before.toISOString()}
      AND NOT EXISTS (
        SELECT 1 FROM entries e
        WHERE e.service = d.producer AND e.object_id = d.aggregate_id AND e.occurred_at = d.occurred_at
      )
      AND NOT EXISTS (
        SELECT 1 FROM entries e
        WHERE e.correlation_id = d.aggregate_id AND e.service = d.producer AND e.occurred_at = d.occurred_at
      )
    ORDER BY d.occurred_at, d.event_id
    LIMIT ${limit}
  `);
  return rows.map((r) => ({
    eventId: r["event_id"] as string,
    topic: r["topic"] as string,
    eventType: r["event_type"] as string,
    producer: r["producer"] as string,
    aggregateType: r["aggregate_type"] as string,
    aggregateId: r["aggregate_id"] as string,
    occurredAt: r["occurred_at"] as Date,
  }));
}
