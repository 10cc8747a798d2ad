//! Sending: the HTTP client, one GET, login POST or empty-bodied write probe with its retries,
//! redirects followed by hand and bodies read up to a limit.
//!
//! Input: a [`Session`] (its client, credentials and [`SiteContext`](super::SiteContext)) and
//! a URL. Output: a [`Response`] after same-origin redirects, or a [`FetchError`]. Invariants:
//! nothing is sent off the Site's origin, on any hop; a redirect to the login page or off the
//! origin is reported, not followed; a body never grows past `max_body_bytes`; only GET and
//! HEAD (and GraphQL queries) are retried; every wait ends when the run's stop signal trips.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use reqwest_cookie_store::CookieStoreMutex;
use url::Url;

use super::{FetchError, Response, Session, SiteContext};

/// Redirect hops followed before calling it a loop.
const MAX_REDIRECTS: usize = 10;
/// Retries of a GET after a timeout, a broken connection, 429, 502, 503 or 504.
pub const MAX_RETRIES: u32 = 2;
/// A `Retry-After` longer than this is not waited for: the answer stays an error.
const MAX_RETRY_AFTER_SECS: u64 = 30;

/// One TLS configuration for every client of the process. Building one reads and parses the
/// platform's root certificates: a fleet of Sites with five identities each built hundreds,
/// and they were most of its memory. `None` (no usable platform roots): each client builds
/// its own, as reqwest does by default, and reports the problem itself.
fn shared_tls() -> Option<rustls::ClientConfig> {
    static TLS: std::sync::OnceLock<Option<rustls::ClientConfig>> = std::sync::OnceLock::new();
    TLS.get_or_init(|| {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new(provider.clone()).ok()?;
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .ok()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        // reqwest offers HTTP/1.1 only (its http2 feature is off), as it would set itself.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Some(config)
    })
    .clone()
}

/// The one client a session sends with: its cookie jar, no automatic redirects (they are
/// followed by hand, so that every hop's origin is checked), and the Site's timeout.
pub(super) fn client(
    site: &SiteContext,
    jar: Arc<CookieStoreMutex>,
) -> Result<reqwest::Client, reqwest::Error> {
    let builder = match shared_tls() {
        Some(tls) => reqwest::Client::builder().tls_backend_preconfigured(tls),
        None => reqwest::Client::builder(),
    };
    builder
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(site.timeout)
        .connect_timeout(site.timeout)
        .user_agent(concat!("lowpriv/", env!("CARGO_PKG_VERSION")))
        // Bodies are decoded here (gunzip.rs), counted decoded against max_body_bytes.
        .default_headers(reqwest::header::HeaderMap::from_iter([(
            reqwest::header::ACCEPT_ENCODING,
            reqwest::header::HeaderValue::from_static("gzip"),
        )]))
        .build()
}

