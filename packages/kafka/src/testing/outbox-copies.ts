import { sql, type CommonQueryMethods } from "@money/db";

/**
 * Keeps a copy of every event committed to `schema`'s outbox in
 * `<schema>.outbox_written`, one row per event in the order written, for
 * tests that ask what a call wrote: the relay deletes an outbox row once it
 * is published. A copy is written in the writer's own statement, so a
 * rolled-back write leaves none. Run as the database's administrator once the
 * service's migrations have run; events already in the outbox are copied too.
 */
export async function keepOutboxCopies(admin: CommonQueryMethods, schema: string): Promise<void> {
  const table = (name: string) => sql.identifier([schema, name]);
  await admin.query(sql.unsafe`
    CREATE TABLE IF NOT EXISTS ${table("outbox_written")} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      outbox_id bigint NOT NULL,
      position int NOT NULL,
      event_id uuid NOT NULL,
      topic text NOT NULL,
      message_key text NOT NULL,
      event_type text NOT NULL,
      payload bytea NOT NULL,
      created_at timestamptz NOT NULL,
      UNIQUE (outbox_id, position)
    )
  `);
  // The outbox_events view's expansion, over the statement's new rows.
  await admin.query(sql.unsafe`
    CREATE OR REPLACE FUNCTION ${table("keep_outbox_copies")}() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER AS $$
    BEGIN
      EXECUTE format($copy$
        INSERT INTO %I.outbox_written (outbox_id, position, event_id, topic, message_key, event_type, payload, created_at)
        SELECT o.id, e.position, e.event_id, e.topic, e.message_key, e.event_type,
               substring(o.payload FROM coalesce(o.payload_ends[e.position::int - 1], 0) + 1
                         FOR o.payload_ends[e.position::int] - coalesce(o.payload_ends[e.position::int - 1], 0)),
               o.created_at
        FROM written o,
             unnest(o.event_ids, o.topics, o.message_keys, o.event_types)
               WITH ORDINALITY AS e(event_id, topic, message_key, event_type, position)
        ORDER BY o.id, e.position
      $copy$, TG_TABLE_SCHEMA);
      RETURN NULL;
    END $$
  `);
  await admin.query(sql.unsafe`
    CREATE OR REPLACE TRIGGER outbox_copies AFTER INSERT ON ${table("outbox")}
    REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION ${table("keep_outbox_copies")}()
  `);
  await admin.query(sql.unsafe`
    INSERT INTO ${table("outbox_written")} (outbox_id, position, event_id, topic, message_key, event_type, payload, created_at)
    SELECT e.outbox_id, e.position, e.event_id, e.topic, e.message_key, e.event_type, e.payload, e.created_at
    FROM ${table("outbox_events")} e
    WHERE NOT EXISTS (SELECT FROM ${table("outbox_written")} w WHERE w.outbox_id = e.outbox_id)
    ORDER BY e.outbox_id, e.position
  `);
}
