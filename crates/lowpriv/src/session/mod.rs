//! Sessions: one HTTP client and one cookie jar per identity, logged in and proven.
//!
//! Input: a [`Scenario`]. Output: one [`Session`] per identity, each knowing whether its login
//! held ([`LoginStatus`]). Invariants: a session only ever sends to the Site's origin (checked on
//! every request and every redirect hop, because cookie jars ignore ports and would hand a
//! loopback Site's cookies to any other loopback port); redirects are followed by hand for that
//! reason; bodies are read up to `max_body_bytes` and no further.
//!
//! The parts: `transport` sends (the client, retries, redirects, body limits); `login` logs in,
//! proves it and logs in again when a refusal turns out to be a lost session; `refusal` is the
//! one rule for what counts as a refusal ([`interpret`]), which the observer reads too.

mod error;
pub mod gunzip;
mod login;
mod refusal;
pub mod totp;
mod transport;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;
use reqwest_cookie_store::CookieStoreMutex;
use url::{Origin, Url};

pub use error::{FetchError, LoginError};
pub use login::MAX_FUTILE_RELOGINS;
pub use refusal::{Answer, Failure, Refusal, interpret, is_login_page};
pub use transport::MAX_RETRIES;

use crate::scenario::{Identity, Scenario};
use crate::stop::Stop;

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
    /// `[crawl] graphql`, resolved on the Site's origin: the only URL a JSON query is ever
    /// POSTed to ([`Session::post_graphql`]).
    pub graphql: Option<Url>,
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
            graphql: scenario.crawl.graphql.as_deref().and_then(|path| {
                let url = scenario.site.base_url.join(path).ok()?;
                (url.origin() == scenario.site.base_url.origin()).then_some(url)
            }),
            // No burst: requests are spaced 1/rate apart from the first one, so no wall-clock
            // second ever sees more than `rate_limit` of them (a full bucket would allow
            // twice that in the run's first second).
            limiter: RateLimiter::direct(
                Quota::per_second(per_second).allow_burst(NonZeroU32::MIN),
            ),
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
        refusal::deny_marker(&self.deny_markers, body)
    }
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
    /// The body is a static asset cut at `max_body_bytes`: `body` is what was read.
    pub truncated: bool,
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
    /// Credentials sent with every request (bearer, basic, headers, a JSON login's token);
    /// only ever to `site.origin`. Replaced when a JSON login is replayed.
    headers: std::sync::RwLock<HeaderMap>,
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
    /// A JSON login's refresh token, when the scenario renews the session with one.
    refresh_token: std::sync::Mutex<Option<crate::scenario::Secret>>,
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
        let client = transport::client(&site, jar.clone())
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
            headers: std::sync::RwLock::new(HeaderMap::new()),
            site,
            first_seed: "/".to_string(),
            proof: tokio::sync::Mutex::new(None),
            relogins: AtomicU32::new(0),
            confirmed_since_relogin: AtomicU32::new(0),
            futile_relogins: AtomicU32::new(0),
            lost: std::sync::Mutex::new(None),
            refresh_token: std::sync::Mutex::new(None),
        })
    }

    /// How many times this session was found logged out and logged in again.
    pub fn relogins(&self) -> u32 {
        self.relogins.load(Ordering::Relaxed)
    }

    /// Keeps the refresh token a login or a refresh answered, for the next renewal.
    pub(crate) fn keep_refresh_token(&self, token: &str) {
        if let Ok(mut held) = self.refresh_token.lock() {
            *held = Some(crate::scenario::Secret::new(token));
        }
    }

    pub(crate) fn refresh_token(&self) -> Option<crate::scenario::Secret> {
        self.refresh_token.lock().ok().and_then(|held| held.clone())
    }

    /// The cookies this session holds for the Site (`--browser` hands them to its context):
    /// the jar's matches for the base URL, so no other Site's cookie is among them.
    pub(crate) fn site_cookies(&self) -> Vec<(String, String)> {
        let Ok(jar) = self.jar.lock() else {
            return Vec::new();
        };
        jar.matches(&self.site.base)
            .into_iter()
            .map(|c| (c.name().to_string(), c.value().to_string()))
            .collect()
    }

    /// The credential headers every request carries, as text (`--browser` adds them to the
    /// page's same-origin requests only).
    pub(crate) fn browser_headers(&self) -> Vec<(String, String)> {
        self.credential_headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
            })
            .collect()
    }

    /// Why the session was given up, if it was.
    pub fn lost(&self) -> Option<String> {
        self.lost.lock().ok().and_then(|l| l.clone())
    }
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
