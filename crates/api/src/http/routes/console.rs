//! `GET /admin`: the admin console, a single page compiled into the binary (files in
//! `crates/api/console/`). It is a client of the JSON API like any other: the page holds no
//! secret and gets no privilege; the admin token typed into it stays in the tab.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Only the page's own files and the same-origin API; nothing inline, nothing framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// One embedded file.
struct Asset {
    body: &'static str,
    content_type: &'static str,
    etag: OnceLock<HeaderValue>,
}

impl Asset {
    const fn new(body: &'static str, content_type: &'static str) -> Self {
        Self {
            body,
            content_type,
            etag: OnceLock::new(),
        }
    }

    /// A strong ETag of the content, made once.
    fn etag(&self) -> &HeaderValue {
        self.etag.get_or_init(|| {
            let digest = Sha256::digest(self.body.as_bytes());
            let tag = format!("\"{}\"", hex::encode(&digest[..16]));
            HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"0\""))
        })
    }

    /// The file, or `304` when the client's copy is current. Browsers revalidate on every
    /// load (`no-cache`), so a new binary's console is picked up at once.
    fn serve(&self, request: &HeaderMap) -> Response {
        let etag = self.etag().clone();
        let current = request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|tags| {
                tags.split(',')
                    .any(|t| t.trim() == "*" || t.trim().as_bytes() == etag.as_bytes())
            });
        let mut resp = if current {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(self.content_type),
                )],
                self.body,
            )
                .into_response()
        };
        let h = resp.headers_mut();
        h.insert(header::ETAG, etag);
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        h.insert(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        );
        resp
    }
}

static INDEX: Asset = Asset::new(
    include_str!("../../../console/index.html"),
    "text/html; charset=utf-8",
);
static SCRIPT: Asset = Asset::new(
    include_str!("../../../console/app.js"),
    "text/javascript; charset=utf-8",
);
static STYLE: Asset = Asset::new(
    include_str!("../../../console/app.css"),
    "text/css; charset=utf-8",
);

/// One module of `console/js/`, embedded.
macro_rules! module {
    ($name:literal) => {
        Asset::new(
            include_str!(concat!("../../../console/js/", $name)),
            "text/javascript; charset=utf-8",
        )
    };
}

/// The console's ES modules (`console/js/`), by file name: the only names served under
/// `/admin/js/`.
static MODULES: [(&str, Asset); 25] = [
    ("api.js", module!("api.js")),
    ("auctions.js", module!("auctions.js")),
    ("auth.js", module!("auth.js")),
    ("bidder-names.js", module!("bidder-names.js")),
    ("bidder-page.js", module!("bidder-page.js")),
    ("bidders.js", module!("bidders.js")),
    ("cancel.js", module!("cancel.js")),
    ("chart.js", module!("chart.js")),
    ("confirm.js", module!("confirm.js")),
    ("constants.js", module!("constants.js")),
    ("create-auction.js", module!("create-auction.js")),
    ("decimal.js", module!("decimal.js")),
    ("dom.js", module!("dom.js")),
    ("event-stream.js", module!("event-stream.js")),
    ("forms.js", module!("forms.js")),
    ("hash.js", module!("hash.js")),
    ("ladder.js", module!("ladder.js")),
    ("live-details.js", module!("live-details.js")),
    ("live-model.js", module!("live-model.js")),
    ("live-view.js", module!("live-view.js")),
    ("notices.js", module!("notices.js")),
    ("problems.js", module!("problems.js")),
    ("signin.js", module!("signin.js")),
    ("time.js", module!("time.js")),
    ("widgets.js", module!("widgets.js")),
];

/// `GET /admin` (anyone; the admin token is needed to use it).
#[utoipa::path(
    get,
    path = "/admin",
    tag = "console",
    operation_id = "adminConsole",
    summary = "The admin console (a web page; the admin token is needed to use it)",
    description = "A single page embedded in the binary that uses this API with the admin token the user types in (kept in the browser tab only). Served with a strong `ETag` (`If-None-Match` answers 304) and a strict `Content-Security-Policy`.",
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 304, description = "The copy the client has is current"),
    )
)]
pub async fn page(headers: HeaderMap) -> Response {
    INDEX.serve(&headers)
}

/// `GET /admin/app.js`.
#[utoipa::path(
    get,
    path = "/admin/app.js",
    tag = "console",
    operation_id = "adminConsoleScript",
    summary = "The admin console's script",
    responses(
        (status = 200, description = "An ES module", content_type = "text/javascript", body = String),
        (status = 304, description = "The copy the client has is current"),
    )
)]
pub async fn script(headers: HeaderMap) -> Response {
    SCRIPT.serve(&headers)
}

/// `GET /admin/app.css`.
#[utoipa::path(
    get,
    path = "/admin/app.css",
    tag = "console",
    operation_id = "adminConsoleStyle",
    summary = "The admin console's style sheet",
    responses(
        (status = 200, description = "CSS", content_type = "text/css", body = String),
        (status = 304, description = "The copy the client has is current"),
    )
)]
pub async fn style(headers: HeaderMap) -> Response {
    STYLE.serve(&headers)
}

/// `GET /admin/js/{module}`: one of the console's ES modules.
#[utoipa::path(
    get,
    path = "/admin/js/{module}",
    tag = "console",
    operation_id = "adminConsoleModule",
    summary = "One of the admin console's script modules",
    params(("module" = String, Path, description = "The module's file name, e.g. `api.js`")),
    responses(
        (status = 200, description = "An ES module", content_type = "text/javascript", body = String),
        (status = 304, description = "The copy the client has is current"),
        crate::http::openapi::problems::ConsoleModuleErrors,
    )
)]
pub async fn module(Path(module): Path<String>, headers: HeaderMap) -> Response {
    match MODULES.iter().find(|(name, _)| *name == module) {
        Some((_, asset)) => asset.serve(&headers),
        None => crate::http::error::ApiError::NotFound.into_response(),
    }
}
