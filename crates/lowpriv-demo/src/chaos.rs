//! Seeded, deterministic fault injection (`lowpriv demo-site --chaos=KINDS --seed N`).
//!
//! Three families, because a client must behave differently in each:
//! - transient faults (5xx, resets, slow headers or bodies, 429, truncated bodies) hit a
//!   request once — the same request never fails twice — so a client that retries recovers;
//! - persistent faults (oversized bodies, gzip bombs, redirect loops) always hit the same
//!   fifth of the URLs, so a client must end inconclusive, naming them;
//! - harmless oddities (invalid UTF-8, deeply nested HTML) and crawler traps (an endless
//!   calendar, ever-new query strings) change nothing a correct client reports, except the
//!   trap pages themselves.
//!
//! `faults` is the middleware in front of every Site route: it applies `Faults` (latency,
//! the every-Nth knobs, session expiry) and the seeded kinds, each chosen from the seed, the
//! URL and the credentials alone. `calendar` is the one page it adds. The login form and
//! `/_demo/*` are never touched.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::stream;

use crate::config::Chaos;
use crate::gate::{cookie, login_html, team_html};
use crate::layout::{PageResult, page};
use crate::state::{SiteState, lock};

/// Requests a form-login session lasts under `session-expiry` (unless `--session-ttl` says).
const SESSION_EXPIRY_TTL: u32 = 12;

/// How long the slow faults stall: longer than the timeouts the tests use.
const STALL: Duration = Duration::from_secs(3);
/// A gzip bomb's decoded size, and an oversized body's size.
const BOMB_BYTES: usize = 64 * 1024 * 1024;
const OVERSIZED_BYTES: usize = 3 * 1024 * 1024;

fn hash_of(seed: u64, parts: &[&str]) -> u64 {
    // SipHash with fixed keys: the same seed selects the same requests on every run.
    let mut hasher = std::hash::DefaultHasher::new();
    seed.hash(&mut hasher);
    parts.hash(&mut hasher);
    hasher.finish()
}

fn credentials(headers: &HeaderMap) -> String {
    ["cookie", "authorization", "x-api-token"]
        .iter()
        .filter_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .collect::<Vec<_>>()
        .join(";")
}

/// The middleware in front of every Site route: applies `Faults` (latency, the every-Nth
/// knobs, session expiry) and then the seeded chaos kinds, before and after the handler.
pub(crate) async fn faults(
    State(site): State<SiteState>,
    request: Request,
    next: Next,
) -> Response {
    let faults = &site.faults;
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let path = request.uri().path();
    if path != "/login" && !path.starts_with("/_demo/") {
        let n = site
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        // In a block of its own: the closures borrow the request, which must not be held
        // across the awaits below.
        let knob_fault = {
            let due = |every: Option<u64>| every.is_some_and(|k| k > 0 && n % k == 0);
            let first_failure = || {
                let headers = request.headers();
                let credentials = [
                    header_text(headers, "cookie"),
                    header_text(headers, "authorization"),
                ];
                let key = format!("{} {}", request.uri(), credentials.join(";"));
                lock(&site.failed_once).insert(key)
            };
            if due(faults.unavailable_every) && first_failure() {
                Some((StatusCode::SERVICE_UNAVAILABLE, "try again").into_response())
            } else if due(faults.throttle_every) && first_failure() {
                Some(
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        [(header::RETRY_AFTER, "1")],
                        "slow down",
                    )
                        .into_response(),
                )
            } else {
                None
            }
        };
        if let Some(fault) = knob_fault {
            return fault;
        }
        let ttl = faults.session_ttl.or_else(|| {
            faults
                .chaos
                .contains(&Chaos::SessionExpiry)
                .then_some(SESSION_EXPIRY_TTL)
        });
        // A session is its cookie, or a JSON login's bearer token (the same id).
        let bearer = || {
            let value = request.headers().get(axum::http::header::AUTHORIZATION)?;
            let token = value
                .to_str()
                .ok()?
                .strip_prefix("Bearer ")?
                .trim()
                .to_string();
            lock(&site.sessions).contains_key(&token).then_some(token)
        };
        let session = cookie(request.headers(), "sid").or_else(bearer);
        if let (Some(ttl), Some(sid)) = (ttl, session) {
            let mut uses = lock(&site.session_uses);
            let used = uses.entry(sid.clone()).or_insert(0);
            *used += 1;
            if *used > ttl {
                lock(&site.sessions).remove(&sid);
            }
        }
        if !faults.chaos.is_empty() {
            let uri = request.uri().clone();
            if let Some(fault) = before(&site, &uri, request.headers()) {
                return fault;
            }
            let response = next.run(request).await;
            return after(&site, &uri, response).await;
        }
    }
    next.run(request).await
}

