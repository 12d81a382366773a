//! The notices of one auction, win and loss, as an admin reads them.

use gavel_domain::{AuctionId, LossReason, NoticeState, SentNotice};

use crate::rows::bidder_id;
use crate::{Storage, StorageError};

impl Storage {
    /// Every notice owed for `auction`: the win first, then losses by bidder.
    pub async fn notices_of(&self, auction: AuctionId) -> Result<Vec<SentNotice>, StorageError> {
        let rows = sqlx::query!(
            r#"SELECT 'auction.won' AS "event!", notice_id::TEXT AS "notice_id!",
                      bidder_id AS "bidder_id!", state AS "state!", attempts AS "attempts!",
                      last_error, delivered_at, NULL::SMALLINT AS loss_reason, 0 AS "ord!"
               FROM win_notices WHERE auction_id = $1
               UNION ALL
               SELECT 'auction.lost', notice_id::TEXT, bidder_id, state, attempts,
                      last_error, delivered_at, loss_reason, 1
               FROM loss_notices WHERE auction_id = $1
               ORDER BY 9, 3"#,
            auction.get(),
        )
        .fetch_all(&mut *self.conn().await?)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(SentNotice {
                    event: if r.event == "auction.won" {
                        "auction.won"
                    } else {
                        "auction.lost"
                    },
                    notice_id: r.notice_id,
                    bidder_id: bidder_id(r.bidder_id)?,
                    state: NoticeState::parse(&r.state).ok_or_else(|| {
                        StorageError::Corrupt(format!("notice state {}", r.state))
                    })?,
                    attempts: r.attempts,
                    last_error: r.last_error,
                    delivered_at: r.delivered_at,
                    loss_reason: r.loss_reason.and_then(LossReason::from_code),
                })
            })
            .collect()
    }
}
