-- A bid's row is inserted only by the batch that holds its auction's row locked (it read
-- it to decide the bid), for the bidder whose API key sent it. Their foreign keys guarded
-- what no write of gavel's can break, yet each inserted bid ran two checks: a query on its
-- auction and a lock on its bidder's row, a WAL record each time, on the few rows every
-- concurrent batch shares. Measured in four alternated rounds of keyed and un-keyed bid runs
-- (README, "Bench"): without them, PostgreSQL's CPU a keyed bid 62.5 to 64.1 µs in three
-- rounds against 76.6 to 90.7, and 7,723, 8,082, 8,126 and 6,785 keyed bids a second
-- against 6,763, 6,503, 6,287 and 7,471.
ALTER TABLE bids
    DROP CONSTRAINT IF EXISTS bids_auction_id_fkey,
    DROP CONSTRAINT IF EXISTS bids_bidder_id_fkey;

-- What those keys kept can only be broken by deleting a parent row, which gavel never does.
-- Bidders stay kept by their API keys' foreign key (`bidder_keys`, never deleted either);
-- auctions are kept by refusing the statements that could remove one. Statement triggers:
-- nothing on the path of a bid or a settlement pays for them.
CREATE FUNCTION gavel_keep_auctions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'auctions are never deleted: bids and notices name them (cancel one instead)'
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER auctions_never_deleted
    BEFORE DELETE OR TRUNCATE ON auctions
    FOR EACH STATEMENT EXECUTE FUNCTION gavel_keep_auctions();
