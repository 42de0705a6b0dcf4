CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  type text NOT NULL CONSTRAINT account_type_known
    CHECK (type IN ('asset', 'liability', 'equity', 'revenue', 'expense')),
  owner_ref text NOT NULL CONSTRAINT account_owner_ref_length CHECK (char_length(owner_ref) BETWEEN 1 AND 200),
  currency char(3) NOT NULL,
  debits_must_not_exceed_credits boolean NOT NULL DEFAULT false,
  credits_must_not_exceed_debits boolean NOT NULL DEFAULT false,
  -- Minor units of the account's currency; NULL means no overdraft.
  overdraft_limit_minor bigint CONSTRAINT account_overdraft_not_negative CHECK (overdraft_limit_minor >= 0),
  status text NOT NULL DEFAULT 'active' CONSTRAINT account_status_known CHECK (status IN ('active', 'frozen', 'closed')),
  metadata jsonb NOT NULL DEFAULT '{}',
  -- Milliseconds, as JavaScript dates carry them, so a page token round-trips exactly.
  created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  CONSTRAINT account_flags_exclusive CHECK (NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits))
);
CREATE INDEX accounts_by_owner ON accounts (owner_ref, created_at, id);
