import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { sql, type DatabasePool } from "@money/db";
import { auditEvent } from "./support/audit-events.js";
import { startAudit, type AuditHarness } from "./support/audit-harness.js";
import { failureOf } from "./support/sql-state.js";
import { waitUntil } from "@money/testkit";

const PERMISSION_DENIED = "42501";
const RESTRICT_VIOLATION = "23001";
/** Each append-only table with a column to try to overwrite. */
const COLUMN_OF = {
  entries: "leaf",
  tree_nodes: "hash",
  tree_heads: "root",
  checkpoints: "note",
  rejected_messages: "reason",
} as const;
const LOG_TABLES = Object.keys(COLUMN_OF) as (keyof typeof COLUMN_OF)[];

let audit: AuditHarness;
let service: DatabasePool;

beforeAll(async () => {
  audit = await startAudit();
  service = audit.service.deps.pool;
  await audit.publish(Array.from({ length: 5 }, () => auditEvent()));
  await audit.waitForCheckpoint(5);
  // A rejected message, so that table has a row to try to change too.
  await audit.bus.publish([{ topic: audit.eventsTopic, key: "junk", value: new Uint8Array([1, 2, 3]) }]);
  await waitForRejected();
});

afterAll(async () => {
  await audit?.stop();
});

async function waitForRejected(): Promise<void> {
  await waitUntil("the rejected message", async () =>
    Boolean(await audit.admin.maybeOneFirst(sql.unsafe`SELECT 1 FROM audit.rejected_messages`)),
  );
}

async function snapshot(): Promise<string> {
  const counts = await Promise.all(
    LOG_TABLES.map((t) =>
      audit.admin.oneFirst(sql.unsafe`SELECT count(*) FROM audit.${sql.identifier([t])}`),
    ),
  );
  return counts.join(",");
}

describe("the log tables are append-only", () => {
  it("are owned by a role that cannot log in", async () => {
    const owners = await audit.admin.any(sql.unsafe`
      SELECT c.relname, r.rolname, r.rolcanlogin
      FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'audit' AND c.relkind = 'r'
    `);
    for (const table of LOG_TABLES) {
      expect(owners.find((o) => o["relname"] === table)).toMatchObject({
        rolname: "audit_owner",
        rolcanlogin: false,
      });
    }
  });

  it("let the service role read and append, and refuse it UPDATE, DELETE and TRUNCATE", async () => {
    const before = await snapshot();
    expect(Number(await service.oneFirst(sql.unsafe`SELECT count(*) FROM entries`))).toBeGreaterThanOrEqual(
      5,
    );
    for (const table of LOG_TABLES) {
      const name = sql.identifier([table]);
      const column = sql.identifier([COLUMN_OF[table]]);
      expect(await failureOf(() => service.query(sql.unsafe`UPDATE ${name} SET ${column} = ${column}`))).toBe(
        PERMISSION_DENIED,
      );
      expect(await failureOf(() => service.query(sql.unsafe`DELETE FROM ${name}`))).toBe(PERMISSION_DENIED);
      expect(await failureOf(() => service.query(sql.unsafe`TRUNCATE ${name}`))).toBe(PERMISSION_DENIED);
    }
    expect(await snapshot()).toBe(before);
  });

  it("refuse UPDATE, DELETE and TRUNCATE even to the owner and a superuser, through triggers", async () => {
    const before = await snapshot();
    for (const role of ["audit_owner", null] as const) {
      for (const table of LOG_TABLES) {
        const name = sql.identifier(["audit", table]);
        const attempt = (statement: ReturnType<typeof sql.unsafe>) =>
          failureOf(() =>
            audit.admin.transaction(async (tx) => {
              if (role) await tx.query(sql.unsafe`SET LOCAL ROLE ${sql.identifier([role])}`);
              await tx.query(statement);
            }),
          );
        const column = sql.identifier([COLUMN_OF[table]]);
        expect(await attempt(sql.unsafe`UPDATE ${name} SET ${column} = ${column}`)).toBe(RESTRICT_VIOLATION);
        expect(await attempt(sql.unsafe`DELETE FROM ${name}`)).toBe(RESTRICT_VIOLATION);
        expect(await attempt(sql.unsafe`TRUNCATE ${name}`)).toBe(RESTRICT_VIOLATION);
      }
    }
    expect(await snapshot()).toBe(before);
  });

  it("let the service role keep its offsets and erase personal data, but not edit it", async () => {
    expect(await failureOf(() => service.query(sql.unsafe`DELETE FROM consumer_offsets`))).toBe(
      PERMISSION_DENIED,
    );
    expect(await failureOf(() => service.query(sql.unsafe`UPDATE personal_data SET value = 'x'`))).toBe(
      PERMISSION_DENIED,
    );
    expect(await failureOf(() => service.query(sql.unsafe`DELETE FROM personal_data WHERE false`))).toBe(
      "succeeded",
    );
  });
});
