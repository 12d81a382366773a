//! Win-notice delivery rules: retry schedule and signatures' input.

use std::time::Duration;

/// Delay before retry number `attempt` (1 = the retry after the first failure):
/// `base`, `2·base`, `4·base` … capped at `max`.
pub fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let factor = 1u32
        .checked_shl(attempt.saturating_sub(1))
        .unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(max).min(max)
}

/// The text a notice signature covers: `"<unix seconds>.<body>"`.
pub fn signed_text(timestamp: i64, body: &str) -> String {
    format!("{timestamp}.{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Duration::from_secs;
        let b = |n| backoff(n, s(1), s(300));
        assert_eq!([b(1), b(2), b(3), b(4)], [s(1), s(2), s(4), s(8)]);
        assert_eq!(b(9), s(256));
        assert_eq!(b(10), s(300));
        assert_eq!(b(64), s(300));
        assert_eq!(b(0), s(1));
    }

    #[test]
    fn signed_text_is_timestamp_dot_body() {
        assert_eq!(signed_text(1700000000, "{}"), "1700000000.{}");
    }
}
