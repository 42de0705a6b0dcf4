-- One row per erasure of personal data: how many side rows went, and when
-- (never which values). Its highest id is the erasure generation: a
-- sequencer caching value → ref drops its cache when it changes.
CREATE TABLE erasures (
  id bigserial PRIMARY KEY,
  erased integer NOT NULL CONSTRAINT erasure_count_not_negative CHECK (erased >= 0),
  erased_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER erasures_append_only BEFORE UPDATE OR DELETE ON erasures
  FOR EACH ROW EXECUTE FUNCTION refuse_log_change();
CREATE TRIGGER erasures_no_truncate BEFORE TRUNCATE ON erasures
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_log_change();

DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = ':service_role') THEN
    REVOKE UPDATE, DELETE, TRUNCATE ON erasures FROM :service_role;
  END IF;
END $$;
