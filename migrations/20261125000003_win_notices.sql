-- Win notices owed to winners with a webhook_url, written in the settlement transaction
-- and delivered (at least once) by any instance.
CREATE TABLE win_notices (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notice_id       UUID        NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    -- One notice per auction: settlement happens once.
    auction_id      BIGINT      NOT NULL UNIQUE REFERENCES auctions (id),
    bidder_id       BIGINT      NOT NULL REFERENCES bidders (id),
    url             TEXT        NOT NULL,
    payload         JSONB       NOT NULL,
    state           TEXT        NOT NULL DEFAULT 'pending'
                                CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error      TEXT,
    delivered_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX win_notices_due ON win_notices (next_attempt_at) WHERE state = 'pending';
