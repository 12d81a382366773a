//! Cross-origin access: the policy as configured, and the layer that applies it.

use axum::http::{header, HeaderName, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::REQUEST_ID;
use crate::boot::settings::ConfigError;

/// CORS policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No cross-origin access.
    None,
    /// Any origin (`*`).
    Any,
    /// These origins only.
    List(Vec<String>),
}

impl CorsOrigins {
    /// Reads `GAVEL_CORS_ORIGINS`: empty, `*`, or comma-separated http(s) origins.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(CorsOrigins::None);
        }
        if raw == "*" {
            return Ok(CorsOrigins::Any);
        }
        let bad = |o: &str| ConfigError(format!("GAVEL_CORS_ORIGINS has an invalid origin: {o}"));
        let mut origins = Vec::new();
        for o in raw.split(',').map(str::trim).filter(|o| !o.is_empty()) {
            let parsed = url::Url::parse(o).map_err(|_| bad(o))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(bad(o));
            }
            origins.push(o.trim_end_matches('/').to_string());
        }
        Ok(CorsOrigins::List(origins))
    }
}

/// The layer for a policy; none without cross-origin access (an empty layer still costs
/// every request a copy of its configuration).
pub fn cors_layer(cors: &CorsOrigins) -> Option<CorsLayer> {
    let base = || {
        CorsLayer::new()
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
                REQUEST_ID,
            ])
            .expose_headers([header::LOCATION, REQUEST_ID, header::RETRY_AFTER])
    };
    match cors {
        CorsOrigins::None => None,
        CorsOrigins::Any => Some(CorsLayer::permissive()),
        CorsOrigins::List(origins) => Some(base().allow_origin(AllowOrigin::list(
            origins.iter().filter_map(|o| o.parse().ok()),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_forms() {
        assert_eq!(CorsOrigins::parse("").unwrap(), CorsOrigins::None);
        assert_eq!(CorsOrigins::parse("*").unwrap(), CorsOrigins::Any);
        assert_eq!(
            CorsOrigins::parse("https://a.example, http://b.example:8080/").unwrap(),
            CorsOrigins::List(vec![
                "https://a.example".into(),
                "http://b.example:8080".into()
            ])
        );
        assert!(CorsOrigins::parse("not a url").is_err());
    }
}
