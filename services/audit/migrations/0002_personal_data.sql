-- Personal data kept out of the log. A leaf holds only
-- ref = SHA-256(salt ‖ kind ‖ 0x00 ‖ value) with a random salt per value;
-- the value and its salt live here. Erasing deletes the row: the leaf, and
-- so every proof, stays as it was, and without the salt the ref can no
-- longer be linked to anyone.
CREATE TABLE personal_data (
  ref bytea PRIMARY KEY CONSTRAINT personal_data_ref_is_sha256 CHECK (length(ref) = 32),
  kind text NOT NULL CONSTRAINT personal_data_kind_known CHECK (kind IN ('ip', 'user_agent', 'customer')),
  -- SHA-256(kind ‖ 0x00 ‖ value), unsalted: finds the row of a value seen
  -- before. It goes with the row.
  lookup bytea NOT NULL CONSTRAINT personal_data_lookup_is_sha256 CHECK (length(lookup) = 32),
  salt bytea NOT NULL CONSTRAINT personal_data_salt_length CHECK (length(salt) = 16),
  value text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT personal_data_value_once UNIQUE (kind, lookup)
);

DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = ':service_role') THEN
    -- Rows are erased, never edited.
    REVOKE UPDATE, TRUNCATE ON personal_data FROM :service_role;
  END IF;
END $$;
