-- A posting names its program, store, staff member and device, and checks
-- them itself: it reads those rows in its own transaction and refuses an
-- unknown, revoked or locked one. The foreign keys from loyalty_transactions
-- checked them again with a FOR KEY SHARE lock on the parent row per posting:
-- every terminal of a merchant locking its one program row and its store's
-- row at once, which Postgres keeps as a shared multixact. That cost as much
-- as all of the posting's own writes. What else the keys guaranteed, that a
-- row named by the ledger is never deleted, is now said directly: these rows
-- are never deleted (a device is revoked, a PIN is locked), and the database
-- refuses it. The keys to cards and to other transactions stay: the card is
-- locked by the posting anyway.
ALTER TABLE loyalty_transactions
  DROP CONSTRAINT loyalty_transactions_merchant_id_fkey,
  DROP CONSTRAINT loyalty_transactions_store_id_fkey,
  DROP CONSTRAINT loyalty_transactions_staff_id_fkey,
  DROP CONSTRAINT loyalty_transactions_acting_terminal_device_id_fkey;

CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are named by the loyalty ledger and are never deleted', TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER programs_never_deleted BEFORE DELETE ON programs FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER stores_never_deleted BEFORE DELETE ON stores FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER staff_members_never_deleted BEFORE DELETE ON staff_members
  FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER devices_never_deleted BEFORE DELETE ON devices FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER programs_never_truncated BEFORE TRUNCATE ON programs
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER stores_never_truncated BEFORE TRUNCATE ON stores FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER staff_members_never_truncated BEFORE TRUNCATE ON staff_members
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER devices_never_truncated BEFORE TRUNCATE ON devices FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete();
-- Embedded mode has a single session and no service role to revoke from.
DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = ':service_role') THEN
    REVOKE DELETE, TRUNCATE ON programs, stores, staff_members, devices FROM :service_role;
  END IF;
END $$;
