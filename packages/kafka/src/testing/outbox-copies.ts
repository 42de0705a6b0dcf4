import { sql, type CommonQueryMethods } from "@money/db";

/**
 * Keeps a copy of every event committed to `schema`'s outbox in
 * `<schema>.outbox_written`, for tests that ask what a call wrote: the relay
 * deletes an outbox row once it is published. A copy is written in the
 * writer's own statement, so a rolled-back write leaves none. Run as the
 * database's administrator once the service's migrations have run; rows
 * already in the outbox are copied too.
 */
export async function keepOutboxCopies(admin: CommonQueryMethods, schema: string): Promise<void> {
  const table = (name: string) => sql.identifier([schema, name]);
  await admin.query(sql.unsafe`
    CREATE TABLE IF NOT EXISTS ${table("outbox_written")} (LIKE ${table("outbox")})
  `);
  await admin.query(sql.unsafe`
    CREATE OR REPLACE FUNCTION ${table("keep_outbox_copies")}() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER AS $$
    BEGIN
      EXECUTE format('INSERT INTO %I.outbox_written SELECT * FROM written', TG_TABLE_SCHEMA);
      RETURN NULL;
    END $$
  `);
  await admin.query(sql.unsafe`
    CREATE OR REPLACE TRIGGER outbox_copies AFTER INSERT ON ${table("outbox")}
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION ${table("keep_outbox_copies")}()
  `);
  await admin.query(sql.unsafe`
    INSERT INTO ${table("outbox_written")}
    SELECT * FROM ${table("outbox")} o
    WHERE NOT EXISTS (SELECT FROM ${table("outbox_written")} w WHERE w.id = o.id)
  `);
}
