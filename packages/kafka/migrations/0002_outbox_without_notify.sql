-- The relay is woken in-process after each commit that wrote events. A
-- NOTIFY per commit took a cluster-wide lock at commit time, which made
-- every event-writing transaction of every service wait for the others.
DROP TRIGGER outbox_notify ON outbox;
DROP FUNCTION outbox_notify();
