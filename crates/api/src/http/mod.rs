//! The HTTP layer: the router and its layers, extractors, auth, the one error mapping,
//! response views and the route handlers. Only this module knows HTTP.

pub mod auction_bodies;
pub mod auth;
pub mod cors;
pub mod error;
pub mod extract;
pub mod metrics;
mod observe;
pub mod openapi;
pub mod pagination;
pub mod routes;
mod shed;
pub mod state;
mod timeout;
pub mod views;

use std::time::Duration;

use axum::extract::Request;
use axum::http::HeaderName;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use cors::{cors_layer, CorsOrigins};
use error::ApiError;
use routes::{auctions, bidders, bids, console, events, health, notices};
use state::AppState;

/// The request-id header, taken from the client or made, and returned.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// HTTP-level options of the router.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Longest a request may run before `503 timeout`.
    pub request_timeout: Duration,
    /// CORS policy.
    pub cors: CorsOrigins,
    /// Most `/api` requests in flight before `503 overloaded`.
    pub max_inflight: usize,
    /// Deadlines and caps on connections.
    pub connections: crate::boot::connections::ConnectionLimits,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            cors: CorsOrigins::None,
            max_inflight: 1024,
            connections: Default::default(),
        }
    }
}

/// The whole application as one service: the routes inside, the layers around them.
pub trait App:
    tower::Service<
        Request,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> App for S where
    S: tower::Service<
            Request,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future: Send + 'static,
        > + Clone
        + Send
        + Sync
        + 'static
{
}

/// Builds the whole application: routes, then layers (outermost first): request id, span,
/// logs and metrics (one layer, [`observe`]), CORS, load shedding of the API, timeout;
/// compression (where bodies run long) on the routes. Bodies are limited where they are
/// read ([`extract::read_body`]).
///
/// The layers wrap the router rather than each route (`Router::layer`): per route, axum
/// clones the layered route for every request, boxed, and in a GET of one auction that
/// clone was gavel's largest cost of its own. What stays on the routes is cheap to clone
/// (the body limit and the document's extension were not: 8 % of a GET's instructions).
pub fn router(state: AppState, http: &HttpOptions) -> impl App {
    // Before any request: the metrics layers keep the handles they first look up.
    let _ = metrics::handle();
    let (routes, doc) = routes().split_for_parts();
    let templates = metrics::RouteTemplates::leak(doc.paths.paths.keys().map(String::as_str));
    routes::openapi::keep(&openapi::finish(doc));
    let routes = routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);

    ServiceBuilder::new()
        .layer(observe::ObserveLayer::new(templates))
        .option_layer(cors_layer(&http.cors))
        .layer(shed::ShedLayer::new(http.max_inflight))
        .layer(timeout::TimeoutLayer::new(http.request_timeout))
        .service(routes)
}

/// Every route, each registered together with its documentation (`routes!` takes both
/// from the handler's `#[utoipa::path]`), so none is served undocumented or documented
/// unserved. Add a route here, never on the `Router` that `router` makes of these.
fn routes() -> OpenApiRouter<AppState> {
    // No more layers on routes than these: each `layer` call wraps every route in one
    // more boxed service, which axum clones for each request. Compression only where
    // bodies run long (lists, documents, the console): for a single object it cost a GET
    // of one auction 6 % of its instructions, to spare a few hundred bytes.
    let lists = OpenApiRouter::new()
        .routes(routes!(bidders::create, bidders::list))
        .routes(routes!(auctions::create, auctions::list))
        .routes(routes!(notices::list))
        .routes(routes!(bids::list))
        .routes(routes!(bids::list_old_path))
        .layer(CompressionLayer::new());
    let api = OpenApiRouter::new()
        .routes(routes!(bidders::get_one, bidders::update))
        .routes(routes!(bidders::create_key))
        .routes(routes!(bidders::revoke_key))
        .routes(routes!(auctions::get))
        .routes(routes!(auctions::cancel))
        .routes(routes!(events::stream))
        .routes(routes!(bids::place))
        .merge(lists);
    let documents = OpenApiRouter::new()
        .routes(routes!(metrics::render))
        .routes(routes!(routes::openapi::document))
        .routes(routes!(console::page))
        .routes(routes!(console::script))
        .routes(routes!(console::module))
        .routes(routes!(console::style))
        .layer(CompressionLayer::new());
    let probes = OpenApiRouter::new()
        .routes(routes!(health::health))
        .routes(routes!(health::ready));
    OpenApiRouter::with_openapi(openapi::base())
        .merge(probes)
        .merge(documents)
        .merge(api)
}

/// The OpenAPI document of every route, exactly as `GET /openapi.json` serves it.
pub fn openapi_document() -> serde_json::Value {
    openapi::finish(routes().into_openapi())
}

/// Longest client `X-Request-Id` taken.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Whether a client's request id may be echoed and logged: 1..=128 visible ASCII
/// characters.
pub fn fit_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&id.len()) && id.iter().all(|b| (0x21..=0x7e).contains(b))
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn request_ids_fit_only_when_short_and_visible(id in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let fits = fit_request_id(&id);
            let rule = !id.is_empty() && id.len() <= MAX_REQUEST_ID_LEN && id.iter().all(|b| b.is_ascii_graphic());
            proptest::prop_assert_eq!(fits, rule);
        }
    }
}
