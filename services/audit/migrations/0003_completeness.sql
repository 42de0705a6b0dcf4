-- Domain events seen on the domain topics (ledger transactions, refunds,
-- loyalty transactions): each must have its object in the trail. The
-- completeness check is an anti-join of this table with entries.
CREATE TABLE domain_events (
  event_id uuid PRIMARY KEY,
  topic text NOT NULL,
  event_type text NOT NULL,
  producer text NOT NULL,
  aggregate_type text NOT NULL,
  aggregate_id text NOT NULL,
  occurred_at timestamptz NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX domain_events_by_occurred_at ON domain_events (occurred_at);

DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = ':service_role') THEN
    REVOKE UPDATE, DELETE, TRUNCATE ON domain_events FROM :service_role;
  END IF;
END $$;
