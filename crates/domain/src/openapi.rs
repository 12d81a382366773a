//! OpenAPI schemas of the domain values the HTTP API shows or reads (feature `openapi`).
//!
//! Types whose serde form a derive describes derive `ToSchema` where they are defined;
//! the ones with hand-written serde (ids, money) get their schemas here, next to the
//! patterns that say what their parsers accept.

use std::borrow::Cow;

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::bid::BidAmount;
use crate::ids::{AuctionId, BidId, BidderId};
use crate::money::{Money, MAX_FRACTION_DIGITS, MAX_INTEGER_DIGITS};

/// An amount as responses write it: 1..=14 integer digits (no leading zero), then 2..=4
/// fractional digits (`Money`'s `Display`).
pub const AMOUNT_PATTERN: &str = r"^(0|[1-9][0-9]{0,13})\.[0-9]{2,4}$";

/// The syntax of an amount sent as a string, as `Money`'s parser reads it:
/// `[+-]digits[.digits][e[+-]digits]` (either side of the point may be empty, not both).
/// Its value must then fit `NUMERIC(18,4)`, which no pattern says.
pub const AMOUNT_TEXT_PATTERN: &str = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$";

/// The same, without a minus sign: a bid's amount is above zero, so `-` never passes.
pub const BID_AMOUNT_TEXT_PATTERN: &str = r"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$";

/// Amounts stay below 10^14 (an integer, so the bound is exact in JSON, unlike the largest
/// amount itself as an `f64`).
const AMOUNT_BOUND: isize = 100_000_000_000_000;

/// Where the digit limits are spelled out for readers of the document.
fn limits() -> String {
    format!("at most {MAX_INTEGER_DIGITS} integer and {MAX_FRACTION_DIGITS} fractional digits (NUMERIC(18,4)); more precision is refused, never rounded")
}

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(AMOUNT_PATTERN))
            .description(Some(
                "A decimal amount as a string, at least two fractional digits; compare as decimals, not as text",
            ))
            .examples(["12.50"])
            .into()
    }
}

impl ToSchema for Money {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Amount")
    }
}

/// A decimal sent as a string or a JSON number (read from its digits, never through `f64`).
fn amount_input(pattern: &str, number: ObjectBuilder, what: &str) -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern))
                .examples(["12.50"]),
        )
        .item(
            number
                .schema_type(Type::Number)
                .exclusive_maximum(Some(AMOUNT_BOUND)),
        )
        .description(Some(format!(
            "{what}: a decimal string or a JSON number (read from its digits, never through f64); {}",
            limits()
        )))
        .into()
}

/// The schema of an amount in a request body (`reserve_price`, `min_increment`): zero or more.
#[derive(Debug)]
pub struct AmountInput;

impl PartialSchema for AmountInput {
    fn schema() -> RefOr<Schema> {
        amount_input(
            AMOUNT_TEXT_PATTERN,
            ObjectBuilder::new().minimum(Some(0)),
            "An amount of zero or more",
        )
    }
}

impl ToSchema for AmountInput {}

impl PartialSchema for BidAmount {
    fn schema() -> RefOr<Schema> {
        amount_input(
            BID_AMOUNT_TEXT_PATTERN,
            ObjectBuilder::new().exclusive_minimum(Some(0)),
            "An amount above zero",
        )
    }
}

impl ToSchema for BidAmount {}

/// Ids are positive 64-bit integers.
macro_rules! id_schema {
    ($($name:ident: $what:literal),*) => {$(
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(1))
                    .description(Some($what))
                    .examples([7])
                    .into()
            }
        }

        impl ToSchema for $name {}
    )*};
}

id_schema!(
    AuctionId: "An auction's id",
    BidderId: "A bidder's id",
    BidId: "A bid's id; a later accepted bid has a higher one"
);
