import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import pg from "pg";

export interface ServiceDatabase {
  /** Service name; also the schema name and the prefix of its roles. */
  service: string;
  /** Folders of numbered *.sql files, applied in this order, each file once. */
  migrationDirs: readonly string[];
  /** Password of the service's login role (ignored by trust authentication). */
  servicePassword: string;
  /**
   * False in embedded mode (PGlite): one database per service and a single
   * session, so the service does not connect as its own role.
   */
  roles: boolean;
}

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;

/**
 * Creates the service's schema and roles if missing and applies its pending
 * migrations, as the administrator of `adminUrl`:
 * - `<service>_owner` (NOLOGIN) owns the schema and every table in it;
 * - `<service>_service` (LOGIN) is what the running service connects as. It
 *   can use only its own schema, and gets table privileges from migrations
 *   and the default privileges set here.
 * Returns the URL the service connects with.
 */
export async function provisionServiceDatabase(adminUrl: string, spec: ServiceDatabase): Promise<string> {
  if (!IDENTIFIER.test(spec.service)) throw new Error(`bad service name ${spec.service}`);
  const schema = spec.service;
  const owner = `${schema}_owner`;
  const login = `${schema}_service`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    // One migrator per database and service at a time; others wait here.
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [`migrate:${schema}`]);
    if (spec.roles) {
      await createRoleIfMissing(client, owner, "NOLOGIN");
      await createRoleIfMissing(client, login, `LOGIN PASSWORD ${pg.escapeLiteral(spec.servicePassword)}`);
      await client.query(`GRANT ${owner} TO CURRENT_USER`).catch(ignoreDuplicateGrant);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${owner}`);
      await client.query(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
      await client.query(`GRANT USAGE ON SCHEMA ${schema} TO ${login}`);
      await client.query(`ALTER ROLE ${login} SET search_path = ${schema}`);
      await client.query(
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${schema}
           GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${login}`,
      );
      await client.query(
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${schema} GRANT USAGE, SELECT ON SEQUENCES TO ${login}`,
      );
      await client.query(
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${schema} GRANT EXECUTE ON FUNCTIONS TO ${login}`,
      );
    } else {
      // The roles exist so migrations can name them (REVOKE ... FROM :service_role),
      // but nobody connects as them: embedded mode has one database per service.
      await createRoleIfMissing(client, owner, "NOLOGIN");
      await createRoleIfMissing(client, login, "NOLOGIN");
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    }
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
         name text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const applied = new Set(
      (await client.query<{ name: string }>(`SELECT name FROM ${schema}.schema_migrations`)).rows.map(
        (r) => r.name,
      ),
    );
    for (const dir of spec.migrationDirs) {
      for (const file of (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort()) {
        const name = `${dir.split("/").slice(-2).join("/")}/${file}`;
        if (applied.has(name)) continue;
        const text = await readFile(join(dir, file), "utf8");
        await client.query("BEGIN");
        try {
          if (spec.roles) await client.query(`SET LOCAL ROLE ${owner}`);
          await client.query(`SET LOCAL search_path = ${schema}`);
          await client.query(text.replaceAll(":service_role", login).replaceAll(":owner_role", owner));
          if (spec.roles) await client.query("RESET ROLE");
          await client.query(`INSERT INTO ${schema}.schema_migrations (name) VALUES ($1)`, [name]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw new Error(`migration ${name} failed: ${(error as Error).message}`, { cause: error });
        }
      }
    }
  } finally {
    await client.end();
  }
  return spec.roles ? withUser(adminUrl, login, spec.servicePassword) : adminUrl;
}

async function createRoleIfMissing(client: pg.Client, role: string, options: string): Promise<void> {
  const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]);
  if (exists.rowCount) return;
  try {
    await client.query(`CREATE ROLE ${role} ${options}`);
  } catch (error) {
    // Roles are cluster-wide: a migrator of another database may have won the race.
    const code = (error as { code?: string }).code;
    if (code !== "42710" && code !== "23505") throw error;
  }
}

function ignoreDuplicateGrant(error: unknown): void {
  // A superuser granting itself membership is refused in some versions; it needs none.
  if ((error as { code?: string }).code !== "0LP01" && (error as { code?: string }).code !== "42704") {
    throw error;
  }
}

/** The same server and database, connecting as another user. */
export function withUser(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = password;
  return parsed.toString();
}
