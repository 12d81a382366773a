-- Loss notices (OpenRTB's lurl): one per losing bidder with a webhook, written in the
-- transaction that settles or cancels the auction, delivered by the same sender as win
-- notices (claim with a lease, sign, retry with backoff, record the attempt).
--
-- A table of their own rather than rows in win_notices: that table allows one notice per
-- auction, and an instance of the previous release (still running during a rolling
-- upgrade) would claim any row there and send it as a win.

CREATE TABLE loss_notices (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notice_id       UUID        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    auction_id      BIGINT      NOT NULL REFERENCES auctions (id),
    -- Exactly one per losing bidder: an auction is settled or cancelled once.
    bidder_id       BIGINT      NOT NULL REFERENCES bidders (id),
    bid_id          BIGINT      NOT NULL REFERENCES bids (id),
    loss_reason     SMALLINT    NOT NULL CHECK (loss_reason IN (2, 100, 102)),
    -- Unbounded: the winning amount plus one increment may pass what a bid can hold.
    min_to_win      NUMERIC,
    url             TEXT        NOT NULL,
    state           TEXT        NOT NULL DEFAULT 'pending'
                                CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error      TEXT,
    delivered_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (auction_id, bidder_id)
);

CREATE INDEX loss_notices_due ON loss_notices (next_attempt_at) WHERE state = 'pending';
