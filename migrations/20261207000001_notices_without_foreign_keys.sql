-- The notice tables are an outbox: each row is written by the transaction that settles
-- (or cancels) its auction, from that auction's locked row and its bids, and nothing
-- deletes auctions, bidders or bids (the bids' own foreign keys still keep any bidder or
-- auction that has bids, which every notice's bidder and auction has). Their foreign keys
-- guarded nothing that could happen, yet each check locked its parent row: a WAL record
-- per check, and on the few bidders' rows a lock that every concurrent bid shares (a new
-- multixact each time). Measured in six alternated pairs of rtb runs at 1,000 auctions a
-- second (README, "Bench"): without them, settlement p50 lower in five pairs, p99 in four
-- (median 21.5 ms against 27.1), notice p99 in four (median 47 ms against 74).
ALTER TABLE win_notices
    DROP CONSTRAINT IF EXISTS win_notices_auction_id_fkey,
    DROP CONSTRAINT IF EXISTS win_notices_bidder_id_fkey;

ALTER TABLE loss_notices
    DROP CONSTRAINT IF EXISTS loss_notices_auction_id_fkey,
    DROP CONSTRAINT IF EXISTS loss_notices_bidder_id_fkey,
    DROP CONSTRAINT IF EXISTS loss_notices_bid_id_fkey;
