-- The group commit's write goes out with COMMIT right behind it, in the same
-- round trip, so the batch can no longer look at what the write returned and
-- roll back: when one of its postings or idempotency keys was not written
-- because its unique key was taken meanwhile (ON CONFLICT DO NOTHING), the
-- statement itself must fail, and the COMMIT behind it then rolls back. The
-- SQLSTATE is the loyalty service's own, so that the service tells this
-- expected outcome (its postings run alone) from a failure.
CREATE FUNCTION assert_batch_written(written boolean) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF NOT written THEN
    RAISE EXCEPTION 'a posting or an idempotency key of the batch was taken meanwhile'
      USING ERRCODE = 'LY001';
  END IF;
  RETURN true;
END $$;
