//! Extractors that turn every kind of bad input into the contract's problem codes.

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::{header, request::Parts, StatusCode};
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

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::MalformedJson("could not read the request body".into())
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON with the exact path of any field that does not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = match message.strip_prefix("missing field `") {
                    Some(rest) if path == "." => rest.trim_end_matches('`').to_string(),
                    _ if path == "." => "body".to_string(),
                    _ => path,
                };
                ApiError::field(&field, message)
            }
            _ => ApiError::MalformedJson(format!("body is not valid JSON: {message}")),
        }
    })?;
    de.end()
        .map_err(|_| ApiError::MalformedJson("trailing characters after the JSON body".into()))?;
    Ok(value)
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

/// Query string parameters; a bad one is `422 validation_failed`.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| QueryParams(v))
            .map_err(|e| ApiError::field("query", e.body_text()))
    }
}

/// A typed id from the path, in its canonical form only (`7`, not `+7` or `07`);
/// anything else is `404`.
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
            .map_err(|_| ApiError::NotFound)?;
        raw.parse().map(PathId).map_err(|_| ApiError::NotFound)
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
        assert!(matches!(
            parse_json::<B>(br#"[1]"#),
            Err(ApiError::Validation(_))
        ));
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
