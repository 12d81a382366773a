//! Extractors that turn every kind of bad input into the contract's problem codes.

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{header, request::Parts};
use serde::de::DeserializeOwned;

use crate::http::error::ApiError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body: `415` without a JSON content type, `413` past 64 KiB, `400` when it is
/// not JSON, `422` (naming the field) when it is JSON of the wrong shape.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse_json(&read_body(req).await?).map(JsonBody)
    }
}

/// A body of any kind, at most 64 KiB (`413` past that).
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        read_body(req).await.map(RawBody)
    }
}

/// Reads a request's body, at most [`MAX_BODY_BYTES`] of it. The limit is applied here,
/// where bodies are read, rather than by axum's `DefaultBodyLimit` layer, which every
/// route paid for on every request, bodies or not.
pub async fn read_body(req: Request) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|e| {
            if e.into_inner().is::<http_body_util::LengthLimitError>() {
                ApiError::PayloadTooLarge
            } else {
                ApiError::MalformedJson("could not read the request body".into())
            }
        })
}

/// The `Last-Event-ID` a reconnecting event stream sends: the sequence of the last event
/// it had (absent: none). Anything but a sequence this server gave out is `422`.
#[derive(Debug, Clone, Copy)]
pub struct LastEventId(pub Option<u64>);

/// The header, spelled as browsers send it.
pub const LAST_EVENT_ID: header::HeaderName = header::HeaderName::from_static("last-event-id");

impl<S: Send + Sync> FromRequestParts<S> for LastEventId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(LAST_EVENT_ID) else {
            return Ok(LastEventId(None));
        };
        value
            .to_str()
            .ok()
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse().ok())
            .map(|n| LastEventId(Some(n)))
            .ok_or_else(|| {
                ApiError::field("Last-Event-ID", "must be the id of an event of this stream")
            })
    }
}

/// Parses a JSON object with the exact path of any field that does not fit; a body that
/// is JSON but not an object (an array, a number…) is `422`, as the contract says.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
    {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Data => field_error(&path, &message),
            _ => ApiError::MalformedJson(format!("body is not valid JSON: {message}")),
        }
    })?;
    de.end()
        .map_err(|_| ApiError::MalformedJson("trailing characters after the JSON body".into()))?;
    Ok(value)
}

/// A deserializer's complaint about `path`, in the contract's words rather than Rust's.
fn field_error(path: &str, message: &str) -> ApiError {
    if let Some(rest) = message.strip_prefix("missing field `") {
        let missing = rest.trim_end_matches('`');
        let field = if path == "." {
            missing.to_string()
        } else {
            format!("{path}.{missing}")
        };
        return ApiError::field(&field, "is required");
    }
    let field = if path == "." { "body" } else { path };
    ApiError::field(field, plain_words(message))
}

/// Says what a value must be, instead of naming Rust types (`expected i64`, `expected
/// struct PlaceBid`); messages the rules wrote themselves pass through.
fn plain_words(message: &str) -> String {
    let expected = message.rsplit_once("expected ").map(|(_, e)| e);
    match expected {
        Some(e) if ["i64", "i32", "u64", "u32", "usize", "i16", "u16"].contains(&e) => {
            "must be an integer".into()
        }
        Some(e) if e.starts_with("struct ") || e.starts_with("a map") => {
            "must be a JSON object".into()
        }
        Some("a string") => "must be a string".into(),
        Some("a boolean") => "must be true or false".into(),
        Some(_) if message.starts_with("invalid type: null") => "must not be null".into(),
        _ if message.contains("invalid digit") || message.contains("number too large") => {
            "must be an integer".into()
        }
        _ if message.starts_with("input contains invalid characters")
            || message.starts_with("premature end of input")
            || message.starts_with("trailing input") =>
        {
            "must be an RFC 3339 time such as \"2026-11-22T10:00:00Z\"".into()
        }
        _ => message.to_string(),
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn is_json(ct: Option<&header::HeaderValue>) -> bool {
    let Some(ct) = ct.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Query string parameters; a bad one is `422 validation_failed` naming the parameter.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(QueryParams)
            .map_err(|e| {
                let path = e.path().to_string();
                field_error(&path, &e.into_inner().to_string())
            })
    }
}

/// An auction id from the path, in its canonical form only (`7`, not `+7`, `07` or `abc`);
/// anything else names no auction: `404 auction_not_found`, as for an unknown id.
#[derive(Debug, Clone, Copy)]
pub struct PathId<T>(pub T);

impl<S, T> FromRequestParts<S> for PathId<T>
where
    S: Send + Sync,
    T: FromStr,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::AuctionNotFound)?;
        raw.parse()
            .map(PathId)
            .map_err(|_| ApiError::AuctionNotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct B {
        auction_id: i64,
        amount: gavel_domain::Money,
    }

    #[test]
    fn shape_errors_name_the_field() {
        match parse_json::<B>(br#"{"auction_id": 1, "amount": "1.23456"}"#) {
            Err(ApiError::Validation(v)) => {
                assert_eq!(v[0].field, "amount");
                assert!(!v[0].message.contains("line"), "{}", v[0].message);
            }
            other => panic!("{other:?}"),
        }
        match parse_json::<B>(br#"{"auction_id": "x", "amount": "1"}"#) {
            Err(ApiError::Validation(v)) => assert_eq!(v[0].field, "auction_id"),
            other => panic!("{other:?}"),
        }
        match parse_json::<B>(br#"[11, "2000"]"#) {
            Err(ApiError::Validation(v)) => {
                assert_eq!(
                    (v[0].field.as_str(), v[0].message.as_str()),
                    ("body", "must be a JSON object")
                )
            }
            other => panic!("{other:?}"),
        }
        match parse_json::<B>(br#"{"auction_id": "x", "amount": "1"}"#) {
            Err(ApiError::Validation(v)) => assert_eq!(v[0].message, "must be an integer"),
            other => panic!("{other:?}"),
        }
        match parse_json::<B>(br#"{"amount": "1"}"#) {
            Err(ApiError::Validation(v)) => {
                assert_eq!(
                    (v[0].field.as_str(), v[0].message.as_str()),
                    ("auction_id", "is required")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn syntax_errors_are_malformed() {
        for body in [
            &b"{"[..],
            b"",
            b"not json",
            br#"{"auction_id": 1, "amount": "1"} x"#,
        ] {
            assert!(
                matches!(parse_json::<B>(body), Err(ApiError::MalformedJson(_))),
                "{body:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_body_is_an_answer_not_a_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200), text in "\\PC{0,80}") {
            for body in [bytes.as_slice(), text.as_bytes()] {
                match parse_json::<B>(body) {
                    Ok(_) | Err(ApiError::MalformedJson(_)) | Err(ApiError::Validation(_)) => {}
                    Err(other) => proptest::prop_assert!(false, "{other:?}"),
                }
            }
        }
    }

    #[test]
    fn json_content_types() {
        let v = |s: &'static str| header::HeaderValue::from_static(s);
        assert!(is_json(Some(&v("application/json"))));
        assert!(is_json(Some(&v("application/json; charset=utf-8"))));
        assert!(is_json(Some(&v("application/merge-patch+json"))));
        assert!(!is_json(Some(&v("text/plain"))));
        assert!(!is_json(None));
    }
}
