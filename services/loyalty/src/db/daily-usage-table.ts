import { sql, type CommonQueryMethods } from "@money/db";

export interface DailyUsage {
  subject: "card" | "device";
  subjectId: string;
  /** "YYYY-MM-DD" in the store's time zone. */
  businessDate: string;
  stamps: number;
  points: bigint;
}

/** Adds to each subject's usage of the day and returns the new totals, in the order given. */
export async function addDailyUsage(
  db: CommonQueryMethods,
  usage: readonly DailyUsage[],
): Promise<DailyUsage[]> {
  if (usage.length === 0) return [];
  const rows = await db.any(sql.unsafe`
    INSERT INTO daily_usage (subject, subject_id, business_date, stamps, points)
    SELECT * FROM ${sql.unnest(
      usage.map((u) => [u.subject, u.subjectId, u.businessDate, u.stamps, u.points.toString()]),
      ["text", "uuid", "date", "int4", "int8"],
    )}
    ON CONFLICT (subject, subject_id, business_date) DO UPDATE
      SET stamps = daily_usage.stamps + EXCLUDED.stamps, points = daily_usage.points + EXCLUDED.points
    RETURNING subject, subject_id, business_date, stamps, points
  `);
  const typed = rows as unknown as {
    subject: "card" | "device";
    subject_id: string;
    business_date: string;
    stamps: number;
    points: string;
  }[];
  return usage.map((u) => {
    const row = typed.find((r) => r.subject === u.subject && r.subject_id === u.subjectId)!;
    return { ...u, stamps: row.stamps, points: BigInt(row.points) };
  });
}
