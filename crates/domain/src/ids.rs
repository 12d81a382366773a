//! Typed ids, so an auction id can never be passed where a bidder id is meant.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a text is not an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be a positive integer written without sign or leading zeros")]
pub struct IdError;

/// Parses the canonical form of a positive 64-bit id: digits only, no sign, no leading zero.
fn parse_canonical(s: &str) -> Result<i64, IdError> {
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0');
    if !canonical {
        return Err(IdError);
    }
    s.parse::<i64>().map_err(|_| IdError)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a stored id; `None` unless it is positive.
            pub fn new(id: i64) -> Option<Self> {
                (id > 0).then_some(Self(id))
            }

            /// The number, for storage.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, IdError> {
                parse_canonical(s).and_then(|n| Self::new(n).ok_or(IdError))
            }
        }
    };
}

id_type!(
    /// An auction's id.
    AuctionId
);
id_type!(
    /// A bidder's id.
    BidderId
);
id_type!(
    /// A bid's id; a later accepted bid has a higher one.
    BidId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_canonical_form_parses() {
        assert_eq!("7".parse::<AuctionId>().map(AuctionId::get), Ok(7));
        for bad in [
            "",
            "0",
            "07",
            "+7",
            "-7",
            "7 ",
            "abc",
            "99999999999999999999",
        ] {
            assert!(bad.parse::<AuctionId>().is_err(), "{bad:?}");
        }
        assert_eq!(AuctionId::new(0), None);
    }
}
