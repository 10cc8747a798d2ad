//! Sessions: one HTTP client and one cookie jar per identity, logged in and proven.
//!
//! Input: a [`Scenario`]. Output: one [`Session`] per identity, each knowing whether its login
//! held ([`LoginStatus`]). Invariants: a session only ever sends to the Site's origin (checked on
//! every request and every redirect hop, because cookie jars ignore ports and would hand a
//! loopback Site's cookies to any other loopback port); redirects are followed by hand for that
//! reason; bodies are read up to `max_body_bytes` and no further.

mod error;
mod login;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use regex::Regex;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use reqwest_cookie_store::CookieStoreMutex;
use url::{Origin, Url};

pub use error::{FetchError, LoginError};

use crate::scenario::{Identity, LoginMethod, Scenario};
use crate::stop::Stop;

/// Redirect hops followed before calling it a loop.
const MAX_REDIRECTS: usize = 10;
/// Retries of a GET after a timeout, a broken connection, 429, 502, 503 or 504.
pub const MAX_RETRIES: u32 = 2;
/// A `Retry-After` longer than this is not waited for: the answer stays an error.
const MAX_RETRY_AFTER_SECS: u64 = 30;
/// Re-logins in a row that bought no confirmed answer before the session counts as lost.
pub const MAX_FUTILE_RELOGINS: u32 = 3;

/// What every session of one Site shares: where it is, how to tell "not logged in", and one
/// politeness budget for all identities together.
#[derive(Debug)]
pub struct SiteContext {
    pub base: Url,
    pub origin: Origin,
    pub login_path: String,
    pub deny_markers: Vec<String>,
    pub timeout: Duration,
    pub max_body_bytes: u64,
    limiter: DefaultDirectRateLimiter,
    /// The run's stop signal: waits and retries end when it trips.
    pub stop: Stop,
}

impl SiteContext {
    pub fn new(scenario: &Scenario, stop: Stop) -> Arc<SiteContext> {
        let per_second = NonZeroU32::new(scenario.crawl.rate_limit).unwrap_or(NonZeroU32::MIN);
        Arc::new(SiteContext {
            base: scenario.site.base_url.clone(),
            origin: scenario.site.base_url.origin(),
            login_path: scenario.session.login_path.clone(),
            deny_markers: scenario.session.deny_markers.clone(),
            timeout: Duration::from_secs(scenario.crawl.timeout_secs),
            max_body_bytes: scenario.crawl.max_body_bytes,
            limiter: RateLimiter::direct(Quota::per_second(per_second)),
            stop,
        })
    }

    /// Resolves a scenario path (origin-absolute, or a same-origin URL) to a URL on the Site.
    pub fn resolve(&self, path: &str) -> Option<Url> {
        let url = self.base.join(path).ok()?;
        (url.origin() == self.origin).then_some(url)
    }

    pub fn is_login_path(&self, url: &Url) -> bool {
        url.origin() == self.origin && url.path() == self.login_path
    }

    /// The first deny marker the body carries, if any.
    pub fn deny_marker<'a>(&'a self, body: &str) -> Option<&'a str> {
        self.deny_markers
            .iter()
            .find(|m| !m.is_empty() && body.contains(m.as_str()))
            .map(String::as_str)
    }
}

/// A page that asks for a password is a login page, wherever it is served.
pub fn is_login_page(body: &str) -> bool {
    // A constant pattern: it compiles in every build the tests pass on.
    #[allow(clippy::expect_used)]
    static PASSWORD_INPUT: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r#"(?i)<input\b[^>]*\btype\s*=\s*["']?password\b"#)
            .expect("constant pattern compiles")
    });
    PASSWORD_INPUT.is_match(body)
}

