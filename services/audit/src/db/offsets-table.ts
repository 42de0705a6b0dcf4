import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from "@money/db";

/** The offset of the next message the consumer applies in a partition, or null if it never applied one. */
export async function storedOffset(
  db: CommonQueryMethods,
  consumer: string,
  topic: string,
  partition: number,
): Promise<string | null> {
  const next = await db.maybeOneFirst(sql.unsafe`
    SELECT next_offset FROM consumer_offsets
    WHERE consumer = ${consumer} AND topic = ${topic} AND partition = ${partition}
  `);
  return next === null ? null : String(next);
}

/** Moves the consumer's position; written in the transaction of what it applied. */
export async function saveOffset(
  tx: DatabaseTransactionConnection,
  consumer: string,
  topic: string,
  partition: number,
  nextOffset: string,
): Promise<void> {
  await tx.query(sql.unsafe`
    INSERT INTO consumer_offsets (consumer, topic, partition, next_offset)
    VALUES (${consumer}, ${topic}, ${partition}, ${nextOffset})
    ON CONFLICT (consumer, topic, partition)
    DO UPDATE SET next_offset = excluded.next_offset, updated_at = now()
  `);
}
