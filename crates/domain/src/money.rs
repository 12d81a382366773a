//! Money: exact decimals that fit PostgreSQL's `NUMERIC(18,4)`.
//!
//! Amounts are read from their decimal text (a JSON string, or a JSON number's
//! own digits), never through `f64`, and are refused rather than rounded when
//! they carry more precision than the database keeps.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most fractional digits an amount may carry.
pub const MAX_FRACTION_DIGITS: u32 = 4;
/// Most integer digits an amount may carry.
pub const MAX_INTEGER_DIGITS: usize = 14;

/// The key under which serde_json (with `arbitrary_precision`) hands over a number's text.
const SERDE_JSON_NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A non-negative amount with at most 14 integer and 4 fractional digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(Decimal);

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MoneyError(pub String);

impl Money {
    /// No money: the least reserve price.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// Wraps a decimal after checking it fits `NUMERIC(18,4)` and is not negative.
    pub fn from_decimal(d: Decimal) -> Result<Self, MoneyError> {
        let d = d.normalize();
        if d.is_sign_negative() && !d.is_zero() {
            return Err(MoneyError("must not be negative".into()));
        }
        if d.scale() > MAX_FRACTION_DIGITS {
            return Err(MoneyError(format!(
                "must have at most {MAX_FRACTION_DIGITS} fractional digits"
            )));
        }
        if d.trunc().abs().to_string().trim_start_matches('0').len() > MAX_INTEGER_DIGITS {
            return Err(MoneyError(format!(
                "must have at most {MAX_INTEGER_DIGITS} integer digits"
            )));
        }
        Ok(Money(d.abs()))
    }

    /// The exact decimal value.
    pub fn as_decimal(&self) -> Decimal {
        self.0
    }

    /// True when the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// The sum, or `None` when it no longer fits `NUMERIC(18,4)`.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0
            .checked_add(other.0)
            .and_then(|d| Money::from_decimal(d).ok())
    }

    /// The sum as a plain decimal: may exceed what an amount can hold.
    pub fn plus(self, other: Money) -> Decimal {
        self.0 + other.0
    }
}

/// Formats a decimal the way responses give amounts: at least two fractional digits.
pub fn format_amount(d: Decimal) -> String {
    let mut d = d.normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    d.to_string()
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_amount(self.0))
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let d = parse_decimal_text(s)?;
        Money::from_decimal(d)
    }
}

impl TryFrom<Decimal> for Money {
    type Error = MoneyError;
    fn try_from(d: Decimal) -> Result<Self, Self::Error> {
        Money::from_decimal(d)
    }
}

/// Reads a decimal from its text exactly: `[-+]digits[.digits][e[-+]digits]`.
///
/// Refuses instead of rounding: a value with more fractional or integer digits
/// than `NUMERIC(18,4)` holds is an error, whatever `rust_decimal` could represent.
fn parse_decimal_text(s: &str) -> Result<Decimal, MoneyError> {
    let bad = || MoneyError("must be a finite decimal number such as \"12.50\"".into());
    let (negative, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => {
            let exp: i64 = rest[i + 1..].parse().map_err(|_| bad())?;
            (&rest[..i], exp)
        }
        None => (rest, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty())
        || !all_digits(int_part)
        || !all_digits(frac_part)
    {
        return Err(bad());
    }
    if exponent.abs() > 64 {
        return Err(MoneyError("is out of range".into()));
    }
    // digits * 10^-scale, with scale possibly negative before normalising.
    let mut digits: String = format!("{int_part}{frac_part}");
    let mut scale: i64 = frac_part.len() as i64 - exponent;
    if scale < 0 {
        digits.extend(std::iter::repeat_n('0', (-scale) as usize));
        scale = 0;
    }
    while scale > 0 && digits.ends_with('0') {
        digits.pop();
        scale -= 1;
    }
    let digits = digits.trim_start_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    if scale > MAX_FRACTION_DIGITS as i64 {
        return Err(MoneyError(format!(
            "must have at most {MAX_FRACTION_DIGITS} fractional digits"
        )));
    }
    let integer_digits = (digits.len() as i64 - scale).max(0) as usize;
    if integer_digits > MAX_INTEGER_DIGITS {
        return Err(MoneyError(format!(
            "must have at most {MAX_INTEGER_DIGITS} integer digits"
        )));
    }
    let units: i128 = digits.parse().map_err(|_| bad())?;
    let d = Decimal::from_i128_with_scale(if negative { -units } else { units }, scale as u32);
    Ok(d)
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MoneyVisitor)
    }
}

