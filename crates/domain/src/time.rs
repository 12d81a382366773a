//! How times are written for clients: RFC 3339 in UTC with milliseconds
//! (`2026-11-22T10:15:00.123Z`), in responses, events and notices alike.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};

/// `t` as clients read it.
///
/// Written digit by digit: chrono's general formatter took about 650 instructions a
/// timestamp, and an auction's JSON carries three. Years outside 0..=9999 and leap seconds
/// go through chrono, which writes them as RFC 3339 allows.
pub fn rfc3339_millis(t: &DateTime<Utc>) -> String {
    let (date, time) = (t.date_naive(), t.time());
    let nanos = time.nanosecond();
    if !(0..=9999).contains(&date.year()) || nanos >= 1_000_000_000 {
        return t.to_rfc3339_opts(SecondsFormat::Millis, true);
    }
    let secs = time.num_seconds_from_midnight();
    let mut b = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, date.year() as u32);
    put(5, 2, date.month());
    put(8, 2, date.day());
    put(11, 2, secs / 3600);
    put(14, 2, secs / 60 % 60);
    put(17, 2, secs % 60);
    put(20, 3, nanos / 1_000_000);
    std::str::from_utf8(&b)
        .map(str::to_owned)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

    #[test]
    fn milliseconds_and_a_z() {
        let t = "2026-11-22T10:15:00.123456Z".parse().unwrap();
        assert_eq!(super::rfc3339_millis(&t), "2026-11-22T10:15:00.123Z");
    }

    proptest::proptest! {
        #[test]
        fn written_as_chrono_writes_it(secs in -70_000_000_000i64..300_000_000_000, nanos in 0u32..2_000_000_000) {
            if let Some(t) = Utc.timestamp_opt(secs, nanos).single() {
                let t: DateTime<Utc> = t;
                proptest::prop_assert_eq!(
                    super::rfc3339_millis(&t),
                    t.to_rfc3339_opts(SecondsFormat::Millis, true)
                );
            }
        }
    }
}
