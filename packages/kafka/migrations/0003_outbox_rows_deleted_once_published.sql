-- The relay deletes the rows it has published instead of stamping them. The
-- stamp was an UPDATE that could never be HOT (the unpublished-rows index is
-- filtered on it): a new row version and two index entries per event, on
-- every service's hottest path, and a table that grew forever. A published
-- event lives on in the bus, and every financial one in the audit service.
DELETE FROM outbox WHERE published_at IS NOT NULL;
DROP INDEX outbox_unpublished;
ALTER TABLE outbox DROP COLUMN published_at;
