-- The journal: transactions, their append-only entries and status history,
-- holds of pending transactions, and one balance row per account kept in
-- the same database transaction as the entries that make it.

-- Refuses to change or remove a row of an append-only table: corrections are
-- new rows (an offsetting transaction, a later status), never edits.
CREATE FUNCTION refuse_append_only_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on %.% refused: the table is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$;

-- Money columns are int8 minor units of the account's currency.
CREATE TABLE balances (
  account_id uuid PRIMARY KEY REFERENCES accounts (id),
  posted_debits_minor bigint NOT NULL DEFAULT 0 CONSTRAINT balance_posted_debits_not_negative CHECK (posted_debits_minor >= 0),
  posted_credits_minor bigint NOT NULL DEFAULT 0 CONSTRAINT balance_posted_credits_not_negative CHECK (posted_credits_minor >= 0),
  pending_debits_minor bigint NOT NULL DEFAULT 0 CONSTRAINT balance_pending_debits_not_negative CHECK (pending_debits_minor >= 0),
  pending_credits_minor bigint NOT NULL DEFAULT 0 CONSTRAINT balance_pending_credits_not_negative CHECK (pending_credits_minor >= 0),
  -- The number of entries posted to the account: the version an optimistic leg expects.
  version bigint NOT NULL DEFAULT 0 CONSTRAINT balance_version_not_negative CHECK (version >= 0)
) WITH (fillfactor = 70); -- room for HOT updates: every posting rewrites its accounts' rows

CREATE TABLE transactions (
  id uuid PRIMARY KEY,
  kind text NOT NULL CONSTRAINT transaction_kind_known CHECK (kind IN ('posted', 'pending', 'reversal')),
  purpose text NOT NULL CONSTRAINT transaction_purpose_known
    CHECK (purpose IN ('journal', 'payment', 'transfer', 'wallet_top_up', 'wallet_transfer', 'reversal')),
  status text NOT NULL CONSTRAINT transaction_status_known CHECK (status IN (
    'initiated', 'processing', 'settled', 'failed',
    'refund_initiated', 'refund_processing', 'refunded', 'refund_failed')),
  -- NULL when the legs span several currencies.
  currency char(3),
  amount_minor bigint CONSTRAINT transaction_amount_positive CHECK (amount_minor > 0),
  reversed_minor bigint NOT NULL DEFAULT 0 CONSTRAINT transaction_reversed_not_negative CHECK (reversed_minor >= 0),
  reverses_transaction_id uuid REFERENCES transactions (id),
  external_ref text NOT NULL DEFAULT '' CONSTRAINT transaction_external_ref_length CHECK (char_length(external_ref) <= 128),
  description text NOT NULL DEFAULT '' CONSTRAINT transaction_description_length CHECK (char_length(description) <= 500),
  reason text NOT NULL DEFAULT '' CONSTRAINT transaction_reason_length CHECK (char_length(reason) <= 500),
  metadata jsonb NOT NULL DEFAULT '{}',
  effective_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  performed_by text NOT NULL,
  performed_by_role text NOT NULL,
  -- The last line of defence for the rule the service enforces first.
  CONSTRAINT transaction_reversed_within_amount CHECK (reversed_minor <= coalesce(amount_minor, 0)),
  CONSTRAINT transaction_reversal_names_original CHECK ((kind = 'reversal') = (reverses_transaction_id IS NOT NULL)),
  CONSTRAINT transaction_amount_with_currency CHECK ((currency IS NULL) = (amount_minor IS NULL))
);
CREATE INDEX transactions_by_created ON transactions (created_at, id);
CREATE INDEX transactions_by_external_ref ON transactions (external_ref, created_at) WHERE external_ref <> '';
CREATE INDEX transactions_by_metadata ON transactions USING gin (metadata jsonb_path_ops);
CREATE INDEX transactions_by_original ON transactions (reverses_transaction_id) WHERE reverses_transaction_id IS NOT NULL;

-- One line per leg. The key (account, version) orders an account's entries;
-- posted_at rises with the version because an account's entries are written
-- under its row lock, each stamped after the lock was taken.
CREATE TABLE entries (
  account_id uuid NOT NULL REFERENCES accounts (id),
  account_version bigint NOT NULL CONSTRAINT entry_version_positive CHECK (account_version >= 1),
  transaction_id uuid NOT NULL REFERENCES transactions (id),
  direction text NOT NULL CONSTRAINT entry_direction_known CHECK (direction IN ('debit', 'credit')),
  amount_minor bigint NOT NULL CONSTRAINT entry_amount_positive CHECK (amount_minor > 0),
  -- The account's posted balance on its normal side, before and after.
  balance_before_minor bigint NOT NULL,
  balance_after_minor bigint NOT NULL,
  posted_at timestamptz NOT NULL,
  PRIMARY KEY (account_id, account_version),
  CONSTRAINT entry_balance_moves_by_amount CHECK (abs(balance_after_minor - balance_before_minor) = amount_minor)
);
CREATE INDEX entries_by_transaction ON entries (transaction_id);
CREATE INDEX entries_by_account_time ON entries (account_id, posted_at, account_version);
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
  FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();
REVOKE UPDATE, DELETE, TRUNCATE ON entries FROM :service_role;

-- Every status a transaction entered, with who moved it and why.
CREATE TABLE transaction_status_history (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id uuid NOT NULL REFERENCES transactions (id),
  -- NULL for the status it was created in.
  from_status text,
  to_status text NOT NULL,
  performed_by text NOT NULL,
  performed_by_role text NOT NULL,
  reason text NOT NULL DEFAULT '' CONSTRAINT status_history_reason_length CHECK (char_length(reason) <= 500),
  changed_at timestamptz NOT NULL
);
CREATE INDEX transaction_status_history_by_transaction ON transaction_status_history (transaction_id, id);
CREATE TRIGGER transaction_status_history_append_only BEFORE UPDATE OR DELETE ON transaction_status_history
  FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
CREATE TRIGGER transaction_status_history_no_truncate BEFORE TRUNCATE ON transaction_status_history
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();
REVOKE UPDATE, DELETE, TRUNCATE ON transaction_status_history FROM :service_role;

-- The funds a pending transaction holds, from its creation until it is
-- posted, voided or expires.
CREATE TABLE holds (
  transaction_id uuid PRIMARY KEY REFERENCES transactions (id),
  debit_account_id uuid NOT NULL REFERENCES accounts (id),
  credit_account_id uuid NOT NULL REFERENCES accounts (id),
  amount_minor bigint NOT NULL CONSTRAINT hold_amount_positive CHECK (amount_minor > 0),
  posted_minor bigint,
  status text NOT NULL CONSTRAINT hold_status_known CHECK (status IN ('open', 'posted', 'voided', 'expired')),
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  resolved_at timestamptz,
  CONSTRAINT hold_accounts_differ CHECK (debit_account_id <> credit_account_id),
  CONSTRAINT hold_posted_within_amount CHECK (posted_minor > 0 AND posted_minor <= amount_minor),
  CONSTRAINT hold_posted_has_amount CHECK ((status = 'posted') = (posted_minor IS NOT NULL)),
  CONSTRAINT hold_resolved_when_closed CHECK ((status = 'open') = (resolved_at IS NULL))
);
CREATE INDEX holds_open_by_expiry ON holds (expires_at) WHERE status = 'open';
CREATE INDEX holds_by_debit_account ON holds (debit_account_id);
CREATE INDEX holds_by_credit_account ON holds (credit_account_id);
