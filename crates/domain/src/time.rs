//! How times are written for clients: RFC 3339 in UTC with milliseconds
//! (`2026-11-22T10:15:00.123Z`), in responses, events and notices alike.

use chrono::{DateTime, SecondsFormat, Utc};

/// `t` as clients read it.
pub fn rfc3339_millis(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn milliseconds_and_a_z() {
        let t = "2026-11-22T10:15:00.123456Z".parse().unwrap();
        assert_eq!(super::rfc3339_millis(&t), "2026-11-22T10:15:00.123Z");
    }
}
