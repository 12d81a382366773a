//! Amounts as fixed-width text whose order is their numeric order: Lua's numbers are
//! doubles and would round 18-digit amounts, so the scripts compare these strings.

use gavel_domain::Money;
use rust_decimal::Decimal;

/// The amount as 19 digits of ten-thousandths, zero-padded.
pub fn to_key(m: Money) -> String {
    let units = (m.as_decimal() * Decimal::from(10_000)).trunc();
    format!("{:0>19}", units.to_string())
}

/// Reads back [`to_key`].
pub fn from_key(key: &str) -> Option<Money> {
    let units: i128 = key.parse().ok()?;
    Money::from_decimal(Decimal::from_i128_with_scale(units, 4)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn keys_order_like_the_numbers() {
        let a = to_key(m("9.9999"));
        let b = to_key(m("10"));
        let c = to_key(m("99999999999999.9999"));
        assert!(a < b && b < c);
        assert_eq!(a.len(), 19);
        assert_eq!(c.len(), 19);
        assert_eq!(from_key(&c).unwrap().to_string(), "99999999999999.9999");
    }
}
