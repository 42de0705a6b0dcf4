-- An entry names its account and its transaction, and a status change its
-- transaction. The service writes them with the transaction, in one
-- statement, for accounts whose balance rows it has just locked. The foreign
-- keys checked that again, row by row, with a FOR KEY SHARE lock on the
-- parent: about half of the journal statement's time, and two lock records
-- per entry. Their other guarantee, that a row the journal names is never
-- removed, is now said directly: accounts and transactions are never deleted
-- (an account is closed, a transaction reversed), and the database refuses
-- it. CheckBalances reports any entry or status change naming a row that
-- does not exist, as it reports balance drift.
ALTER TABLE entries
  DROP CONSTRAINT entries_account_id_fkey,
  DROP CONSTRAINT entries_transaction_id_fkey;
ALTER TABLE transaction_status_history DROP CONSTRAINT transaction_status_history_transaction_id_fkey;

CREATE FUNCTION refuse_delete_of_journal_parent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on %.% refused: the journal names these rows, which are never deleted', TG_OP,
    TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER accounts_never_deleted BEFORE DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION refuse_delete_of_journal_parent();
CREATE TRIGGER accounts_never_truncated BEFORE TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete_of_journal_parent();
CREATE TRIGGER transactions_never_deleted BEFORE DELETE ON transactions
  FOR EACH ROW EXECUTE FUNCTION refuse_delete_of_journal_parent();
CREATE TRIGGER transactions_never_truncated BEFORE TRUNCATE ON transactions
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_delete_of_journal_parent();
REVOKE DELETE, TRUNCATE ON accounts, transactions FROM :service_role;
