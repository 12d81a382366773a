-- Bidder management: a status (a disabled bidder's keys are refused), a per-bidder rate
-- limit, and several keys per bidder (rotation without downtime), each revocable or given
-- an expiry.
--
-- bidders.api_key_hash stays, filled with the bidder's first key, for an instance of the
-- previous release during a rolling upgrade (it authenticates by that column alone: until
-- every instance runs this release, only first keys work there, and revoking one takes
-- effect on this release's instances only).

ALTER TABLE bidders
    ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    ADD COLUMN rate_limit INTEGER CHECK (rate_limit BETWEEN 1 AND 1000000);

CREATE TABLE bidder_keys (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bidder_id  BIGINT      NOT NULL REFERENCES bidders (id),
    -- SHA-256 of the key: the key itself is never stored.
    key_hash   BYTEA       NOT NULL UNIQUE,
    -- The key's first 8 characters, to tell keys apart.
    prefix     TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);

CREATE INDEX bidder_keys_of_bidder ON bidder_keys (bidder_id);

-- Keys made before this release: only their hash is known, not their first characters.
INSERT INTO bidder_keys (bidder_id, key_hash, prefix, created_at)
SELECT id, api_key_hash, 'gvl_****', created_at FROM bidders;
