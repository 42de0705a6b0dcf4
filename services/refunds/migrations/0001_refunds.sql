-- Refunds: requests, their maker-checker decisions, the per-merchant approval
-- policy, the saga's steps and the append-only history of every transition.
-- Money columns are int8 minor units of the refund's currency.

-- Refuses to change or remove a row of an append-only table.
CREATE FUNCTION refuse_append_only_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on %.% refused: the table is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$;

-- Per merchant and currency ('' is the platform default): how long a refund
-- may wait for approval, and the amount bands below.
CREATE TABLE approval_policies (
  merchant_id text NOT NULL,
  currency char(3) NOT NULL,
  approval_ttl_seconds integer NOT NULL
    CONSTRAINT approval_policy_ttl_range CHECK (approval_ttl_seconds BETWEEN 60 AND 2592000),
  updated_at timestamptz NOT NULL,
  updated_by text NOT NULL,
  PRIMARY KEY (merchant_id, currency)
);

-- Refunds of at least min_amount_minor need approvals_required approvers; the
-- band with the highest min_amount_minor not above the amount applies.
CREATE TABLE approval_bands (
  merchant_id text NOT NULL,
  currency char(3) NOT NULL,
  min_amount_minor bigint NOT NULL CONSTRAINT approval_band_min_not_negative CHECK (min_amount_minor >= 0),
  approvals_required smallint NOT NULL CONSTRAINT approval_band_approvals_range CHECK (approvals_required BETWEEN 0 AND 2),
  PRIMARY KEY (merchant_id, currency, min_amount_minor),
  FOREIGN KEY (merchant_id, currency) REFERENCES approval_policies (merchant_id, currency) ON DELETE CASCADE
);

-- One row per refunded ledger transaction: the row every request for it locks
-- (FOR UPDATE), so two concurrent requests are decided one after the other
-- against the same committed total.
CREATE TABLE refund_originals (
  transaction_id uuid PRIMARY KEY,
  currency char(3) NOT NULL,
  amount_minor bigint NOT NULL CONSTRAINT refund_original_amount_positive CHECK (amount_minor > 0),
  -- The sum of its refunds that are not failed, rejected, expired or canceled.
  committed_minor bigint NOT NULL DEFAULT 0,
  -- The refund that has not reached a final status yet, if any: one at a time.
  active_refund_id uuid,
  CONSTRAINT refund_original_committed_within_amount CHECK (committed_minor BETWEEN 0 AND amount_minor)
);

CREATE TABLE refunds (
  id uuid PRIMARY KEY,
  original_transaction_id uuid NOT NULL REFERENCES refund_originals (transaction_id),
  merchant_id text NOT NULL DEFAULT '',
  order_reference text NOT NULL DEFAULT '',
  currency char(3) NOT NULL,
  amount_minor bigint NOT NULL CONSTRAINT refund_amount_positive CHECK (amount_minor > 0),
  original_amount_minor bigint NOT NULL,
  reason_code text NOT NULL CONSTRAINT refund_reason_code_known CHECK (reason_code IN (
    'requested_by_customer', 'duplicate', 'fraudulent', 'return', 'goodwill', 'pricing_error', 'other')),
  note text NOT NULL DEFAULT '' CONSTRAINT refund_note_length CHECK (char_length(note) <= 500),
  status text NOT NULL CONSTRAINT refund_status_known CHECK (status IN (
    'requested', 'awaiting_approval', 'approved', 'rejected', 'expired', 'processing',
    'succeeded', 'failed', 'canceled', 'requires_attention')),
  requested_by text NOT NULL,
  requested_by_role text NOT NULL,
  approvals_required smallint NOT NULL CONSTRAINT refund_approvals_range CHECK (approvals_required BETWEEN 0 AND 2),
  approval_expires_at timestamptz,
  -- Where the saga is: its direction and the step it waits on.
  saga_phase text CONSTRAINT refund_saga_phase_known CHECK (saga_phase IN ('forward', 'compensating')),
  current_step text,
  reversal_transaction_id uuid,
  points_reversed bigint NOT NULL DEFAULT 0,
  points_shortfall bigint NOT NULL DEFAULT 0,
  failure_reason text NOT NULL DEFAULT '',
  failure_message text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  completed_at timestamptz,
  CONSTRAINT refund_amount_within_original CHECK (amount_minor <= original_amount_minor),
  CONSTRAINT refund_awaiting_has_expiry CHECK (status <> 'awaiting_approval' OR approval_expires_at IS NOT NULL)
);
CREATE INDEX refunds_by_created ON refunds (created_at DESC, id DESC);
CREATE INDEX refunds_by_original ON refunds (original_transaction_id, created_at DESC);
CREATE INDEX refunds_by_merchant ON refunds (merchant_id, created_at DESC);
CREATE INDEX refunds_by_requester ON refunds (requested_by, created_at DESC);
CREATE INDEX refunds_by_status ON refunds (status, created_at DESC);
CREATE INDEX refunds_awaiting_by_expiry ON refunds (approval_expires_at) WHERE status = 'awaiting_approval';

