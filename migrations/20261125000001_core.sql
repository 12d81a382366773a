-- The core schema: bidders, auctions (with their running highest bid), bids.

CREATE TABLE bidders (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    webhook_url    TEXT,
    -- SHA-256 of the API key; the key itself is shown once and never stored.
    api_key_hash   BYTEA       NOT NULL UNIQUE,
    -- Kept readable: it signs win notices (HMAC), it does not authenticate.
    webhook_secret TEXT        NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE auctions (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title             TEXT          NOT NULL,
    kind              TEXT          NOT NULL CHECK (kind IN ('english', 'first_price', 'second_price')),
    currency          TEXT          NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reserve_price     NUMERIC(18,4) NOT NULL CHECK (reserve_price >= 0),
    min_increment     NUMERIC(18,4) NOT NULL CHECK (min_increment > 0),
    extend_secs       INTEGER       NOT NULL CHECK (extend_secs BETWEEN 0 AND 3600),
    starts_at         TIMESTAMPTZ   NOT NULL,
    ends_at           TIMESTAMPTZ   NOT NULL,
    cancelled_at      TIMESTAMPTZ,
    -- Running highest bid and count, updated under the row lock with each accepted
    -- bid, so that reads and decisions never scan the bids table.
    highest_bid_id    BIGINT,
    highest_bidder_id BIGINT,
    highest_amount    NUMERIC(18,4),
    bid_count         BIGINT        NOT NULL DEFAULT 0,
    -- Settlement result, set once by the closer.
    closed_at         TIMESTAMPTZ,
    winner_bidder_id  BIGINT REFERENCES bidders (id),
    winning_bid_id    BIGINT,
    clearing_price    NUMERIC(18,4),
    notice            TEXT          NOT NULL DEFAULT 'none'
                                    CHECK (notice IN ('none', 'pending', 'delivered', 'failed')),
    created_at        TIMESTAMPTZ   NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);

-- The closer looks for unsettled auctions past their end.
CREATE INDEX auctions_unsettled_ends_at ON auctions (ends_at)
    WHERE closed_at IS NULL AND cancelled_at IS NULL;

CREATE TABLE bids (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    auction_id BIGINT        NOT NULL REFERENCES auctions (id),
    bidder_id  BIGINT        NOT NULL REFERENCES bidders (id),
    amount     NUMERIC(18,4) NOT NULL CHECK (amount > 0),
    created_at TIMESTAMPTZ   NOT NULL DEFAULT now()
);

CREATE INDEX bids_auction_newest ON bids (auction_id, id DESC);
CREATE INDEX bids_auction_bidder ON bids (auction_id, bidder_id);
