import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createDatabasePool, sql, unnestArrays, type DatabasePool } from "../src/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing/test-database.js";

let db: TestDatabase;
let pool: DatabasePool;

beforeAll(async () => {
  db = await createTestDatabase("unnest_arrays");
  pool = await createDatabasePool(db.adminUrl, { maximumPoolSize: 1 });
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

describe("unnestArrays", () => {
  it("reads back every value as slonik's sql.unnest sends it, awkward text and nulls included", async () => {
    const awkward = [
      'say "hi"',
      "back\\slash",
      "{braces},commas",
      "NULL",
      "",
      "  spaced  ",
      "ünï 🎉",
      "null",
    ];
    const tuples = awkward.map((text, i) => [
      `0000000${i}-0000-4000-8000-00000000000${i}`,
      text,
      JSON.stringify({ text, n: "1" }),
      String(i),
      i === 0 ? null : (-(2n ** 63n) + BigInt(i)).toString(),
      new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    ]);
    const types = ["uuid", "text", "jsonb", "int4", "int8", "timestamptz"] as const;
    const query = (from: ReturnType<typeof sql.fragment> | ReturnType<typeof sql.unnest>) =>
      pool.any(
        sql.unsafe`SELECT u::text, t, j::text, i, b::text, ts::text FROM ${from} AS x(u, t, j, i, b, ts)`,
      );
    const ours = await query(unnestArrays(tuples, types));
    expect(ours).toEqual(await query(sql.unnest(tuples, [...types])));
    expect(ours.map((r) => r["t"])).toEqual(awkward);
    expect(ours[0]!["b"]).toBeNull();
  });

  it("quotes an id, integer or time that is not a bare word, for Postgres to judge", async () => {
    const braced = "{0000000a-0000-4000-8000-00000000000a}";
    const read = (value: string, type: "uuid" | "int8") =>
      pool.anyFirst(sql.unsafe`SELECT v::text FROM ${unnestArrays([[value]], [type])} AS x(v)`);
    expect(await read(braced, "uuid")).toEqual(["0000000a-0000-4000-8000-00000000000a"]);
    await expect(read("1,2", "int8")).rejects.toThrow(/invalid input syntax for type bigint/);
    await expect(read("NULL", "uuid")).rejects.toThrow(/invalid input syntax for type uuid/);
  });
});
