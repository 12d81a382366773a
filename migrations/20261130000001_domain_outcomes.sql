-- Storage keeps domain values, never HTTP answers:
-- * idempotency keys keep the bid's outcome (accepted bid, or why it was refused);
-- * win notices keep only who is owed one: the body is rendered at delivery from the
--   settled auction, whose facts never change after settlement;
-- * the auction status rule, for filtering lists in SQL, lives in one function (a test
--   checks it against the Rust rule).

ALTER TABLE idempotency_keys ADD COLUMN outcome JSONB;

UPDATE idempotency_keys k SET outcome = CASE
    WHEN k.status = 201 THEN jsonb_build_object('accepted', jsonb_build_object(
        'bid', jsonb_build_object(
            'id', (k.response->>'id')::BIGINT,
            'auction_id', (k.response->>'auction_id')::BIGINT,
            'bidder_id', (k.response->>'bidder_id')::BIGINT,
            'amount', k.response->>'amount',
            'created_at', k.response->>'created_at'),
        'kind', (SELECT a.kind FROM auctions a WHERE a.id = (k.response->>'auction_id')::BIGINT)))
    WHEN k.response->>'code' = 'bid_too_low' THEN jsonb_build_object('refused',
        jsonb_build_object('too_low', jsonb_build_object('min_amount', k.response->>'min_amount')))
    WHEN k.response->>'code' = 'auction_not_open' THEN jsonb_build_object('refused',
        jsonb_build_object('not_open', k.response->>'auction_status'))
    WHEN k.response->>'code' = 'already_bid' THEN '{"refused": "already_bid"}'::JSONB
    WHEN k.response->>'code' = 'auction_not_found' THEN '{"refused": "unknown_auction"}'::JSONB
END;

-- Anything else was never a stored answer (no other status was kept).
DELETE FROM idempotency_keys WHERE outcome IS NULL;

ALTER TABLE idempotency_keys
    ALTER COLUMN outcome SET NOT NULL,
    DROP COLUMN status,
    DROP COLUMN response;

ALTER TABLE win_notices DROP COLUMN payload;

-- The status of an auction at `now`; mirrors gavel_domain::auction::status_at.
CREATE FUNCTION auction_status(cancelled_at TIMESTAMPTZ, closed_at TIMESTAMPTZ,
                               starts_at TIMESTAMPTZ, ends_at TIMESTAMPTZ, now TIMESTAMPTZ)
RETURNS TEXT LANGUAGE SQL IMMUTABLE AS $$
    SELECT CASE
        WHEN cancelled_at IS NOT NULL THEN 'cancelled'
        WHEN closed_at IS NOT NULL THEN 'closed'
        WHEN now < starts_at THEN 'scheduled'
        WHEN now < ends_at THEN 'open'
        ELSE 'closing'
    END
$$;