/// A client without cookies or redirects, for a login's token endpoint and its discovery
/// document: nothing of a session rides along to another origin.
pub(super) fn plain_client(
    timeout: std::time::Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    let builder = match shared_tls() {
        Some(tls) => reqwest::Client::builder().tls_backend_preconfigured(tls),
        None => reqwest::Client::builder(),
    };
    builder
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("lowpriv/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A request body: a login's, or a write probe's empty one (the only bodies lowpriv sends).
#[derive(Clone)]
pub(crate) struct Body {
    pub text: String,
    /// `None` sends no `Content-Type` (an empty probe body of an action of unknown kind).
    pub content_type: Option<&'static str>,
    /// Safe to send again after a transient failure: a GraphQL query lowpriv wrote (read-only
    /// by the protocol's own rule), never a login or a write probe.
    pub retryable: bool,
}

impl Body {
    pub fn form(text: String) -> Body {
        Body {
            text,
            content_type: Some("application/x-www-form-urlencoded"),
            retryable: false,
        }
    }

    pub fn json(text: String) -> Body {
        Body {
            text,
            content_type: Some("application/json"),
            retryable: false,
        }
    }

    /// A GraphQL query document as JSON: retried like a GET (a throttled or briefly
    /// unavailable endpoint must not cost the matrix a cell).
    pub fn graphql_query(text: String) -> Body {
        Body {
            retryable: true,
            ..Body::json(text)
        }
    }

    /// Zero bytes, sent with `Content-Length: 0`.
    pub fn empty(content_type: Option<&'static str>) -> Body {
        Body {
            text: String::new(),
            content_type,
            retryable: false,
        }
    }
}

impl Session {
    /// GET `url`, following same-origin redirects by hand.
    pub async fn get(&self, url: &Url) -> Result<Response, FetchError> {
        self.send(Method::GET, url, None).await
    }

    /// POSTs one GraphQL document (`{"query": ...}`) to the scenario's `[crawl] graphql`
    /// endpoint, the only place it can go: the URL is the Site's, never the caller's, so the
    /// opt-in alone decides where these POSTs land. Within the rate limit and the stop like
    /// every request; retried after transient failures, and after a re-login when a refusal
    /// was a lost session, as a GET is (a query reads only); a redirect off the origin is not
    /// followed.
    /// Only the GraphQL stage calls it, with documents it wrote itself (queries only).
    pub async fn post_graphql(&self, document: &str) -> Result<Response, FetchError> {
        let Some(url) = self.site.graphql.clone() else {
            return Err(FetchError::NotAllowed {
                what: "a GraphQL POST without `[crawl] graphql`",
            });
        };
        let body = Body::graphql_query(serde_json::json!({ "query": document }).to_string());
        // A refusal may be a session that quietly expired: proven, or logged in again and
        // asked again, exactly as a GET of the crawl.
        self.fetch_with(|| self.send(Method::POST, &url, Some(body.clone())))
            .await
    }

    /// Sends one request; a POST body is only ever sent on the first hop (a 303 turns it into
    /// GET). GETs are retried after transient failures; POSTs never are.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &Url,
        body: Option<Body>,
    ) -> Result<Response, FetchError> {
        let mut current = url.clone();
        let mut method = method;
        let mut body = body;
        let mut redirects = Vec::new();
        let mut retries = 0;
        loop {
            if current.origin() != self.site.origin {
                return Err(FetchError::OffOrigin { url: current });
            }
            let (hop, hop_retries) = self
                .hop_with_retries(&method, &current, body.take())
                .await?;
            retries += hop_retries;
            match hop {
                Hop::Redirect {
                    status,
                    location,
                    link_headers,
                } => {
                    let base = |login_redirect, offsite_redirect| Response {
                        url: url.clone(),
                        final_url: current.clone(),
                        status,
                        content_type: None,
                        body: Vec::new(),
                        redirects: redirects.clone(),
                        login_redirect,
                        offsite_redirect,
                        link_headers: link_headers.clone(),
                        retries,
                        truncated: false,
                    };
                    if self.site.is_login_path(&location) {
                        return Ok(base(true, None));
                    }
                    if location.origin() != self.site.origin {
                        return Ok(base(false, Some(location)));
                    }
                    if redirects.len() >= MAX_REDIRECTS || redirects.contains(&location) {
                        return Err(FetchError::RedirectLoop {
                            hops: redirects.len() + 1,
                            last: location,
                        });
                    }
                    redirects.push(location.clone());
                    current = location;
                    if status == StatusCode::SEE_OTHER.as_u16() || method == Method::POST {
                        method = Method::GET;
                    }
                }
                Hop::Final {
                    status,
                    content_type,
                    body,
                    link_headers,
                    truncated,
                    ..
                } => {
                    return Ok(Response {
                        url: url.clone(),
                        final_url: current,
                        status,
                        content_type,
                        body,
                        redirects,
                        login_redirect: false,
                        offsite_redirect: None,
                        link_headers,
                        retries,
                        truncated,
                    });
                }
            }
        }
    }

    /// One hop, retried (GET and HEAD only) after transient failures with jittered
    /// exponential back-off, or after what `Retry-After` asks if it is reasonable.
    async fn hop_with_retries(
        &self,
        method: &Method,
        url: &Url,
        body: Option<Body>,
    ) -> Result<(Hop, u32), FetchError> {
        let retryable = *method == Method::GET
            || *method == Method::HEAD
            || body.as_ref().is_some_and(|b| b.retryable);
        let mut attempt = 0;
        loop {
            let result = self.hop(method, url, body.clone()).await;
            let wait = match &result {
                Ok(Hop::Final {
                    status: 429 | 502 | 503 | 504,
                    retry_after,
                    ..
                }) => Some(*retry_after),
                Err(
                    FetchError::Timeout { .. }
                    | FetchError::Connect { .. }
                    | FetchError::Body { .. }
                    | FetchError::Decode { .. }
                    | FetchError::Request { .. },
                ) => Some(None),
                _ => None,
            };
            // A timeout already cost a whole `timeout_secs`: one more try is enough.
            let timed_out = matches!(result, Err(FetchError::Timeout { .. }));
            let delay = match wait {
                Some(_) if !retryable || attempt >= MAX_RETRIES => None,
                Some(_) if timed_out && attempt >= 1 => None,
                Some(Some(secs)) if secs > MAX_RETRY_AFTER_SECS => None,
                Some(Some(secs)) => Some(Duration::from_secs(secs)),
                Some(None) => Some(backoff(attempt)),
                None => None,
            };
            let Some(delay) = delay else {
                return result.map(|hop| (hop, attempt));
            };
            attempt += 1;
            tracing::info!(identity = %self.identity.name, url = %url, attempt, ?delay, "retrying");
            if !self.site.stop.sleep(delay).await {
                return Err(self.stopped());
            }
        }
    }

    fn stopped(&self) -> FetchError {
        FetchError::Stopped {
            reason: self
                .site
                .stop
                .reason()
                .unwrap_or_else(|| "stopped".to_string()),
        }
    }

    async fn hop(&self, method: &Method, url: &Url, body: Option<Body>) -> Result<Hop, FetchError> {
        tokio::select! {
            biased;
            _ = self.site.stop.stopped() => return Err(self.stopped()),
            _ = self.site.limiter.until_ready() => {}
        }
        let mut request = self
            .client
            .request(method.clone(), url.clone())
            .headers(self.credential_headers());
        if let Some(body) = body {
            if let Some(content_type) = body.content_type {
                request = request.header("content-type", content_type);
            }
            if body.text.is_empty() {
                // hyper writes `Content-Length: 0` for an empty POST or PUT but not for a
                // PATCH, and a proxy may answer 411 to a bodied method without one.
                request = request.header(reqwest::header::CONTENT_LENGTH, "0");
            }
            request = request.body(body.text);
        }
        tracing::debug!(identity = %self.identity.name, %method, url = %url, "request");
        let response = tokio::select! {
            biased;
            _ = self.site.stop.stopped() => return Err(self.stopped()),
            sent = request.send() => sent.map_err(|e| self.classify(e))?,
        };
        let status = response.status();
        let link_headers = response
            .headers()
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(parse_link_header)
            .collect::<Vec<_>>();
        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .and_then(|loc| url.join(loc).ok())
                .ok_or(FetchError::BadRedirect)?;
            return Ok(Hop::Redirect {
                status: status.as_u16(),
                location,
                link_headers,
            });
        }
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let read = tokio::select! {
            biased;
            _ = self.site.stop.stopped() => return Err(self.stopped()),
            body = self.read_body(response) => body,
        };
        let (body, truncated) = match read {
            Ok(body) => (body, false),
            // A static asset (a bundle, a stylesheet, an image) is judged by its status alone:
            // no refusal marker, login form or JSON shape lives past its first megabytes, so
            // what was read is classified and the cell is not a hole in the matrix. A page or
            // an API answer the judge needs whole stays an error.
            Err(FetchError::BodyTooLarge { prefix, .. })
                if status.is_success() && is_static_asset(content_type.as_deref()) =>
            {
                (prefix, true)
            }
            Err(error) => return Err(error),
        };
        Ok(Hop::Final {
            status: status.as_u16(),
            content_type,
            body,
            link_headers,
            retry_after,
            truncated,
        })
    }

    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let limit = self.site.max_body_bytes;
        let gzipped = response
            .headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"));
        if gzipped {
            return self.read_gzip_body(response, limit).await;
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = usize::try_from(limit)
                        .unwrap_or(usize::MAX)
                        .saturating_sub(body.len());
                    if chunk.len() > room {
                        // Keep what fits, drop the connection: memory stays bounded by the
                        // limit whatever the Site sends (a gzip bomb is counted decoded).
                        body.extend_from_slice(&chunk[..room]);
                        return Err(FetchError::BodyTooLarge {
                            limit,
                            prefix: body,
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) if e.is_timeout() => {
                    return Err(FetchError::Timeout {
                        secs: self.site.timeout.as_secs(),
                    });
                }
                Err(source) => return Err(FetchError::Body { source }),
            }
        }
    }

    /// As `read_body`, decoding gzip as it arrives: the limit counts decoded bytes, so a
    /// gzip bomb stops at `max_body_bytes` like any other body.
    async fn read_gzip_body(
        &self,
        mut response: reqwest::Response,
        limit: u64,
    ) -> Result<Vec<u8>, FetchError> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut gunzip = super::gunzip::Gunzip::default();
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    gunzip
                        .feed(&chunk, &mut body, limit)
                        .map_err(|source| FetchError::Decode { source })?;
                    if body.len() > limit {
                        body.truncate(limit);
                        return Err(FetchError::BodyTooLarge {
                            limit: limit as u64,
                            prefix: body,
                        });
                    }
                }
                Ok(None) => {
                    gunzip
                        .finish()
                        .map_err(|source| FetchError::Decode { source })?;
                    return Ok(body);
                }
                Err(e) if e.is_timeout() => {
                    return Err(FetchError::Timeout {
                        secs: self.site.timeout.as_secs(),
                    });
                }
                Err(source) => return Err(FetchError::Body { source }),
            }
        }
    }

    fn classify(&self, error: reqwest::Error) -> FetchError {
        if error.is_timeout() {
            FetchError::Timeout {
                secs: self.site.timeout.as_secs(),
            }
        } else if error.is_connect() {
            FetchError::Connect { source: error }
        } else {
            FetchError::Request { source: error }
        }
    }
}

