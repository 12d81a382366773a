//! Pub/sub: auction events fanned out to every instance (best effort: with Redis down each
//! instance streams its own events only).

use std::time::Duration;

use crate::Cache;

impl Cache {
    /// Publishes several events in one round trip, in order.
    pub async fn publish_many(&self, payloads: &[String]) {
        let Some(inner) = self.usable() else { return };
        if payloads.is_empty() {
            return;
        }
        let channel = inner.events_channel();
        let mut pipe = redis::pipe();
        for p in payloads {
            pipe.cmd("PUBLISH").arg(&channel).arg(p).ignore();
        }
        let _ = inner
            .run(|mut c| async move { pipe.query_async::<()>(&mut c).await })
            .await;
    }

    /// Receives every instance's events until `stop` flips, reconnecting whenever the
    /// connection is lost. Returns at once when the cache is disabled.
    pub async fn run_subscriber(
        &self,
        on_message: impl Fn(String) + Send + Sync,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        use futures::StreamExt;
        let Some(inner) = self.inner.clone() else {
            return;
        };
        loop {
            let session = async {
                let mut pubsub = inner.pools.pubsub().await?;
                pubsub.subscribe(inner.events_channel()).await?;
                let mut messages = pubsub.on_message();
                while let Some(msg) = messages.next().await {
                    if let Ok(payload) = msg.get_payload::<String>() {
                        on_message(payload);
                    }
                }
                Ok::<(), redis::RedisError>(())
            };
            tokio::select! {
                _ = session => {}
                _ = stop.changed() => return,
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => return,
            }
        }
    }
}
