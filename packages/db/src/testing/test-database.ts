import { randomBytes } from "node:crypto";
import pg from "pg";
import { withUser } from "../provision.js";

/** The Postgres server tests run against; `scripts/test.sh` makes sure it is up. */
export const TEST_ADMIN_URL =
  process.env["TEST_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** Superuser URL of a fresh, empty database. */
  adminUrl: string;
  drop(): Promise<void>;
}

/**
 * Creates a fresh database for one test file, so files run in parallel
 * without seeing each other's rows. Schemas and roles are provisioned by the
 * code under test, exactly as in production.
 */
export async function createTestDatabase(prefix = "test"): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    adminUrl: url.toString(),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export { withUser };
