//! Property tests of the parsers that read untrusted input: none panics, and where a value
//! can be printed, printing and parsing it again gives the same value.

use gavel_domain::webhook::{url_problem, Targets};
use gavel_domain::{AuctionId, BidAmount, Money};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn money_never_panics_and_round_trips(s in "\\PC{0,40}") {
        if let Ok(m) = s.parse::<Money>() {
            prop_assert_eq!(m.to_string().parse::<Money>(), Ok(m));
        }
    }

    #[test]
    fn money_shaped_text_round_trips(
        int in "[0-9]{1,16}",
        frac in proptest::option::of("[0-9]{0,6}"),
        exp in proptest::option::of(-8i32..8),
        sign in proptest::option::of(prop_oneof![Just("-"), Just("+")]),
    ) {
        let mut s = format!("{}{int}", sign.unwrap_or(""));
        if let Some(f) = frac { s = format!("{s}.{f}"); }
        if let Some(e) = exp { s = format!("{s}e{e}"); }
        match s.parse::<Money>() {
            Ok(m) => {
                prop_assert_eq!(m.to_string().parse::<Money>(), Ok(m));
                // A JSON number with the same text reads the same amount.
                if let Ok(from_json) = serde_json::from_str::<Money>(s.trim_start_matches('+')) {
                    prop_assert_eq!(from_json, m);
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn bid_amounts_from_any_json_never_panic(s in "\\PC{0,40}") {
        let _ = serde_json::from_str::<BidAmount>(&s);
        let _ = serde_json::from_str::<BidAmount>(&format!("{s:?}"));
    }

    #[test]
    fn ids_parse_only_their_canonical_form(s in "[-+0-9a-z ]{0,24}") {
        if let Ok(id) = s.parse::<AuctionId>() {
            prop_assert_eq!(id.to_string(), s);
        }
    }

    #[test]
    fn ids_print_and_parse_back(n in 1i64..=i64::MAX) {
        let id = AuctionId::new(n).unwrap();
        prop_assert_eq!(id.to_string().parse::<AuctionId>(), Ok(id));
    }

    #[test]
    fn webhook_urls_never_panic(s in "\\PC{0,80}", host in "[a-z0-9.:\\[\\]@-]{0,40}") {
        let _ = url_problem(&s, Targets::PublicOnly);
        let _ = url_problem(&format!("http://{host}/hook"), Targets::PublicOnly);
        let _ = url_problem(&format!("https://{host}"), Targets::AllowPrivate);
    }
}
