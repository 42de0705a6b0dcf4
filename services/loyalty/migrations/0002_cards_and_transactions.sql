CREATE TABLE cards (
  id uuid PRIMARY KEY,
  merchant_id text NOT NULL REFERENCES programs,
  customer_ref text NOT NULL CONSTRAINT card_customer_ref_length CHECK (char_length(customer_ref) BETWEEN 1 AND 200),
  card_number text NOT NULL CONSTRAINT card_number_format CHECK (card_number ~ '^[A-Za-z0-9-]{4,40}$'),
  qr_payload text NOT NULL CONSTRAINT card_qr_payload_length CHECK (char_length(qr_payload) BETWEEN 1 AND 500),
  status text NOT NULL DEFAULT 'active' CONSTRAINT card_status_known CHECK (status IN ('active', 'inactive')),
  status_reason text NOT NULL DEFAULT '',
  stamps integer NOT NULL DEFAULT 0 CONSTRAINT card_stamps_not_negative CHECK (stamps >= 0),
  -- The remaining points of the card's lots minus its debt.
  points_balance bigint NOT NULL DEFAULT 0,
  -- Points a void or reversal took beyond what the card held, under a program
  -- that allows a negative balance; the next points earned pay it back first.
  points_debt bigint NOT NULL DEFAULT 0 CONSTRAINT card_points_debt_not_negative CHECK (points_debt >= 0),
  last_stamp_at timestamptz,
  -- Last earn or redemption; drives expiry after inactivity.
  last_activity_at timestamptz NOT NULL DEFAULT now(),
  enrolled_at timestamptz NOT NULL DEFAULT now(),
  -- Increases by one with every transaction on the card.
  version bigint NOT NULL DEFAULT 0,
  CONSTRAINT card_lots_not_negative CHECK (points_balance + points_debt >= 0),
  CONSTRAINT card_number_unique UNIQUE (merchant_id, card_number),
  CONSTRAINT card_qr_payload_unique UNIQUE (merchant_id, qr_payload)
);
CREATE INDEX cards_by_customer ON cards (merchant_id, customer_ref);
-- The expiry job's scan for inactive cards that still hold points.
CREATE INDEX cards_holding_points ON cards (merchant_id, last_activity_at) WHERE points_balance > 0;

-- The append-only loyalty ledger: one row per posting, never updated.
CREATE TABLE loyalty_transactions (
  id uuid PRIMARY KEY,
  -- Commit-independent total order for pagination.
  seq bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT loyalty_transaction_seq_unique UNIQUE,
  type text NOT NULL CONSTRAINT loyalty_transaction_type_known CHECK (type IN (
    'card_enrolled', 'welcome_bonus', 'stamp_added', 'stamps_redeemed', 'points_earned', 'points_redeemed',
    'stamps_voided', 'points_voided', 'points_reversed', 'adjusted', 'points_expired',
    'card_deactivated', 'card_reactivated')),
  merchant_id text NOT NULL REFERENCES programs,
  store_id uuid REFERENCES stores,
  card_id uuid NOT NULL REFERENCES cards,
  staff_id uuid REFERENCES staff_members,
  acting_terminal_device_id uuid REFERENCES devices,
  principal_id text NOT NULL,
  principal_role text NOT NULL,
  ip text,
  user_agent text,
  order_reference text,
  currency char(3),
  -- Minor units of `currency`.
  purchase_amount_minor bigint CONSTRAINT loyalty_transaction_purchase_not_negative CHECK (purchase_amount_minor >= 0),
  refunded_amount_minor bigint CONSTRAINT loyalty_transaction_refund_positive CHECK (refunded_amount_minor > 0),
  reward_code text,
  reward_name text,
  notes text CONSTRAINT loyalty_transaction_notes_length CHECK (char_length(notes) <= 500),
  related_transaction_id uuid REFERENCES loyalty_transactions,
  saga_id text,
  transaction_at timestamptz NOT NULL,
  stamps_delta integer NOT NULL,
  points_delta bigint NOT NULL,
  stamps_balance_after integer NOT NULL CONSTRAINT loyalty_transaction_stamps_after_not_negative CHECK (stamps_balance_after >= 0),
  points_balance_after bigint NOT NULL,
  -- Voids and reversals: how much of the related transaction this row cancels, and how.
  stamps_cancelled integer NOT NULL DEFAULT 0 CONSTRAINT loyalty_transaction_stamps_cancelled_not_negative CHECK (stamps_cancelled >= 0),
  points_cancelled bigint NOT NULL DEFAULT 0 CONSTRAINT loyalty_transaction_points_cancelled_not_negative CHECK (points_cancelled >= 0),
  points_already_expired bigint NOT NULL DEFAULT 0 CONSTRAINT loyalty_transaction_already_expired_not_negative CHECK (points_already_expired >= 0),
  points_forgiven bigint NOT NULL DEFAULT 0 CONSTRAINT loyalty_transaction_forgiven_not_negative CHECK (points_forgiven >= 0),
  lot_id uuid,
  CONSTRAINT loyalty_transaction_cancellation_adds_up
    CHECK (points_cancelled = 0 OR points_cancelled = abs(points_delta) + points_already_expired + points_forgiven),
  CONSTRAINT loyalty_transaction_void_names_original
    CHECK ((type IN ('stamps_voided', 'points_voided', 'points_reversed')) = (related_transaction_id IS NOT NULL))
);
-- EarnPoints posts once per (merchant, order reference).
CREATE UNIQUE INDEX loyalty_transactions_one_earn_per_order
  ON loyalty_transactions (merchant_id, order_reference) WHERE type = 'points_earned';
