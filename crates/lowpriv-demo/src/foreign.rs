//! The second, "foreign" origin: a stand-in for a partner site that counts
//! every visit and every visit that arrived carrying the Site's credentials.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state::Counters;

pub(crate) fn router(stats: Arc<Counters>) -> Router {
    Router::new().fallback(partner).with_state(stats)
}

async fn partner(State(stats): State<Arc<Counters>>, headers: HeaderMap) -> Response {
    Counters::bump(&stats.foreign_hits);
    let credentialed = [header::COOKIE, header::AUTHORIZATION]
        .iter()
        .any(|name| headers.contains_key(name))
        || headers.contains_key("x-api-token");
    if credentialed {
        Counters::bump(&stats.foreign_credentials);
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><html><head><title>Partner</title></head><body><p>partner site</p></body></html>",
    )
        .into_response()
}
