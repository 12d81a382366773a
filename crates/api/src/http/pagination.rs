//! Cursor pagination: `?limit=1..=500` (default 50) and an opaque `?cursor=`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt::Display;
use std::str::FromStr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::{Ref, RefOr, Schema};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::http::error::ApiError;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size.
pub const MAX_LIMIT: i64 = 500;

/// A checked page request over items with ids of type `Id`.
#[derive(Debug, Clone, Copy)]
pub struct Page<Id> {
    /// Items wanted.
    pub limit: i64,
    /// Only items with ids below this one.
    pub before: Option<Id>,
}

impl<Id: FromStr> Page<Id> {
    /// Checks `limit` and decodes `cursor`.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let before = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(decode_cursor(c).ok_or_else(|| {
                ApiError::field("cursor", "is not a cursor returned by this API")
            })?),
        };
        Ok(Page { limit, before })
    }

    /// How many rows to fetch: one more than asked, to know whether a next page exists.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }
}

fn decode_cursor<Id: FromStr>(c: &str) -> Option<Id> {
    let raw = URL_SAFE_NO_PAD.decode(c).ok()?;
    let text = std::str::from_utf8(&raw).ok()?;
    text.strip_prefix("v1:")?.parse().ok()
}

fn encode_cursor(id: impl Display) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{id}"))
}

/// A page of a list, as the contract shapes it.
#[derive(Debug, Serialize)]
pub struct Paged<T> {
    /// This page.
    pub items: Vec<T>,
    /// Cursor of the next page, `null` on the last.
    pub next_cursor: Option<String>,
}

// Written out rather than derived: utoipa 5 inlines a generic field's whole schema into
// every page type instead of referring to it.
impl<T: ToSchema> PartialSchema for Paged<T> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some(format!("A page of {}s, newest first", T::name())))
            .property(
                "items",
                ArrayBuilder::new().items(Ref::from_schema_name(T::name())),
            )
            .property(
                "next_cursor",
                ObjectBuilder::new()
                    .schema_type([Type::String, Type::Null].into_iter().collect::<utoipa::openapi::schema::SchemaType>())
                    .description(Some(
                        "Opaque cursor of the next page (pass it back as `?cursor=`), null on the last",
                    )),
            )
            .required("items")
            .required("next_cursor")
            .into()
    }
}

impl<T: ToSchema> ToSchema for Paged<T> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("{}Page", T::name()))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((T::name().into_owned(), T::schema()));
        T::schemas(schemas);
    }
}

impl<T> Paged<T> {
    /// Builds a page from `limit + 1` fetched rows (newest first) and their ids.
    pub fn from_rows<R, Id: Display>(
        page: Page<Id>,
        mut rows: Vec<R>,
        id: impl Fn(&R) -> Id,
        view: impl FnMut(R) -> T,
    ) -> Self {
        let more = rows.len() as i64 > page.limit;
        rows.truncate(page.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| encode_cursor(id(r)))
        } else {
            None
        };
        Paged {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}

/// The query string of every list route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size.
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub limit: Option<i64>,
    /// Opaque cursor: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use gavel_domain::AuctionId;

    use super::*;

    #[test]
    fn cursor_round_trip_and_garbage() {
        let id = |n| AuctionId::new(n).unwrap();
        assert_eq!(decode_cursor(&encode_cursor(id(42))), Some(id(42)));
        assert_eq!(decode_cursor::<AuctionId>("nope"), None);
        assert_eq!(
            decode_cursor::<AuctionId>(&URL_SAFE_NO_PAD.encode("v1:-3")),
            None
        );
        assert!(Page::<AuctionId>::parse(Some(0), None).is_err());
        assert!(Page::<AuctionId>::parse(Some(501), None).is_err());
        assert_eq!(Page::<AuctionId>::parse(None, None).unwrap().limit, 50);
    }

    proptest::proptest! {
        #[test]
        fn cursors_never_panic_and_round_trip(s in "\\PC{0,40}", n in 1i64..=i64::MAX) {
            let _ = decode_cursor::<AuctionId>(&s);
            let _ = Page::<AuctionId>::parse(Some(10), Some(&s));
            let id = AuctionId::new(n).unwrap();
            proptest::prop_assert_eq!(decode_cursor(&encode_cursor(id)), Some(id));
        }
    }
}
