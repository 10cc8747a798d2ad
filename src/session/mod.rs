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
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use regex::Regex;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use reqwest_cookie_store::CookieStoreMutex;
use url::{Origin, Url};

pub use error::{FetchError, LoginError};

use crate::scenario::{Identity, LoginMethod, Scenario};

/// Redirect hops followed before calling it a loop.
const MAX_REDIRECTS: usize = 10;

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
}

impl SiteContext {
    pub fn new(scenario: &Scenario) -> Arc<SiteContext> {
        let per_second = NonZeroU32::new(scenario.crawl.rate_limit).unwrap_or(NonZeroU32::MIN);
        Arc::new(SiteContext {
            base: scenario.site.base_url.clone(),
            origin: scenario.site.base_url.origin(),
            login_path: scenario.session.login_path.clone(),
            deny_markers: scenario.session.deny_markers.clone(),
            timeout: Duration::from_secs(scenario.crawl.timeout_secs),
            max_body_bytes: scenario.crawl.max_body_bytes,
            limiter: RateLimiter::direct(Quota::per_second(per_second)),
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
        })
    }

    /// Logs in (if the identity has a login) and proves it; sets [`Session::status`].
    pub async fn login(&mut self, first_seed: &str) -> Result<(), LoginError> {
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

    /// The cookie values the jar holds now, for tests and redaction; never printed.
    pub fn cookie_values(&self) -> Vec<String> {
        match self.jar.lock() {
            Ok(jar) => jar.iter_any().map(|c| c.value().to_string()).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// GET `url`, following same-origin redirects by hand.
    pub async fn get(&self, url: &Url) -> Result<Response, FetchError> {
        self.send(Method::GET, url, None).await
    }

    /// Sends one request; a POST body is only ever sent on the first hop (a 303 turns it into GET).
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
        loop {
            if current.origin() != self.site.origin {
                return Err(FetchError::OffOrigin { url: current });
            }
            self.site.limiter.until_ready().await;
            let mut request = self
                .client
                .request(method.clone(), current.clone())
                .headers(self.headers.clone());
            if let Some(form) = body.take() {
                request = request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form);
            }
            tracing::debug!(identity = %self.identity.name, %method, url = %current, "request");
            let response = request.send().await.map_err(|e| self.classify(e))?;
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
                    .and_then(|loc| current.join(loc).ok())
                    .ok_or(FetchError::BadRedirect)?;
                let base = |login_redirect, offsite_redirect| Response {
                    url: url.clone(),
                    final_url: current.clone(),
                    status: status.as_u16(),
                    content_type: None,
                    body: Vec::new(),
                    redirects: redirects.clone(),
                    login_redirect,
                    offsite_redirect,
                    link_headers: link_headers.clone(),
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
                if status == StatusCode::SEE_OTHER || method == Method::POST {
                    method = Method::GET;
                }
                continue;
            }
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = self.read_body(response).await?;
            return Ok(Response {
                url: url.clone(),
                final_url: current,
                status: status.as_u16(),
                content_type,
                body,
                redirects,
                login_redirect: false,
                offsite_redirect: None,
                link_headers,
            });
        }
    }

    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, FetchError> {
        let limit = self.site.max_body_bytes;
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(FetchError::BodyTooLarge { limit });
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() as u64 + chunk.len() as u64 > limit {
                        return Err(FetchError::BodyTooLarge { limit });
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
