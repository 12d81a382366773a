//! How a route's list of errors becomes its OpenAPI responses: one per status, with the
//! codes, titles, extra members, headers and example bodies that `ApiError` renders.

use std::collections::BTreeMap;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde_json::Value;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder, Schema};
use utoipa::PartialSchema;

use super::{any_key, Replayed};
use crate::http::error::ApiError;
use crate::http::openapi::PROBLEM_JSON;

/// The members every problem document has; any other member is an error's extra.
const BASE_MEMBERS: [&str; 5] = ["type", "title", "status", "code", "detail"];

/// The `Idempotent-Replayed` header.
fn replayed_header() -> Header {
    HeaderBuilder::new()
        .schema(Replayed::schema())
        .description(Some(
            "Present (`true`) when this is the stored first answer to the same Idempotency-Key and body",
        ))
        .build()
}

/// The responses of `errors`, one per status, each listing its codes; those with a status
/// in `replayed` may be a replay.
pub(super) fn responses(
    errors: Vec<ApiError>,
    replayed: &[u16],
) -> BTreeMap<String, RefOr<Response>> {
    let shared = shared_responses();
    by_status(errors)
        .into_iter()
        .map(|(status, errors)| {
            let mut r = response(status, errors);
            if replayed.contains(&status) {
                r.headers
                    .insert("Idempotent-Replayed".into(), replayed_header());
            }
            let name = shared_name(status);
            let r = match shared.get(&name) {
                Some(s) if s == &r => Ref::new(format!("#/components/responses/{name}")).into(),
                _ => r.into(),
            };
            (status.to_string(), r)
        })
        .collect()
}

/// The responses that every route taking a key shares (`401`, `429`, `500`, `503`), kept
/// once under `components/responses` and referred to.
pub fn shared_responses() -> BTreeMap<String, Response> {
    by_status(any_key())
        .into_iter()
        .map(|(status, errors)| (shared_name(status), response(status, errors)))
        .collect()
}

/// `errors` grouped by their status, in status order.
fn by_status(errors: Vec<ApiError>) -> BTreeMap<u16, Vec<ApiError>> {
    let mut grouped: BTreeMap<u16, Vec<ApiError>> = BTreeMap::new();
    for e in errors {
        grouped.entry(e.status().as_u16()).or_default().push(e);
    }
    grouped
}

/// A shared response's name: its status's reason phrase (`TooManyRequests`).
fn shared_name(status: u16) -> String {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
        .replace(' ', "")
}

/// One status's response: its codes (each with its title and extra members), the headers
/// they carry, and an example body of each, as rendered by `ApiError`.
fn response(status: u16, errors: Vec<ApiError>) -> Response {
    let mut kinds: Vec<Kind> = Vec::new();
    let mut examples = Vec::new();
    let mut headers = BTreeMap::new();
    for e in errors {
        let body = e.problem_body();
        let kind = Kind::of(&body);
        let name = match kinds.iter().filter(|k| k.code == kind.code).count() {
            0 => kind.code.clone(),
            n => format!("{}_{}", kind.code, n + 1),
        };
        examples.push((
            name,
            ExampleBuilder::new()
                .summary(e.to_string())
                .value(Some(body))
                .build(),
        ));
        for name in e.into_response().headers().keys() {
            if name != header::CONTENT_TYPE {
                headers
                    .entry(header_name(name.as_str()))
                    .or_insert_with(|| error_header(name.as_str()).unwrap_or_default());
            }
        }
        if !kinds.iter().any(|k| k.code == kind.code) {
            kinds.push(kind);
        }
    }
    let description = kinds
        .iter()
        .map(Kind::describe)
        .collect::<Vec<_>>()
        .join("; ");
    let content = ContentBuilder::new()
        .schema(Some(narrowed(status, &kinds)))
        .examples_from_iter(examples)
        .build();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, content);
    for (name, h) in headers {
        response = response.header(name, h);
    }
    response.build()
}

/// A code as one status of a route answers it.
struct Kind {
    code: String,
    title: String,
    extras: Vec<String>,
}

impl Kind {
    fn of(body: &Value) -> Self {
        let text = |k: &str| body[k].as_str().unwrap_or_default().to_string();
        let extras = body
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys())
            .filter(|k| !BASE_MEMBERS.contains(&k.as_str()))
            .cloned()
            .collect();
        Kind {
            code: text("code"),
            title: text("title"),
            extras,
        }
    }

    fn describe(&self) -> String {
        if self.extras.is_empty() {
            format!("`{}`", self.code)
        } else {
            format!("`{}` (with `{}`)", self.code, self.extras.join("`, `"))
        }
    }

    /// This code's title and extra members.
    fn schema(&self) -> ObjectBuilder {
        let mut o = ObjectBuilder::new()
            .property("code", one_string(&self.code))
            .property("title", one_string(&self.title));
        for extra in &self.extras {
            o = o.required(extra);
        }
        o
    }
}

/// A string that is `value`.
fn one_string(value: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([value]))
}

/// `Problem`, narrowed to this response's status and codes.
fn narrowed(status: u16, kinds: &[Kind]) -> RefOr<Schema> {
    let status = ObjectBuilder::new().property(
        "status",
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .enum_values(Some([status])),
    );
    let codes: RefOr<Schema> = match kinds {
        [one] => one.schema().into(),
        many => many
            .iter()
            .fold(OneOfBuilder::new(), |o, k| o.item(k.schema()))
            .into(),
    };
    AllOfBuilder::new()
        .item(Ref::from_schema_name("Problem"))
        .item(status)
        .item(codes)
        .into()
}

/// A header's name as the contract writes it (`http` keeps names in lower case).
fn header_name(lower: &str) -> String {
    match lower {
        "retry-after" => "Retry-After".into(),
        "www-authenticate" => "WWW-Authenticate".into(),
        other => other.into(),
    }
}

/// The schema of a header an error response carries (a test checks each is known).
fn error_header(name: &str) -> Option<Header> {
    let header = match name {
        "retry-after" => HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            )
            .description(Some("Seconds to wait before retrying"))
            .build(),
        "www-authenticate" => HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["Bearer"])),
            )
            .description(Some("The scheme to authenticate with"))
            .build(),
        _ => return None,
    };
    Some(header)
}

#[cfg(test)]
mod tests {
    use super::super::every_error;
    use super::*;

    #[test]
    fn every_header_an_error_sends_is_described() {
        for e in every_error() {
            let code = e.code();
            for name in e.into_response().headers().keys() {
                if name != header::CONTENT_TYPE {
                    assert!(error_header(name.as_str()).is_some(), "{code}: {name}");
                }
            }
        }
    }
}