fn header_text(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The fault (if any) to inject into this request, before the handler runs.
fn before(site: &SiteState, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
    let faults = &site.faults;
    let target = uri.to_string();
    let path = uri.path();
    for &kind in &faults.chaos {
        let selected = if kind.is_transient() {
            // A quarter of the requests, once each (per URL and credentials).
            let key = format!("{target} {}", credentials(headers));
            hash_of(faults.seed, &[kind.as_str(), &key]).is_multiple_of(4)
                && lock(&site.failed_once).insert(format!("{} {key}", kind.as_str()))
        } else if kind.is_persistent() {
            // A fifth of the paths, always; never the proof of login, so the fault is what
            // the report names.
            path != "/api/me" && hash_of(faults.seed, &[kind.as_str(), path]).is_multiple_of(5)
        } else {
            false
        };
        if !selected {
            continue;
        }
        site.stats.bump_fault();
        return Some(match kind {
            Chaos::ServerError => {
                let status = [
                    StatusCode::BAD_GATEWAY,
                    StatusCode::SERVICE_UNAVAILABLE,
                    StatusCode::GATEWAY_TIMEOUT,
                ][(hash_of(faults.seed, &[&target]) % 3) as usize];
                (status, "upstream trouble").into_response()
            }
            Chaos::Throttle => (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "1")],
                "slow down",
            )
                .into_response(),
            Chaos::Reset => {
                let chunks: Vec<Result<Bytes, std::io::Error>> =
                    vec![Err(std::io::Error::other("connection reset by chaos"))];
                Response::new(Body::from_stream(stream::iter(chunks)))
            }
            Chaos::SlowHeaders => {
                let stall = async {
                    tokio::time::sleep(STALL).await;
                    Ok::<Bytes, std::io::Error>(Bytes::from_static(b"late"))
                };
                // The stall sits before the first byte of the body; hyper has sent nothing
                // useful yet, so the client waits on it like on slow headers.
                Response::new(Body::from_stream(stream::once(stall)))
            }
            Chaos::SlowBody => {
                let parts = stream::unfold(0u8, |step| async move {
                    match step {
                        0 => Some((
                            Ok::<Bytes, std::io::Error>(Bytes::from_static(b"<html><body>")),
                            1,
                        )),
                        1 => {
                            tokio::time::sleep(STALL).await;
                            Some((Ok(Bytes::from_static(b"</body></html>")), 2))
                        }
                        _ => None,
                    }
                });
                let mut response = Response::new(Body::from_stream(parts));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("text/html"),
                );
                response
            }
            Chaos::Truncated => {
                let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                    Ok(Bytes::from_static(b"{\"partial\": \"")),
                    Err(std::io::Error::other("truncated by chaos")),
                ];
                let mut response = Response::new(Body::from_stream(stream::iter(chunks)));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("application/json"),
                );
                response
            }
            Chaos::Oversized => {
                let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
                let chunks = std::iter::repeat_n(chunk, OVERSIZED_BYTES / (64 * 1024))
                    .map(Ok::<Bytes, std::io::Error>);
                let mut response = Response::new(Body::from_stream(stream::iter(chunks)));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("text/plain"),
                );
                response
            }
            Chaos::GzipBomb => gzip_bomb(),
            Chaos::RedirectLoop => {
                (StatusCode::FOUND, [(header::LOCATION, target.clone())]).into_response()
            }
            Chaos::InvalidUtf8
            | Chaos::DeepHtml
            | Chaos::Calendar
            | Chaos::QueryTrap
            | Chaos::SessionExpiry => continue,
        });
    }
    None
}

/// 64 MiB of zeros that travel as about 64 KiB of gzip (compressed once per process).
fn gzip_bomb() -> Response {
    static BOMB: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(compress_bomb);
    (
        [
            (header::CONTENT_TYPE, "text/html"),
            (header::CONTENT_ENCODING, "gzip"),
        ],
        BOMB.clone(),
    )
        .into_response()
}

fn compress_bomb() -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..BOMB_BYTES / zeros.len() {
        if encoder.write_all(&zeros).is_err() {
            break;
        }
    }
    encoder.finish().unwrap_or_default()
}

/// Rewrites an HTML answer for the harmless oddities and the traps.
async fn after(site: &SiteState, uri: &Uri, response: Response) -> Response {
    let faults = &site.faults;
    let rewriting = faults.chaos.iter().any(|k| {
        matches!(
            k,
            Chaos::InvalidUtf8 | Chaos::DeepHtml | Chaos::Calendar | Chaos::QueryTrap
        )
    });
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("html"));
    if !rewriting || !is_html || !response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "chaos could not read the page",
        )
            .into_response();
    };
    let mut html = bytes.to_vec();
    let mut extra = Vec::new();
    if faults.chaos.contains(&Chaos::Calendar) {
        extra.extend_from_slice(b"<nav><a href=\"/calendar/2026-01-01\">Calendar</a></nav>");
    }
    if faults.chaos.contains(&Chaos::QueryTrap) {
        // A new query string on every view: a crawler that does not cap a template never ends.
        let n = site
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let q = hash_of(faults.seed, &[&uri.to_string(), &n.to_string()]);
        extra.extend_from_slice(
            format!("<nav><a href=\"/search?q={q:x}\">Related</a></nav>").as_bytes(),
        );
    }
    if faults.chaos.contains(&Chaos::DeepHtml) {
        extra.extend(std::iter::repeat_n(b"<div>".as_slice(), 20_000).flatten());
    }
    if faults.chaos.contains(&Chaos::InvalidUtf8) {
        extra.extend_from_slice(b"<!-- \xff\xfe\xc3\x28 \x80 -->");
    }
    if !extra.is_empty() {
        site.stats.bump_fault();
    }
    html.extend_from_slice(&extra);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(html))
}

/// An endless calendar: every day links the next (the trap), behind the same gates as the
/// Site's other pages.
pub(crate) async fn calendar(
    State(site): State<SiteState>,
    headers: HeaderMap,
    uri: Uri,
    Path(date): Path<String>,
) -> PageResult {
    let viewer = login_html(&site, &headers, &uri)?;
    team_html(&site, viewer)?;
    let next = date
        .parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.tomorrow().ok())
        .map_or_else(|| "2026-01-01".to_string(), |d| d.to_string());
    let main = format!(
        "<h1>Calendar</h1><p>Nothing planned.</p><a href=\"/calendar/{next}\">Next day</a>"
    );
    Ok(page(&site, viewer, "Calendar", &main))
}
