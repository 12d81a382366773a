-- no-transaction
-- The btree that the BRIN index (the migration before) replaces for pruning.
DROP INDEX CONCURRENTLY IF EXISTS idempotency_keys_created_at;
