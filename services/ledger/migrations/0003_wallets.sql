-- A wallet is a user's liability account plus a registered mobile number and
-- a daily transfer limit.
CREATE TABLE wallets (
  id uuid PRIMARY KEY,
  owner_ref text NOT NULL CONSTRAINT wallet_owner_ref_length CHECK (char_length(owner_ref) BETWEEN 1 AND 200),
  account_id uuid NOT NULL CONSTRAINT wallet_account_unique UNIQUE REFERENCES accounts (id),
  -- E.164: "+", a country code not starting with 0, 8 to 15 digits in all.
  mobile_number text NOT NULL CONSTRAINT wallet_mobile_number_e164 CHECK (mobile_number ~ '^\+[1-9][0-9]{7,14}$'),
  daily_limit_minor bigint NOT NULL CONSTRAINT wallet_daily_limit_positive CHECK (daily_limit_minor > 0),
  created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  CONSTRAINT wallet_mobile_number_unique UNIQUE (mobile_number)
);
CREATE INDEX wallets_by_owner ON wallets (owner_ref, created_at);

-- What left each wallet per UTC day. The row is updated with the transfer
-- that spends it, under its row lock, so the limit holds under concurrency
-- without summing the day's history.
CREATE TABLE wallet_daily_usage (
  wallet_id uuid NOT NULL REFERENCES wallets (id),
  day date NOT NULL,
  spent_minor bigint NOT NULL CONSTRAINT wallet_usage_spent_not_negative CHECK (spent_minor >= 0),
  PRIMARY KEY (wallet_id, day)
);