-- Each approver's decision on a refund, bound to the amount they saw. One per
-- approver and refund; never changed.
CREATE TABLE refund_decisions (
  refund_id uuid NOT NULL REFERENCES refunds (id),
  approver_id text NOT NULL,
  approver_role text NOT NULL,
  approved boolean NOT NULL,
  amount_minor bigint NOT NULL,
  reason text NOT NULL DEFAULT '' CONSTRAINT refund_decision_reason_length CHECK (char_length(reason) <= 500),
  decided_at timestamptz NOT NULL,
  PRIMARY KEY (refund_id, approver_id)
);
CREATE TRIGGER refund_decisions_append_only BEFORE UPDATE OR DELETE ON refund_decisions
  FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
CREATE TRIGGER refund_decisions_no_truncate BEFORE TRUNCATE ON refund_decisions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();
REVOKE UPDATE, DELETE, TRUNCATE ON refund_decisions FROM :service_role;

-- The saga's steps of one refund: forward steps and the compensations it ran.
CREATE TABLE saga_steps (
  refund_id uuid NOT NULL REFERENCES refunds (id),
  step text NOT NULL CONSTRAINT saga_step_known CHECK (step IN (
    'mark_refund_processing', 'reverse_ledger_transaction', 'reverse_loyalty_points',
    'complete_ledger_refund', 'cancel_ledger_reversal', 'restore_settled')),
  compensation boolean NOT NULL,
  status text NOT NULL CONSTRAINT saga_step_status_known CHECK (status IN (
    'pending', 'in_flight', 'retry_scheduled', 'succeeded', 'refused', 'failed', 'skipped')),
  -- Commands sent so far, and how many of them since the last operator retry.
  attempts integer NOT NULL DEFAULT 0 CONSTRAINT saga_step_attempts_not_negative CHECK (attempts >= 0),
  attempts_since_retry integer NOT NULL DEFAULT 0,
  last_error text NOT NULL DEFAULT '',
  deadline_at timestamptz,
  next_attempt_at timestamptz,
  started_at timestamptz,
  completed_at timestamptz,
  result jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (refund_id, step)
);
-- What the sweeper looks for: replies overdue, and retries due.
CREATE INDEX saga_steps_in_flight_by_deadline ON saga_steps (deadline_at) WHERE status = 'in_flight';
CREATE INDEX saga_steps_retry_by_time ON saga_steps (next_attempt_at) WHERE status = 'retry_scheduled';

-- Every status a refund entered, who moved it and why. Never changed.
CREATE TABLE refund_transitions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  refund_id uuid NOT NULL REFERENCES refunds (id),
  -- NULL for the status it was created in.
  from_status text,
  to_status text NOT NULL,
  actor_id text NOT NULL,
  actor_role text NOT NULL,
  reason text NOT NULL DEFAULT '',
  occurred_at timestamptz NOT NULL
);
CREATE INDEX refund_transitions_by_refund ON refund_transitions (refund_id, id);
CREATE TRIGGER refund_transitions_append_only BEFORE UPDATE OR DELETE ON refund_transitions
  FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change();
CREATE TRIGGER refund_transitions_no_truncate BEFORE TRUNCATE ON refund_transitions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_append_only_change();
REVOKE UPDATE, DELETE, TRUNCATE ON refund_transitions FROM :service_role;
