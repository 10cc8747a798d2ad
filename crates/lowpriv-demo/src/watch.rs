//! The middleware in front of everything else on the Site: counts each request it receives
//! (the per-second peak a rate limit is checked against) and each credential it never gave
//! out, before any fault or handler can answer.
//!
//! A handler-layer module like `chaos`: the router puts it outermost, so a request the
//! faults refuse is still counted.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::gate::unknown_credentials;
use crate::state::SiteState;

pub(crate) async fn watch(State(site): State<SiteState>, request: Request, next: Next) -> Response {
    site.stats.count_request();
    let unknown = unknown_credentials(&site, request.headers());
    if unknown > 0 {
        site.stats
            .unknown_credentials
            .fetch_add(unknown, std::sync::atomic::Ordering::Relaxed);
    }
    next.run(request).await
}
