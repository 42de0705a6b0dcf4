-- The audit log. The migration runs as audit_owner, a role that cannot log
-- in, so it owns every table; the service connects as :service_role, which
-- may only read and append to the log tables. On top of the missing
-- privileges, triggers refuse UPDATE, DELETE and TRUNCATE to everyone,
-- owner included: a change to the log has to switch them off first, which
-- takes a superuser and is itself visible.

CREATE FUNCTION refuse_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on %.% refused: the audit log is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$;

-- One row per leaf. `leaf` holds the canonical LogEntry bytes that the
-- Merkle tree hashes; answers are always read from it. The other columns
-- copy leaf fields for filtering, plus where the event was read from.
CREATE TABLE entries (
  sequence bigint PRIMARY KEY CONSTRAINT entry_sequence_not_negative CHECK (sequence >= 0),
  event_id uuid NOT NULL CONSTRAINT entry_event_id_unique UNIQUE,
  leaf bytea NOT NULL,
  leaf_hash bytea NOT NULL CONSTRAINT entry_leaf_hash_is_sha256 CHECK (length(leaf_hash) = 32),
  service text NOT NULL,
  action text NOT NULL,
  object_type text NOT NULL,
  object_id text NOT NULL,
  principal_id text NOT NULL,
  acting_device_id text NOT NULL,
  ip_ref bytea,
  user_agent_ref bytea,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  correlation_id text NOT NULL,
  source_topic text NOT NULL,
  source_partition integer NOT NULL,
  source_offset bigint NOT NULL
);
-- Every index costs the sequencer a write per entry, so each earns its
-- place. Objects, principals, devices and actions are selective; a service
-- is not (a handful of values), so a query by service alone walks the log in
-- order, which finds a page quickly. occurred_at follows the sequence
-- closely, so a BRIN index (a few pages for millions of rows) serves time
-- ranges at almost no write cost.
CREATE INDEX entries_by_object ON entries (object_type, object_id, sequence);
CREATE INDEX entries_by_principal ON entries (principal_id, sequence);
CREATE INDEX entries_by_device ON entries (acting_device_id, sequence) WHERE acting_device_id <> '';
CREATE INDEX entries_by_action ON entries (action, sequence);
CREATE INDEX entries_by_occurred_at ON entries USING brin (occurred_at) WITH (pages_per_range = 32);
CREATE INDEX entries_by_correlation ON entries (correlation_id, sequence) WHERE correlation_id <> '';

-- Every perfect subtree of the tree above the leaves (level >= 1; level 0
-- is entries.leaf_hash): node (level, index) covers leaves
-- [index * 2^level, (index + 1) * 2^level). A proof reads O(log n) of them.
CREATE TABLE tree_nodes (
  level smallint NOT NULL CONSTRAINT tree_node_level_above_leaves CHECK (level BETWEEN 1 AND 63),
  index bigint NOT NULL CONSTRAINT tree_node_index_not_negative CHECK (index >= 0),
  hash bytea NOT NULL CONSTRAINT tree_node_hash_is_sha256 CHECK (length(hash) = 32),
  PRIMARY KEY (level, index)
);

-- The tree after each sequenced batch: its size, root and compact state
-- (the roots of the perfect subtrees tiling it, largest first, packed 32
-- bytes each), and the recorded_at of the batch [first_sequence, size).
CREATE TABLE tree_heads (
  size bigint PRIMARY KEY CONSTRAINT tree_head_size_positive CHECK (size > 0),
  first_sequence bigint NOT NULL,
  root bytea NOT NULL CONSTRAINT tree_head_root_is_sha256 CHECK (length(root) = 32),
  compact bytea NOT NULL CONSTRAINT tree_head_compact_whole_hashes CHECK (length(compact) % 32 = 0),
  recorded_at timestamptz NOT NULL,
  CONSTRAINT tree_head_batch_not_empty CHECK (first_sequence >= 0 AND first_sequence < size)
);
CREATE INDEX tree_heads_by_recorded_at ON tree_heads (recorded_at, size);

-- Signed checkpoints, one per tree size the log committed to.
CREATE TABLE checkpoints (
  size bigint PRIMARY KEY CONSTRAINT checkpoint_size_positive CHECK (size > 0),
  root bytea NOT NULL CONSTRAINT checkpoint_root_is_sha256 CHECK (length(root) = 32),
  note text NOT NULL,
  signed_at timestamptz NOT NULL
);

-- Messages of the audit topic that are not audit events: kept, never
-- silently dropped, and the consumer moves past them.
CREATE TABLE rejected_messages (
  consumer text NOT NULL,
  topic text NOT NULL,
  partition integer NOT NULL,
  "offset" bigint NOT NULL,
  reason text NOT NULL,
  value bytea NOT NULL,
  rejected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, topic, partition, "offset")
);

CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
  FOR EACH ROW EXECUTE FUNCTION refuse_log_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_log_change();
CREATE TRIGGER tree_nodes_append_only BEFORE UPDATE OR DELETE ON tree_nodes
  FOR EACH ROW EXECUTE FUNCTION refuse_log_change();
CREATE TRIGGER tree_nodes_no_truncate BEFORE TRUNCATE ON tree_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_log_change();
CREATE TRIGGER tree_heads_append_only BEFORE UPDATE OR DELETE ON tree_heads
  FOR EACH ROW EXECUTE FUNCTION refuse_log_change();
CREATE TRIGGER tree_heads_no_truncate BEFORE TRUNCATE ON tree_heads
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_log_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION refuse_log_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_log_change();
CREATE TRIGGER rejected_messages_append_only BEFORE UPDATE OR DELETE ON rejected_messages
  FOR EACH ROW EXECUTE FUNCTION refuse_log_change();
CREATE TRIGGER rejected_messages_no_truncate BEFORE TRUNCATE ON rejected_messages
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_log_change();

-- Where the ingester is in each partition of the audit topic: the offset of
-- the next message to apply, written in the transaction that appends the
-- entries, so the log and the position can never disagree.
CREATE TABLE consumer_offsets (
  consumer text NOT NULL,
  topic text NOT NULL,
  partition integer NOT NULL,
  next_offset bigint NOT NULL CONSTRAINT consumer_offset_not_negative CHECK (next_offset >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, topic, partition)
);

-- The service role only reads and appends. Embedded mode (one database per
-- service, no roles) has nobody to revoke from.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = ':service_role') THEN
    REVOKE UPDATE, DELETE, TRUNCATE ON entries, tree_nodes, tree_heads, checkpoints, rejected_messages
      FROM :service_role;
    REVOKE DELETE, TRUNCATE ON consumer_offsets FROM :service_role;
  END IF;
END $$;
