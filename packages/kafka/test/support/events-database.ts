import { provisionServiceDatabase } from "@money/db";
import { createTestDatabase, type TestDatabase } from "@money/db/testing";
import { EVENTS_MIGRATIONS_DIR } from "../../src/index.js";

/**
 * A fresh database holding `service`'s schema and role with the outbox and
 * inbox tables, as a service has them: one per test file.
 */
export async function createEventsDatabase(
  name: string,
  service: string,
): Promise<{ db: TestDatabase; serviceUrl: string }> {
  const db = await createTestDatabase(name);
  const serviceUrl = await provisionServiceDatabase(db.adminUrl, {
    service,
    migrationDirs: [EVENTS_MIGRATIONS_DIR],
    servicePassword: "dev",
    roles: true,
  });
  return { db, serviceUrl };
}
