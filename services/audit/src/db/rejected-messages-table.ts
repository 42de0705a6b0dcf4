import { sql, type DatabaseTransactionConnection } from "@money/db";

export interface RejectedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly reason: string;
  readonly value: Uint8Array;
}

export async function insertRejectedMessages(
  tx: DatabaseTransactionConnection,
  consumer: string,
  rejected: readonly RejectedMessage[],
): Promise<void> {
  if (rejected.length === 0) return;
  await tx.query(sql.unsafe`
    INSERT INTO rejected_messages (consumer, topic, partition, "offset", reason, value)
    SELECT ${consumer}, * FROM ${sql.unnest(
      rejected.map((r) => [r.topic, r.partition, r.offset, r.reason, Buffer.from(r.value)]),
      ["text", "int4", "int8", "text", "bytea"],
    )}
    ON CONFLICT DO NOTHING
  `);
}
