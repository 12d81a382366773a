//! Request ids for requests that bring none.

use axum::http::{HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};

/// A UUID v4 from the thread's random generator: tower-http's `MakeRequestUuid` asked the
/// kernel for fresh randomness on every request (a system call each; a request id needs
/// to be unique, not secret).
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let mut buf = uuid::Uuid::encode_buffer();
        HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf))
            .ok()
            .map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuid_v4_and_differ() {
        let req = Request::new(());
        let a = MakeId.make_request_id(&req).unwrap();
        let b = MakeId.make_request_id(&req).unwrap();
        let a = uuid::Uuid::parse_str(a.header_value().to_str().unwrap()).unwrap();
        let b = uuid::Uuid::parse_str(b.header_value().to_str().unwrap()).unwrap();
        assert_eq!(a.get_version_num(), 4);
        assert_ne!(a, b);
    }
}
