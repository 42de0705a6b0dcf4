-- One row per (caller's method scope, idempotency key), written in the same
-- transaction as the effect it guards; the response is the first one sent.
CREATE TABLE idempotency_keys (
  scope text NOT NULL,
  key text NOT NULL,
  request_hash bytea NOT NULL,
  response bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key),
  CONSTRAINT idempotency_key_length CHECK (char_length(key) BETWEEN 1 AND 200)
);