/// One request's answer before redirects are decided.
enum Hop {
    Redirect {
        status: u16,
        location: Url,
        link_headers: Vec<String>,
    },
    Final {
        status: u16,
        content_type: Option<String>,
        body: Vec<u8>,
        link_headers: Vec<String>,
        retry_after: Option<u64>,
        /// Cut at `max_body_bytes` (static assets only; see `hop`).
        truncated: bool,
    },
}

/// Content types a browser only runs, styles or shows: a bundle, a stylesheet, an image, a
/// font, media. Their meaning does not depend on reading them to the end, unlike a page
/// (refusal markers, the login form, the fingerprint) or JSON (which does not parse cut).
/// `text/plain` and `application/octet-stream` are not in the list: they are what a `.env`,
/// a log or a dump is served as, and a cut one must stay visible as an error.
fn is_static_asset(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("image/")
        || essence.starts_with("font/")
        || essence.starts_with("audio/")
        || essence.starts_with("video/")
        || essence.ends_with("javascript")
        || essence.ends_with("ecmascript")
        || matches!(
            essence.as_str(),
            "text/css" | "application/wasm" | "application/font-woff" | "application/font-woff2"
        )
}

/// 250 ms, 500 ms, 1 s, ... plus up to 25% jitter, so identities that failed together do
/// not retry together.
fn backoff(attempt: u32) -> Duration {
    let base = 250u64.saturating_mul(1 << attempt.min(6));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let jitter = u64::from(nanos) % (base / 4 + 1);
    Duration::from_millis(base + jitter)
}

/// `<url>; rel=...` entries of a `Link` header.
fn parse_link_header(value: &str) -> Vec<String> {
    value
        .split(',')
        .filter_map(|part| {
            let start = part.find('<')?;
            let end = part[start + 1..].find('>')?;
            Some(part[start + 1..start + 1 + end].to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_assets_are_told_from_answers_the_judge_needs_whole() {
        for (content_type, asset) in [
            (Some("application/javascript"), true),
            (Some("text/javascript; charset=utf-8"), true),
            (Some("application/x-javascript"), true),
            (Some("text/css"), true),
            (Some("image/png"), true),
            (Some("font/woff2"), true),
            (Some("application/wasm"), true),
            (Some("text/html; charset=utf-8"), false),
            (Some("application/json"), false),
            (Some("text/plain"), false),
            (Some("application/octet-stream"), false),
            (None, false),
        ] {
            assert_eq!(is_static_asset(content_type), asset, "{content_type:?}");
        }
    }

    #[test]
    fn link_headers_yield_their_targets() {
        assert_eq!(
            parse_link_header(r#"</a>; rel="next", <https://x/b>; rel=prev"#),
            vec!["/a".to_string(), "https://x/b".to_string()]
        );
    }
}