/// A response as the Site gave it, after same-origin redirects.
#[derive(Debug)]
pub struct Response {
    /// The URL asked for.
    pub url: Url,
    /// Where the last hop landed.
    pub final_url: Url,
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// Same-origin hops followed, in order.
    pub redirects: Vec<Url>,
    /// The Site sent us to its login page (not followed).
    pub login_redirect: bool,
    /// The Site redirected to another origin (not followed, nothing sent there).
    pub offsite_redirect: Option<Url>,
    /// `Link` header targets and a `Location` we did not follow, for discovery.
    pub link_headers: Vec<String>,
    /// Retries it took (after timeouts, broken connections, 429 or 5xx gateways).
    pub retries: u32,
}

impl Response {
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    pub fn is_html(&self) -> bool {
        match &self.content_type {
            Some(ct) => ct.contains("html"),
            None => {
                let head = &self.body[..self.body.len().min(512)];
                String::from_utf8_lossy(head)
                    .to_ascii_lowercase()
                    .contains("<html")
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "kebab-case")]
pub enum LoginStatus {
    /// The identity has no login (anonymous).
    NotRequired,
    LoggedIn,
    Failed(String),
}

impl LoginStatus {
    pub fn is_usable(&self) -> bool {
        !matches!(self, LoginStatus::Failed(_))
    }
}

/// One identity's view of the Site.
pub struct Session {
    pub identity: Identity,
    pub status: LoginStatus,
    client: reqwest::Client,
    jar: Arc<CookieStoreMutex>,
    /// Credentials sent with every request (bearer, basic, headers); only ever to `site.origin`.
    headers: HeaderMap,
    pub site: Arc<SiteContext>,
    /// Where the default proof of login looks.
    first_seed: String,
    /// The last proof of login that held: when it started, and in which session (counted
    /// by re-logins). Locked while proving or logging in again, one at a time.
    proof: tokio::sync::Mutex<Option<(Instant, u32)>>,
    relogins: AtomicU32,
    /// Answers confirmed since the last re-login: a re-login that buys none is futile.
    confirmed_since_relogin: AtomicU32,
    futile_relogins: AtomicU32,
    /// Set once the session kept dying: the rest of the run cannot speak for this identity.
    lost: std::sync::Mutex<Option<String>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("identity", &self.identity.name)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub fn new(identity: Identity, site: Arc<SiteContext>) -> Result<Session, LoginError> {
        let jar = Arc::new(CookieStoreMutex::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(site.timeout)
            .connect_timeout(site.timeout)
            .user_agent(concat!("lowpriv/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| LoginError::Client { source })?;
        let status = if identity.login.is_some() {
            LoginStatus::Failed("not logged in yet".to_string())
        } else {
            LoginStatus::NotRequired
        };
        Ok(Session {
            identity,
            status,
            client,
            jar,
            headers: HeaderMap::new(),
            site,
            first_seed: "/".to_string(),
            proof: tokio::sync::Mutex::new(None),
            relogins: AtomicU32::new(0),
            confirmed_since_relogin: AtomicU32::new(0),
            futile_relogins: AtomicU32::new(0),
            lost: std::sync::Mutex::new(None),
        })
    }

    /// Logs in (if the identity has a login) and proves it; sets [`Session::status`].
    pub async fn login(&mut self, first_seed: &str) -> Result<(), LoginError> {
        self.first_seed = first_seed.to_string();
        let Some(login) = self.identity.login.clone() else {
            self.status = LoginStatus::NotRequired;
            return Ok(());
        };
        let result = async {
            match &login.method {
                LoginMethod::Form { form, fields } => {
                    login::submit_form(self, form, fields).await?;
                }
                LoginMethod::Bearer(token) => {
                    self.add_header("authorization", &format!("Bearer {}", token.expose()))?;
                }
                LoginMethod::Basic { user, password } => {
                    use base64::Engine;
                    let pair = format!("{user}:{}", password.expose());
                    let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                    self.add_header("authorization", &format!("Basic {encoded}"))?;
                }
                LoginMethod::Cookie(cookie) => {
                    let mut jar = self.jar.lock().map_err(|_| LoginError::Verify {
                        reason: "cookie jar poisoned".into(),
                    })?;
                    for pair in cookie.expose().split(';') {
                        let pair = pair.trim();
                        if pair.is_empty() {
                            continue;
                        }
                        // Path=/ so the cookie covers the whole Site, as a browser's would.
                        let _ = jar.parse(&format!("{pair}; Path=/"), &self.site.base);
                    }
                }
                LoginMethod::Headers(headers) => {
                    for (name, value) in headers {
                        self.add_header(name, value.expose())?;
                    }
                }
            }
            login::verify(self, login.verify.as_ref(), first_seed).await
        }
        .await;
        match result {
            Ok(()) => {
                self.status = LoginStatus::LoggedIn;
                Ok(())
            }
            Err(err) => {
                self.status = LoginStatus::Failed(err.to_string());
                Err(err)
            }
        }
    }

    fn add_header(&mut self, name: &str, value: &str) -> Result<(), LoginError> {
        let bad = || LoginError::BadHeader {
            name: name.to_string(),
        };
        let header_name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
        let mut header_value = HeaderValue::from_str(value).map_err(|_| bad())?;
        header_value.set_sensitive(true);
        self.headers.insert(header_name, header_value);
        Ok(())
    }

    /// How many times this session was found logged out and logged in again.
    pub fn relogins(&self) -> u32 {
        self.relogins.load(Ordering::Relaxed)
    }

    /// Why the session was given up, if it was.
    pub fn lost(&self) -> Option<String> {
        self.lost.lock().ok().and_then(|l| l.clone())
    }

    /// GET `url` as this identity, making sure a refusal is not a session that quietly
    /// expired. Any refusal (a login page or redirect, 401, 403, 404, a deny marker) counts
    /// only once the session is proven alive *after* it arrived, with no re-login in between
    /// (one proof covers every refusal that arrived before it started). A dead session is
    /// logged in again and the request asked again. A session that keeps dying is given up
    /// ([`FetchError::SessionLost`]): a lost session is never recorded as "denied".
    pub async fn fetch(&self, url: &Url) -> Result<Response, FetchError> {
        let Some(login) = self.identity.login.as_ref() else {
            return self.get(url).await;
        };
        loop {
            if let Some(reason) = self.lost() {
                return Err(FetchError::SessionLost { reason });
            }
            let epoch = self.relogins.load(Ordering::Acquire);
            let response = self.get(url).await;
            let received = Instant::now();
            if !self.is_refusal(&response) {
                self.confirmed_since_relogin.fetch_add(1, Ordering::Relaxed);
                return response;
            }
            let mut proof = self.proof.lock().await;
            if self.relogins.load(Ordering::Acquire) != epoch {
                // Logged in again meanwhile: this answer came from the old session; ask again.
                continue;
            }
            if proof
                .is_some_and(|(started, proven_epoch)| started > received && proven_epoch == epoch)
            {
                self.confirmed_since_relogin.fetch_add(1, Ordering::Relaxed);
                return response;
            }
            let started = Instant::now();
            if login::verify(self, login.verify.as_ref(), &self.first_seed)
                .await
                .is_ok()
            {
                *proof = Some((started, epoch));
                self.confirmed_since_relogin.fetch_add(1, Ordering::Relaxed);
                return response;
            }
            let count = self.relogins.load(Ordering::Acquire);
            if self.confirmed_since_relogin.swap(0, Ordering::Relaxed) == 0 && count > 0 {
                let futile = self.futile_relogins.fetch_add(1, Ordering::Relaxed) + 1;
                if futile >= MAX_FUTILE_RELOGINS {
                    let reason = format!(
                        "the session kept expiring: {futile} re-logins in a row bought no answer; \
                         giving up on `{}`",
                        self.identity.name
                    );
                    return Err(self.give_up(reason));
                }
            } else {
                self.futile_relogins.store(0, Ordering::Relaxed);
            }
            tracing::info!(identity = %self.identity.name, count = count + 1, "session lost; logging in again");
            let result = self.relogin(login).await;
            self.relogins.fetch_add(1, Ordering::AcqRel);
            match result {
                Ok(()) => *proof = Some((Instant::now(), count + 1)),
                Err(err) => return Err(self.give_up(format!("logging in again failed: {err}"))),
            }
        }
    }

    fn give_up(&self, reason: String) -> FetchError {
        if let Ok(mut lost) = self.lost.lock() {
            lost.get_or_insert(reason.clone());
        }
        FetchError::SessionLost { reason }
    }

    /// An answer that refuses: what a lost session also looks like.
    fn is_refusal(&self, response: &Result<Response, FetchError>) -> bool {
        let Ok(r) = response else {
            return false;
        };
        if r.login_redirect || (400..500).contains(&r.status) && r.status != 429 {
            return true;
        }
        if (200..300).contains(&r.status) {
            let text = r.text();
            return is_login_page(&text) || self.site.deny_marker(&text).is_some();
        }
        false
    }

    /// Logs in again after the session was lost: a fresh jar and the form again, or, for
    /// static credentials, just the proof (they cannot be renewed).
    async fn relogin(&self, login: &crate::scenario::Login) -> Result<(), LoginError> {
        if let LoginMethod::Form { form, fields } = &login.method {
            if let Ok(mut jar) = self.jar.lock() {
                jar.clear();
            }
            login::submit_form(self, form, fields).await?;
        }
        login::verify(self, login.verify.as_ref(), &self.first_seed).await
    }

    /// GET `url`, following same-origin redirects by hand.
    pub async fn get(&self, url: &Url) -> Result<Response, FetchError> {
        self.send(Method::GET, url, None).await
    }

    /// Sends one request; a POST body is only ever sent on the first hop (a 303 turns it into
    /// GET). GETs are retried after transient failures; POSTs never are.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &Url,
        form_body: Option<String>,
    ) -> Result<Response, FetchError> {
        let mut current = url.clone();
        let mut method = method;
        let mut body = form_body;
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
        body: Option<String>,
    ) -> Result<(Hop, u32), FetchError> {
        let retryable = *method == Method::GET || *method == Method::HEAD;
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

    async fn hop(
        &self,
        method: &Method,
        url: &Url,
        body: Option<String>,
    ) -> Result<Hop, FetchError> {
        tokio::select! {
            biased;
            _ = self.site.stop.stopped() => return Err(self.stopped()),
            _ = self.site.limiter.until_ready() => {}
        }
        let mut request = self
            .client
            .request(method.clone(), url.clone())
            .headers(self.headers.clone());
        if let Some(form) = body {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form);
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
        let body = tokio::select! {
            biased;
            _ = self.site.stop.stopped() => return Err(self.stopped()),
            body = self.read_body(response) => body?,
        };
        Ok(Hop::Final {
            status: status.as_u16(),
            content_type,
            body,
            link_headers,
            retry_after,
        })
    }

    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let limit = self.site.max_body_bytes;
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
    },
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

/// Opens and logs in one session per identity, all at once. A login that fails is recorded in
/// the session's [`LoginStatus`], not returned: the run goes on and ends inconclusive.
pub async fn open_all(
    scenario: &Scenario,
    site: &Arc<SiteContext>,
) -> Result<Vec<Session>, LoginError> {
    let first_seed = scenario
        .crawl
        .seeds
        .first()
        .cloned()
        .unwrap_or_else(|| "/".to_string());
    let mut sessions = scenario
        .identities
        .iter()
        .map(|identity| Session::new(identity.clone(), site.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let logins = sessions.iter_mut().map(|session| {
        let first_seed = first_seed.clone();
        async move {
            if let Err(err) = session.login(&first_seed).await {
                tracing::warn!(identity = %session.identity.name, error = %err, "login failed");
            }
        }
    });
    futures::future::join_all(logins).await;
    Ok(sessions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_pages_are_recognised_by_their_password_input() {
        let cases = [
            (r#"<form><input type="password" name="pw"></form>"#, true),
            (r#"<INPUT TYPE=PASSWORD name=x>"#, true),
            (r#"<input name="password" type='password'/>"#, true),
            (r#"<input name="password" type="text">"#, false),
            ("the password policy says", false),
        ];
        for (body, expected) in cases {
            assert_eq!(is_login_page(body), expected, "{body}");
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
