-- One loyalty program per merchant. Merchant ids come from the platform's
-- tokens (merchant_id claim); the program row is the merchant's presence here.
CREATE TABLE programs (
  merchant_id text PRIMARY KEY CONSTRAINT program_merchant_id_length CHECK (char_length(merchant_id) BETWEEN 1 AND 100),
  name text NOT NULL CONSTRAINT program_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
  currency char(3) NOT NULL,
  -- 0 turns stamps off.
  stamps_per_reward integer NOT NULL CONSTRAINT program_stamps_per_reward_range CHECK (stamps_per_reward BETWEEN 0 AND 1000),
  stamp_reward_name text NOT NULL,
  max_stamps_per_visit integer NOT NULL CONSTRAINT program_max_stamps_per_visit_range CHECK (max_stamps_per_visit BETWEEN 1 AND 1000),
  stamp_cooldown_seconds integer NOT NULL CONSTRAINT program_stamp_cooldown_not_negative CHECK (stamp_cooldown_seconds >= 0),
  points_per_unit numeric(20, 6) NOT NULL CONSTRAINT program_points_per_unit_not_negative CHECK (points_per_unit >= 0),
  points_rounding text NOT NULL CONSTRAINT program_points_rounding_known
    CHECK (points_rounding IN ('down', 'half_up', 'half_even', 'up')),
  -- Minor units of the currency.
  minimum_spend_minor bigint NOT NULL CONSTRAINT program_minimum_spend_not_negative CHECK (minimum_spend_minor >= 0),
  welcome_bonus_points bigint NOT NULL CONSTRAINT program_welcome_bonus_not_negative CHECK (welcome_bonus_points >= 0),
  points_expiry text NOT NULL CONSTRAINT program_points_expiry_known
    CHECK (points_expiry IN ('never', 'after_earning', 'after_inactivity')),
  points_expiry_days integer NOT NULL,
  points_lock_days integer NOT NULL CONSTRAINT program_points_lock_days_range CHECK (points_lock_days BETWEEN 0 AND 365),
  expiring_soon_days integer NOT NULL CONSTRAINT program_expiring_soon_days_range CHECK (expiring_soon_days BETWEEN 1 AND 3650),
  shortfall_policy text NOT NULL CONSTRAINT program_shortfall_policy_known
    CHECK (shortfall_policy IN ('allow_negative_balance', 'forgive')),
  -- Per business day; 0 means no cap.
  daily_stamps_per_card integer NOT NULL CONSTRAINT program_daily_stamps_per_card_not_negative CHECK (daily_stamps_per_card >= 0),
  daily_points_per_card bigint NOT NULL CONSTRAINT program_daily_points_per_card_not_negative CHECK (daily_points_per_card >= 0),
  daily_stamps_per_device integer NOT NULL CONSTRAINT program_daily_stamps_per_device_not_negative CHECK (daily_stamps_per_device >= 0),
  daily_points_per_device bigint NOT NULL CONSTRAINT program_daily_points_per_device_not_negative CHECK (daily_points_per_device >= 0),
  pin_max_attempts integer NOT NULL CONSTRAINT program_pin_max_attempts_range CHECK (pin_max_attempts BETWEEN 1 AND 20),
  pin_lock_seconds integer NOT NULL CONSTRAINT program_pin_lock_seconds_range CHECK (pin_lock_seconds BETWEEN 1 AND 604800),
  version bigint NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT program_expiry_days_match_policy
    CHECK ((points_expiry = 'never') = (points_expiry_days = 0) AND points_expiry_days BETWEEN 0 AND 3650)
);

-- The rewards catalog. A reward left out of a new configuration is retired
-- (active = false), never deleted: transactions name it.
CREATE TABLE rewards (
  merchant_id text NOT NULL REFERENCES programs,
  code text NOT NULL CONSTRAINT reward_code_format CHECK (code ~ '^[A-Za-z0-9_-]{1,40}$'),
  name text NOT NULL CONSTRAINT reward_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
  points_cost bigint NOT NULL CONSTRAINT reward_points_cost_positive CHECK (points_cost > 0),
  active boolean NOT NULL DEFAULT true,
  PRIMARY KEY (merchant_id, code)
);

CREATE TABLE stores (
  id uuid PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES programs,
  name text NOT NULL CONSTRAINT store_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
  time_zone text NOT NULL,
  points_per_unit_override numeric(20, 6) CONSTRAINT store_points_per_unit_not_negative CHECK (points_per_unit_override >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stores_by_merchant ON stores (merchant_id, created_at);

-- Staff PINs: scrypt hash with a per-PIN salt; wrong attempts lock the PIN.
CREATE TABLE staff_members (
  id uuid PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES programs,
  display_name text NOT NULL CONSTRAINT staff_display_name_length CHECK (char_length(display_name) BETWEEN 1 AND 200),
  pin_hash bytea NOT NULL,
  pin_salt bytea NOT NULL,
  -- Increases with every PIN change: verified-PIN caches compare it.
  pin_version integer NOT NULL DEFAULT 1,
  failed_pin_attempts integer NOT NULL DEFAULT 0 CONSTRAINT staff_failed_pin_attempts_not_negative CHECK (failed_pin_attempts >= 0),
  pin_locked_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_members_by_merchant ON staff_members (merchant_id);

CREATE TABLE devices (
  id uuid PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES programs,
  store_id uuid NOT NULL REFERENCES stores,
  label text NOT NULL CONSTRAINT device_label_length CHECK (char_length(label) BETWEEN 1 AND 100),
  paired_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  revoke_reason text,
  CONSTRAINT device_revocation_has_reason CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);

-- Single-use pairing codes; only a SHA-256 of the code is kept (the code is
-- 50 random bits, shown once, valid for minutes).
CREATE TABLE pairing_codes (
  id uuid PRIMARY KEY,
  code_hash bytea NOT NULL CONSTRAINT pairing_code_hash_unique UNIQUE,
  merchant_id text NOT NULL REFERENCES programs,
  store_id uuid NOT NULL REFERENCES stores,
  device_label text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  device_id uuid REFERENCES devices,
  CONSTRAINT pairing_code_use_names_device CHECK ((used_at IS NULL) = (device_id IS NULL))
);