CREATE INDEX loyalty_transactions_by_card ON loyalty_transactions (card_id, transaction_at, seq);
CREATE INDEX loyalty_transactions_by_store ON loyalty_transactions (store_id, transaction_at, seq);
CREATE INDEX loyalty_transactions_by_merchant ON loyalty_transactions (merchant_id, transaction_at, seq);
CREATE INDEX loyalty_transactions_by_device ON loyalty_transactions (acting_terminal_device_id, transaction_at, seq)
  WHERE acting_terminal_device_id IS NOT NULL;
CREATE INDEX loyalty_transactions_by_staff ON loyalty_transactions (staff_id, transaction_at, seq)
  WHERE staff_id IS NOT NULL;
CREATE INDEX loyalty_transactions_by_related ON loyalty_transactions (related_transaction_id)
  WHERE related_transaction_id IS NOT NULL;

-- Points are kept in lots: one per crediting posting, spent soonest-expiring
-- first. remaining = original + the sum of the lot's movements; expired and
-- voided say how much of the rest expired or was voided with the earning.
CREATE TABLE points_lots (
  id uuid PRIMARY KEY,
  card_id uuid NOT NULL REFERENCES cards,
  -- Deferred: a posting moves its lots first and writes its row, with the balances after, last.
  source_transaction_id uuid NOT NULL REFERENCES loyalty_transactions DEFERRABLE INITIALLY DEFERRED,
  original_points bigint NOT NULL CONSTRAINT points_lot_original_positive CHECK (original_points > 0),
  remaining_points bigint NOT NULL CONSTRAINT points_lot_remaining_not_negative CHECK (remaining_points >= 0),
  expired_points bigint NOT NULL DEFAULT 0 CONSTRAINT points_lot_expired_not_negative CHECK (expired_points >= 0),
  -- Taken back by voids or reversals of the source transaction.
  voided_points bigint NOT NULL DEFAULT 0 CONSTRAINT points_lot_voided_not_negative CHECK (voided_points >= 0),
  earned_at timestamptz NOT NULL,
  -- Redeemable from this time on (the return window).
  available_at timestamptz NOT NULL,
  -- NULL: never, or the card's inactivity decides.
  expires_at timestamptz,
  expired_at timestamptz,
  CONSTRAINT points_lot_parts_within_original
    CHECK (remaining_points + expired_points + voided_points <= original_points),
  CONSTRAINT points_lot_expired_is_empty CHECK (expired_at IS NULL OR remaining_points = 0)
);
CREATE INDEX points_lots_open_by_card ON points_lots (card_id, expires_at, earned_at, id) WHERE remaining_points > 0;
CREATE INDEX points_lots_due ON points_lots (expires_at) WHERE remaining_points > 0 AND expires_at IS NOT NULL;
CREATE UNIQUE INDEX points_lots_by_source ON points_lots (source_transaction_id);

-- How each posting after a lot's creation moved it: spent (negative),
-- restored by a voided redemption (positive), clawed back, expired. A
-- redemption's rows say which lots a void may restore.
CREATE TABLE lot_movements (
  transaction_id uuid NOT NULL REFERENCES loyalty_transactions DEFERRABLE INITIALLY DEFERRED,
  lot_id uuid NOT NULL REFERENCES points_lots,
  points_delta bigint NOT NULL CONSTRAINT lot_movement_not_zero CHECK (points_delta <> 0),
  PRIMARY KEY (transaction_id, lot_id)
);
CREATE INDEX lot_movements_by_lot ON lot_movements (lot_id);

-- Usage per business day, for the daily caps per card and per device.
CREATE TABLE daily_usage (
  subject text NOT NULL CONSTRAINT daily_usage_subject_known CHECK (subject IN ('card', 'device')),
  subject_id uuid NOT NULL,
  business_date date NOT NULL,
  stamps integer NOT NULL DEFAULT 0,
  points bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (subject, subject_id, business_date)
);

-- Corrections are new rows, never edits: the ledger and its lot movements
-- refuse UPDATE and DELETE, and the service role may not even try.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: post a new transaction instead', TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER loyalty_transactions_append_only BEFORE UPDATE OR DELETE ON loyalty_transactions
  FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER loyalty_transactions_no_truncate BEFORE TRUNCATE ON loyalty_transactions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER lot_movements_append_only BEFORE UPDATE OR DELETE ON lot_movements
  FOR EACH ROW EXECUTE FUNCTION refuse_change();
-- Embedded mode has a single session and no service role to revoke from.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = ':service_role') THEN
    REVOKE UPDATE, DELETE, TRUNCATE ON loyalty_transactions, lot_movements FROM :service_role;
  END IF;
END $$;
