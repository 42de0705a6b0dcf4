import { sql, type CommonQueryMethods } from "@money/db";

/** One write (INSERT, UPDATE or DELETE) to run with others in one statement. */
export type Write = ReturnType<typeof sql.fragment>;

/**
 * Runs the writes as one statement, each a data-modifying CTE of it: one
 * round trip for a unit of work's refunds, steps, history and originals
 * rather than one per table. Postgres runs every such CTE on the one
 * snapshot and checks foreign keys between them when the statement ends;
 * two of them must never write the same row (the outcome would be
 * undefined), which the caller rules out.
 */
export async function writeTogether(
  db: CommonQueryMethods,
  writes: readonly (Write | null)[],
): Promise<void> {
  const present = writes.filter((write): write is Write => write !== null);
  if (present.length === 0) return;
  if (present.length === 1) {
    await db.query(sql.unsafe`${present[0]!}`);
    return;
  }
  const ctes = present.map((write, i) => sql.fragment`${sql.identifier([`write_${i}`])} AS (${write})`);
  await db.query(sql.unsafe`WITH ${sql.join(ctes, sql.fragment`, `)} SELECT 1`);
}
