-- First answers to bids sent with an Idempotency-Key, stored in the bid's own transaction.
CREATE TABLE idempotency_keys (
    bidder_id    BIGINT      NOT NULL REFERENCES bidders (id),
    key          TEXT        NOT NULL,
    -- SHA-256 of the request as understood (auction, amount, bidder), to spot reuse.
    request_hash BYTEA       NOT NULL,
    status       SMALLINT    NOT NULL,
    response     JSONB       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (bidder_id, key)
);

-- Pruning deletes by age.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
