//! Unlinked routes that misbehave on purpose, for the scanner's robustness
//! tests: loops, huge and binary bodies, broken markup, aborted connections,
//! stalls and server errors.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::stream;

use crate::layout::redirect_found;
use crate::state::SiteState;

const HUGE_BYTES: usize = 50 * 1024 * 1024;
const HUGE_CHUNK: usize = 64 * 1024;

pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/_bad/redirect-loop", get(redirect_loop))
        .route("/_bad/huge", get(huge))
        .route("/_bad/gigabyte", get(gigabyte))
        .route("/_bad/binary", get(binary))
        .route("/_bad/broken-html", get(broken_html))
        .route("/_bad/hangup", get(reset))
        .route("/_bad/slow", get(slow))
        .route("/_bad/500", get(server_error))
}

fn html(body: Body) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn redirect_loop() -> Response {
    redirect_found("/_bad/redirect-loop")
}

/// Streamed, so serving it costs one chunk of memory rather than 50 MB.
async fn huge() -> Response {
    let chunk = Bytes::from({
        let mut filler = b"<p>".to_vec();
        filler.resize(HUGE_CHUNK - 5, b'x');
        filler.extend_from_slice(b"</p>\n");
        filler
    });
    let chunks = HUGE_BYTES / HUGE_CHUNK;
    let body = stream::iter((0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    html(Body::from_stream(body))
}

/// 1 GiB, streamed lazily: the Site holds one chunk, so does a well-behaved client.
async fn gigabyte() -> Response {
    let chunk = Bytes::from(vec![b'x'; HUGE_CHUNK]);
    let chunks = (1usize << 30) / HUGE_CHUNK;
    let body = stream::iter((0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    html(Body::from_stream(body))
}

async fn binary() -> Response {
    let bytes: Vec<u8> = [0xff, 0xfe, 0xfd, 0x00, 0xc3, 0x28, 0x80, 0xbf]
        .iter()
        .copied()
        .cycle()
        .take(4096)
        .collect();
    html(Body::from(bytes))
}

async fn broken_html() -> Response {
    html(Body::from(
        "<html><head><title>Broken <<< page</title><body>\n\
         <div><p>Unclosed <b>bold <i>italic\n\
         < stray angle and 3 < 4 > 2\n\
         <table><tr><td>cell<td>cell\n\
         <a href=\"/healthz\">status</a\n\
         <div class=\"unterminated\n\
         <p>trailing",
    ))
}

/// Headers and part of the body go out, then the stream fails, so hyper
/// aborts the connection mid-body.
async fn reset() -> Response {
    let parts = stream::unfold(0u8, |step| async move {
        match step {
            0 => Some((Ok(Bytes::from_static(b"<html><body><p>partial content")), 1)),
            1 => {
                // Let the first bytes reach the client before the abort.
                tokio::time::sleep(Duration::from_millis(50)).await;
                Some((Err(std::io::Error::other("connection reset by demo")), 2))
            }
            _ => None,
        }
    });
    html(Body::from_stream(parts))
}

async fn slow() -> Response {
    tokio::time::sleep(Duration::from_secs(30)).await;
    html(Body::from("<p>finally</p>"))
}

async fn server_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<h1>Internal Server Error</h1>",
    )
        .into_response()
}

/// A login form whose action is the foreign origin: a scanner must refuse to post credentials
/// there.
pub(crate) async fn foreign_login(
    axum::extract::State(site): axum::extract::State<SiteState>,
) -> Response {
    let action = site
        .foreign_url
        .join("login")
        .map(|u| u.to_string())
        .unwrap_or_default();
    html(Body::from(format!(
        "<!doctype html><html><body><main><form method=\"post\" action=\"{action}\">\
         <input name=\"username\"><input type=\"password\" name=\"password\">\
         <button>Sign in</button></form></main></body></html>"
    )))
}