struct MoneyVisitor;

impl<'de> Visitor<'de> for MoneyVisitor {
    type Value = Money;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a decimal amount as a string or a JSON number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
        v.parse().map_err(|e: MoneyError| E::custom(e.0))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, _v: f64) -> Result<Money, E> {
        // Only reached when the number's text is lost; never guess through f64.
        Err(E::custom("send the amount as a string, e.g. \"12.50\""))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Money, A::Error> {
        // serde_json's arbitrary_precision hands a number over as a one-entry map.
        match map.next_key::<String>()? {
            Some(k) if k == SERDE_JSON_NUMBER_TOKEN => {
                let text: String = map.next_value()?;
                self.visit_str(&text)
            }
            _ => Err(de::Error::custom(
                "expected a decimal amount as a string or a JSON number",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Money, MoneyError> {
        s.parse()
    }

    #[test]
    fn four_fractional_digits_are_kept_five_are_refused() {
        assert_eq!(parse("1.2345").unwrap().to_string(), "1.2345");
        assert!(parse("1.23456").is_err());
        // trailing zeros carry no precision
        assert_eq!(parse("1.234500").unwrap().to_string(), "1.2345");
    }

    #[test]
    fn fourteen_integer_digits_fit_fifteen_do_not() {
        assert_eq!(
            parse("99999999999999.9999").unwrap().to_string(),
            "99999999999999.9999"
        );
        assert!(parse("100000000000000").is_err());
        assert!(
            parse("000000000000001.5").is_ok(),
            "leading zeros are not digits"
        );
    }

    #[test]
    fn nan_infinity_and_junk_are_refused() {
        for s in [
            "NaN",
            "nan",
            "Infinity",
            "-Infinity",
            "inf",
            "",
            ".",
            "1.2.3",
            "1,5",
            " 1",
            "0x10",
            "1e",
            "--1",
        ] {
            assert!(parse(s).is_err(), "{s:?} should be refused");
        }
    }

    #[test]
    fn negative_amounts_are_refused_but_negative_zero_is_zero() {
        assert!(parse("-0.01").is_err());
        assert_eq!(parse("-0").unwrap(), Money::ZERO);
    }

    #[test]
    fn exponents_are_applied_exactly() {
        assert_eq!(parse("1.5e2").unwrap().to_string(), "150.00");
        assert_eq!(parse("125E-4").unwrap().to_string(), "0.0125");
        assert!(parse("1e-5").is_err());
        assert!(parse("1e14").is_err());
        assert!(parse("1e999999").is_err());
    }

    #[test]
    fn output_has_at_least_two_fractional_digits() {
        assert_eq!(parse("25").unwrap().to_string(), "25.00");
        assert_eq!(parse("0.5").unwrap().to_string(), "0.50");
        assert_eq!(parse("0.05").unwrap().to_string(), "0.05");
    }

    #[test]
    fn json_numbers_are_read_from_their_text_not_through_f64() {
        #[derive(Deserialize)]
        struct B {
            amount: Money,
        }
        // 0.1 + 0.2 style values and values past f64's 15-17 digit precision.
        let b: B = serde_json::from_str(r#"{"amount": 12345678901234.5678}"#).unwrap();
        assert_eq!(b.amount.to_string(), "12345678901234.5678");
        let b: B = serde_json::from_str(r#"{"amount": 0.3}"#).unwrap();
        assert_eq!(b.amount.to_string(), "0.30");
        let b: B = serde_json::from_str(r#"{"amount": "7.25"}"#).unwrap();
        assert_eq!(b.amount.to_string(), "7.25");
        let b: B = serde_json::from_str(r#"{"amount": 42}"#).unwrap();
        assert_eq!(b.amount.to_string(), "42.00");
        assert!(serde_json::from_str::<B>(r#"{"amount": 1.00001}"#).is_err());
        assert!(serde_json::from_str::<B>(r#"{"amount": true}"#).is_err());
        assert!(serde_json::from_str::<B>(r#"{"amount": "NaN"}"#).is_err());
    }

    #[test]
    fn serialises_as_a_string() {
        let m = parse("12.5").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"12.50\"");
    }
}
