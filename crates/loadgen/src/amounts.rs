//! Bid amounts, in ten-thousandths (the API's 4 fractional digits), never floats on the
//! wire: the pure part of the bid workloads.

/// Ten-thousandths in one currency unit.
pub const SCALE: u64 = 10_000;

/// Where a normal bid lands, in increments around the last seen next minimum:
/// uniform in `[JITTER_LOW, JITTER_HIGH)`, so 60 % of the range is at or above it and,
/// with fresh knowledge, about 60 % of bids are accepted (staleness lowers that a bit).
pub const JITTER_LOW: f64 = -0.4;
/// Upper end of the jitter, see [`JITTER_LOW`].
pub const JITTER_HIGH: f64 = 0.6;

/// Under contention the last seen minimum is often stale (another bid landed since), so
/// fewer than 60 % would be accepted: a shared bias, in thousandths of an increment,
/// moves the jitter window up or down. It goes down by [`BIAS_DOWN`] after an accepted
/// bid and up by [`BIAS_UP`] after a `bid_too_low`, so it settles where
/// `0.6 · BIAS_DOWN = 0.4 · BIAS_UP`: 60 % accepted.
pub const BIAS_DOWN: i64 = 2;
/// See [`BIAS_DOWN`].
pub const BIAS_UP: i64 = 3;
/// Bounds of the bias (thousandths of an increment): -0.5 to +20 increments.
pub const BIAS_RANGE: (i64, i64) = (-500, 20_000);

/// The bias change after a decided bid (accepted or `bid_too_low`).
pub fn bias_step(accepted: bool) -> i64 {
    if accepted {
        -BIAS_DOWN
    } else {
        BIAS_UP
    }
}

/// Parses a decimal amount (`"12.5"`, `"3"`, `"0.0001"`) into ten-thousandths, rounding
/// digits past the fourth up (a bid must reach the amount). `None` when not a
/// non-negative decimal.
pub fn parse(text: &str) -> Option<u64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let int: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let head = &frac[..frac.len().min(4)];
    let tail = &frac[head.len()..];
    let head_val: u64 = format!("{head:0<4}").parse().ok()?;
    let round_up = u64::from(tail.bytes().any(|b| b != b'0'));
    int.checked_mul(SCALE)?
        .checked_add(head_val)?
        .checked_add(round_up)
}

/// Writes ten-thousandths as the API's decimal text, always 4 fractional digits.
pub fn format(units: u64) -> String {
    format!("{}.{:04}", units / SCALE, units % SCALE)
}

/// A normal bid: `next_min + (u + bias / 1000) · increment`, with `u` in
/// `[JITTER_LOW, JITTER_HIGH)` (from the caller's random source) and the bias (see
/// [`BIAS_DOWN`]) clamped to [`BIAS_RANGE`]; never below 0.0001.
pub fn around(next_min: u64, increment: u64, u: f64, bias: i64) -> u64 {
    let u = u.clamp(JITTER_LOW, JITTER_HIGH);
    let bias = bias.clamp(BIAS_RANGE.0, BIAS_RANGE.1) as f64 / 1000.0;
    let offset = ((u + bias) * increment as f64).round() as i64;
    let amount = next_min as i64 + offset;
    amount.max(1) as u64
}

/// A bid that cannot win: half the next minimum (and below the reserve of a fresh
/// auction), never below 0.0001.
pub fn hopeless(next_min: u64) -> u64 {
    (next_min / 2).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_decimals_and_rounds_up_past_four_digits() {
        assert_eq!(parse("12.50"), Some(125_000));
        assert_eq!(parse("3"), Some(30_000));
        assert_eq!(parse("0.0001"), Some(1));
        assert_eq!(parse("1.00005"), Some(10_001));
        assert_eq!(parse("1.00000"), Some(10_000));
        assert_eq!(parse(".5"), Some(5_000));
        assert_eq!(parse("-1"), None);
        assert_eq!(parse("1e3"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("."), None);
    }

    #[test]
    fn format_keeps_four_decimals() {
        assert_eq!(format(1), "0.0001");
        assert_eq!(format(10_000), "1.0000");
        assert_eq!(format(123_456), "12.3456");
        for units in [1, 7, 499, 500, 10_000, 99_999_999] {
            let text = format(units);
            assert_eq!(text.split_once('.').unwrap().1.len(), 4, "{text}");
            assert_eq!(parse(&text), Some(units));
        }
    }

    #[test]
    fn around_stays_in_the_jitter_range_and_positive() {
        let (min, inc) = (10_000, 500);
        assert_eq!(around(min, inc, JITTER_LOW, 0), 9_800);
        assert_eq!(around(min, inc, JITTER_HIGH, 0), 10_300);
        assert_eq!(around(min, inc, 0.0, 0), 10_000);
        assert_eq!(around(min, inc, 5.0, 0), 10_300, "u is clamped");
        assert_eq!(
            around(min, inc, 0.0, 1_000),
            10_500,
            "bias of one increment"
        );
        assert_eq!(around(min, inc, 0.0, -10_000), 9_750, "bias is clamped");
        assert_eq!(around(min, inc, 0.0, i64::MAX), 20_000, "bias is clamped");
        assert_eq!(around(1, 500, JITTER_LOW, 0), 1, "never below 0.0001");
        assert_eq!(around(0, 0, 0.0, 0), 1);
    }

    #[test]
    fn around_accepts_about_sixty_percent_with_fresh_knowledge() {
        let (min, inc, n) = (10_000u64, 500u64, 10_000);
        let accepted = (0..n)
            .map(|i| JITTER_LOW + (JITTER_HIGH - JITTER_LOW) * (i as f64 + 0.5) / n as f64)
            .filter(|&u| around(min, inc, u, 0) >= min)
            .count();
        let share = accepted as f64 / n as f64;
        assert!((0.58..=0.62).contains(&share), "{share}");
    }

    #[test]
    fn the_bias_settles_at_sixty_percent_under_stale_knowledge() {
        // The true minimum runs ahead of the known one by 0..=2 increments.
        let (min, inc) = (100_000u64, 500u64);
        let mut bias = 0i64;
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut accepted, mut counted) = (0, 0);
        for step in 0..200_000 {
            let stale = (next() * 3.0) as u64 * inc;
            let u = JITTER_LOW + next() * (JITTER_HIGH - JITTER_LOW);
            let ok = around(min, inc, u, bias) >= min + stale;
            bias = (bias + bias_step(ok)).clamp(BIAS_RANGE.0, BIAS_RANGE.1);
            if step >= 100_000 {
                counted += 1;
                accepted += usize::from(ok);
            }
        }
        let share = accepted as f64 / counted as f64;
        assert!((0.57..=0.63).contains(&share), "{share}");
        assert!(bias > 0, "stale knowledge needs a positive bias: {bias}");
    }

    #[test]
    fn hopeless_is_below_the_minimum_and_positive() {
        assert_eq!(hopeless(10_000), 5_000);
        assert_eq!(hopeless(1), 1);
        assert_eq!(hopeless(0), 1);
        for m in [2, 3, 500, 10_000, 1_000_000] {
            assert!(hopeless(m) < m && hopeless(m) >= 1);
        }
    }
}
