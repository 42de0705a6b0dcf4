-- The transfer group commit's write goes out with COMMIT right behind it, in
-- the same round trip, so the group can no longer look at what the write
-- returned and roll back: when one of its idempotency keys was not recorded
-- because it was taken (ON CONFLICT DO NOTHING), the statement itself must
-- fail, and the COMMIT behind it then rolls back. The SQLSTATE is the
-- ledger's own, so that the service tells this expected outcome (the group's
-- calls run alone, where a replay replays) from a failure.
CREATE FUNCTION assert_keys_recorded(recorded boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF NOT recorded THEN
    RAISE EXCEPTION 'an idempotency key of the group was taken' USING ERRCODE = 'LG001';
  END IF;
  RETURN true;
END $$;
