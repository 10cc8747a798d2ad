//! `--browser`: renders the HTML pages the crawl admits in Debian's headless Chromium, driven
//! over the DevTools protocol (chromiumoxide), and hands every same-origin GET a page made or
//! linked back to the crawl as a link found `Via::Browser`. The plain crawl and the replay
//! send those requests over HTTP as usual: the browser only discovers.
//!
//! Input: the crawl's admitted HTML pages, with the identity's [`Session`] (its cookies for the
//! Site origin and its credential headers). Output: per page a [`Render`]: links, actions (the
//! page's own non-GET requests, never sent), a count of blocked requests to other origins,
//! and whether the page settled, hit [`PAGE_CAP`] or failed.
//!
//! Invariants:
//! - One Chromium process per run, with a fresh profile directory removed at the end; one
//!   browser context per identity, so no cookie crosses between identities.
//! - Every request a page makes passes request interception (`Fetch.requestPaused`): a
//!   same-origin GET/HEAD that [`Scope`] admits continues, with the identity's headers; a
//!   same-origin request of another method is failed (never sent) and recorded as an
//!   [`Action`]; a same-origin GET that the scope refuses (logout, destructive, the login
//!   page, excluded) is failed; anything to another origin is failed and counted. A cookie
//!   jar ignores ports, so this is what keeps the Site's cookies off other loopback ports.
//! - WebSockets never connect and popups never open: a script that runs before the page's
//!   own replaces `WebSocket` and `window.open` with stubs that record the URL. Site
//!   isolation is off, so every frame's requests pass the tab's interception.
//! - A page costs at most [`PAGE_CAP`] (navigation, waiting for the network to settle, and
//!   the clicks), plus [`CLOSE_GRACE`] to read the DOM and close the tab. SPAs that poll never
//!   settle: they hit the cap and are listed as such, never waited on.
//! - Only the first page of each path template is rendered per identity: the query variants
//!   of one view load the same scripts.
//! - The browser process tree is gone after [`Renderer::close`]; dropping a [`Renderer`]
//!   without it (an error, a panic) kills the process too.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::emulation::SetFocusEmulationEnabledParams;
use chromiumoxide::cdp::browser_protocol::fetch::{
    ContinueRequestParams, EnableParams as FetchEnableParams, EventRequestPaused,
    FailRequestParams, HeaderEntry, RequestPattern,
};
use chromiumoxide::cdp::browser_protocol::network::{
    CookieParam, ErrorReason, EventLoadingFailed, EventLoadingFinished, ResourceType,
    SetCookiesParams,
};
use chromiumoxide::cdp::browser_protocol::page::{
    AddScriptToEvaluateOnNewDocumentParams, NavigateParams,
};
use chromiumoxide::cdp::browser_protocol::target::{
    CreateBrowserContextParams, CreateTargetParams,
};
use chromiumoxide::page::Page;
use futures::StreamExt;
use tokio::sync::Semaphore;
use url::{Origin, Url};

use super::discover::Action;
use super::scope::{self, Admission, Scope};
use super::{Request, Via};
use crate::session::{FetchError, Response, Session};

/// The longest one page is given to load, settle and answer its clicks (documented in
/// README.md and `lowpriv run --help`).
pub const PAGE_CAP: Duration = Duration::from_secs(5);
/// Reading the rendered DOM and closing the tab, past the cap at most.
pub const CLOSE_GRACE: Duration = Duration::from_secs(1);
/// The network counts as settled after this long without a new request and with none open.
const QUIET: Duration = Duration::from_millis(400);
/// Clicks per page, at most.
const MAX_CLICKS: usize = 20;
/// Pages rendered at once in a run, across identities: Chromium is heavy on 2 cores.
pub const RENDER_CONCURRENCY: usize = 2;
/// Where Debian (and most distributions) put Chromium, tried in order without `--chromium`.
const DEFAULT_PATHS: [&str; 3] = [
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
];

/// How the run uses a browser (`--browser`, `--chromium PATH`, `LOWPRIV_CHROMIUM`).
#[derive(Clone, Debug, Default)]
pub struct BrowserOptions {
    pub enabled: bool,
    /// The Chromium executable; [`DEFAULT_PATHS`] when unset.
    pub chromium: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error(
        "--browser needs Chromium, and none was found at {tried}: install it (`apt-get install chromium`) or name it with --chromium PATH or LOWPRIV_CHROMIUM"
    )]
    NotFound { tried: String },
    #[error("--browser: Chromium at {path} did not start")]
    Launch {
        path: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("--browser: cannot create a profile directory in {dir}")]
    Profile {
        dir: String,
        #[source]
        source: std::io::Error,
    },
}

/// The Chromium to start: the one named, or the first of [`DEFAULT_PATHS`] that exists.
pub fn locate(chromium: Option<&Path>) -> Result<PathBuf, BrowserError> {
    match chromium {
        Some(path) if path.is_file() => Ok(path.to_path_buf()),
        Some(path) => Err(BrowserError::NotFound {
            tried: path.display().to_string(),
        }),
        None => DEFAULT_PATHS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or_else(|| BrowserError::NotFound {
                tried: DEFAULT_PATHS.join(", "),
            }),
    }
}

/// Why a page's scripts did not run to the end, for the report.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "why", content = "detail")]
pub enum Unrendered {
    /// The page loads same-origin scripts and the run had no `--browser`.
    NoBrowser,
    /// The network never settled within [`PAGE_CAP`]: what it made by then was kept.
    HitCap,
    /// The render failed (the reason, without secrets: CDP errors carry no request data).
    Failed(String),
}

/// Why an identity's crawl is incomplete because of `--browser`: a render that failed (the
/// browser died, a page crashed it) leaves unknown what that page's scripts would have asked
/// for, which the run promised to see. A page that hit the cap is not one: single-page apps
/// never go idle, and what it asked for by then was kept.
pub fn failures(pages: &BTreeMap<Url, Unrendered>) -> Option<String> {
    let failed: Vec<(&Url, &String)> = pages
        .iter()
        .filter_map(|(url, why)| match why {
            Unrendered::Failed(detail) => Some((url, detail)),
            _ => None,
        })
        .collect();
    let (url, detail) = failed.first()?;
    Some(format!(
        "--browser could not render {} page(s) (first: {}: {detail}); what their scripts request was not seen",
        failed.len(),
        url.path()
    ))
}

impl Unrendered {
    pub fn describe(&self) -> String {
        match self {
            Unrendered::NoBrowser => {
                "loads same-origin scripts; not rendered (no --browser)".into()
            }
            Unrendered::HitCap => format!(
                "hit the cap: still busy after {} s, kept what it made by then",
                PAGE_CAP.as_secs()
            ),
            Unrendered::Failed(why) => format!("render failed: {why}"),
        }
    }
}

/// What rendering one page found.
#[derive(Debug, Default)]
pub struct Render {
    /// Same-origin URLs the page requested (XHR, fetch, scripts, frames, navigations, routes)
    /// or linked in its rendered DOM.
    pub links: BTreeSet<Url>,
    /// The page's own non-GET requests: failed before they were sent.
    pub actions: BTreeSet<Action>,
    /// Requests to other origins: failed before they were sent.
    pub offsite: usize,
    /// `None` when the page settled.
    pub unrendered: Option<Unrendered>,
}

/// One Chromium for the run.
pub struct Renderer {
    browser: tokio::sync::RwLock<Browser>,
    handler: tokio::task::JoinHandle<()>,
    profile: PathBuf,
    origin: Origin,
    base: Url,
    scope: Arc<Scope>,
    permits: Semaphore,
    /// Per identity, its browser context.
    contexts: tokio::sync::Mutex<
        BTreeMap<String, chromiumoxide::cdp::browser_protocol::browser::BrowserContextId>,
    >,
    /// (identity, template) already rendered.
    rendered: Mutex<HashSet<(String, String)>>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl Renderer {
    /// Starts Chromium at `path` with a fresh profile.
    pub async fn launch(
        path: &Path,
        scenario: &crate::scenario::Scenario,
    ) -> Result<Renderer, BrowserError> {
        let profile = fresh_profile()?;
        let launch_error =
            |source: Box<dyn std::error::Error + Send + Sync>| BrowserError::Launch {
                path: path.display().to_string(),
                source,
            };
        let config = BrowserConfig::builder()
            .chrome_executable(path)
            .no_sandbox()
            .user_data_dir(&profile)
            .enable_request_intercept()
            .launch_timeout(Duration::from_secs(20))
            .request_timeout(PAGE_CAP + CLOSE_GRACE)
            .args([
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--no-default-browser-check",
                // Every frame in the tab's own process: an out-of-process frame would be a
                // target of its own, whose requests the tab's interception does not see.
                "--disable-site-isolation-trials",
                "--disable-features=IntensiveWakeUpThrottling,IsolateOrigins,site-per-process",
            ])
            .build()
            .map_err(|why| launch_error(why.into()));
        let config = match config {
            Ok(config) => config,
            Err(err) => {
                let _ = std::fs::remove_dir_all(&profile);
                return Err(err);
            }
        };
        let (browser, mut handler) = match Browser::launch(config).await {
            Ok(launched) => launched,
            Err(err) => {
                let _ = std::fs::remove_dir_all(&profile);
                return Err(launch_error(Box::new(err)));
            }
        };
        let handler = tokio::spawn(async move {
            // The handler drives the connection; an event it cannot parse is not fatal.
            while let Some(event) = handler.next().await {
                if let Err(err) = event {
                    tracing::debug!(error = %err, "chromium event");
                }
            }
        });
        Ok(Renderer {
            browser: tokio::sync::RwLock::new(browser),
            handler,
            profile,
            origin: scenario.site.base_url.origin(),
            base: scenario.site.base_url.clone(),
            scope: Arc::new(Scope::new(scenario)),
            permits: Semaphore::new(RENDER_CONCURRENCY),
            contexts: tokio::sync::Mutex::new(BTreeMap::new()),
            rendered: Mutex::new(HashSet::new()),
        })
    }

    /// Closes Chromium and waits for it to exit (killing it past a grace), then removes the
    /// profile directory.
    pub async fn close(self) {
        let mut browser = self.browser.write().await;
        let closed = tokio::time::timeout(Duration::from_secs(3), browser.close()).await;
        if !matches!(closed, Ok(Ok(_))) {
            let _ = browser.kill().await;
        }
        if tokio::time::timeout(Duration::from_secs(5), browser.wait())
            .await
            .is_err()
        {
            let _ = browser.kill().await;
            let _ = browser.wait().await;
        }
        drop(browser);
        self.handler.abort();
        // Chromium's helpers (zygote, renderers) leave when the browser does; the profile
        // goes after them.
        let _ = tokio::fs::remove_dir_all(&self.profile).await;
    }

    /// Whether this identity still needs `request`'s template rendered (and marks it).
    fn first_of_template(&self, identity: &str, request: &Request) -> bool {
        // By path template: a view's query variants (sorts, facets, pages) run the same
        // scripts, and the crawl already samples them.
        let template = request.template();
        let path = template.split('?').next().unwrap_or(&template).to_string();
        let key = (identity.to_string(), path);
        match self.rendered.lock() {
            Ok(mut seen) => seen.insert(key),
            Err(_) => false,
        }
    }

    async fn context(
        &self,
        identity: &str,
    ) -> Result<chromiumoxide::cdp::browser_protocol::browser::BrowserContextId, String> {
        let mut contexts = self.contexts.lock().await;
        if let Some(id) = contexts.get(identity) {
            return Ok(id.clone());
        }
        let browser = self.browser.read().await;
        let id = browser
            .create_browser_context(CreateBrowserContextParams::default())
            .await
            .map_err(|e| format!("cannot create a browser context: {e}"))?;
        contexts.insert(identity.to_string(), id.clone());
        Ok(id)
    }

    /// Renders `page` as `session`'s identity. Never sends anything but same-origin GET/HEAD
    /// that the scope admits.
    pub async fn render(&self, session: &Session, page: &Url) -> Render {
        let Ok(_permit) = self.permits.acquire().await else {
            return Render::default();
        };
        let started = Instant::now();
        let deadline = started + PAGE_CAP;
        let hard = deadline + CLOSE_GRACE;
        let mut render = Render::default();
        let captured = Arc::new(Mutex::new(Captured::new()));
        let tab =
            match tokio::time::timeout_at(hard.into(), self.open_tab(session, captured.clone()))
                .await
            {
                Ok(Ok(tab)) => tab,
                Ok(Err(why)) => {
                    render.unrendered = Some(Unrendered::Failed(why));
                    return render;
                }
                Err(_) => {
                    render.unrendered = Some(Unrendered::HitCap);
                    return render;
                }
            };
        let outcome = self.drive(&tab, page, deadline, &captured).await;
        // Links are read even from a page that hit the cap: what it drew by then counts.
        let dom = tokio::time::timeout_at(hard.into(), read_links(&tab)).await;
        let listeners = tokio::time::timeout_at(hard.into(), async { tab.page.close().await });
        let _ = listeners.await;
        for task in tab.tasks {
            task.abort();
        }
        render.unrendered = outcome.err();
        if let Ok(Ok(links)) = dom {
            for link in links {
                if let Ok(url) = page.join(&link) {
                    self.keep(url, &mut render);
                }
            }
        }
        if let Ok(seen) = captured.lock() {
            render.actions = seen.actions.clone();
            render.offsite += seen.offsite;
            for url in &seen.gets {
                self.keep(url.clone(), &mut render);
            }
        }
        render.links.remove(&scope::normalize(page));
        tracing::debug!(
            page = %page,
            identity = %session.identity.name,
            links = render.links.len(),
            ms = started.elapsed().as_millis() as u64,
            "rendered"
        );
        render
    }

    fn keep(&self, mut url: Url, render: &mut Render) {
        match url.scheme() {
            "ws" => {
                let _ = url.set_scheme("http");
            }
            "wss" => {
                let _ = url.set_scheme("https");
            }
            "http" | "https" => {}
            _ => return,
        }
        if url.origin() == self.origin {
            render.links.insert(scope::normalize(&url));
        } else {
            render.offsite += 1;
        }
    }

    async fn open_tab(
        &self,
        session: &Session,
        captured: Arc<Mutex<Captured>>,
    ) -> Result<Tab, String> {
        let context = self.context(&session.identity.name).await?;
        let browser = self.browser.read().await;
        let mut target = CreateTargetParams::new("about:blank");
        target.browser_context_id = Some(context);
        let page = browser
            .new_page(target)
            .await
            .map_err(|e| format!("cannot open a tab: {e}"))?;
        drop(browser);
        let cookies: Vec<CookieParam> = session
            .site_cookies()
            .into_iter()
            .map(|(name, value)| {
                let mut cookie = CookieParam::new(name, value);
                cookie.url = Some(self.base.to_string());
                cookie
            })
            .collect();
        if !cookies.is_empty() {
            page.execute(SetCookiesParams::new(cookies))
                .await
                .map_err(|e| format!("cannot set the identity's cookies: {e}"))?;
        }
        // Two tabs render at once and only one has the focus: a page that believes itself in
        // the background gets its timers throttled to one a second, and would seem to settle.
        page.execute(SetFocusEmulationEnabledParams::new(true))
            .await
            .map_err(|e| format!("cannot emulate focus: {e}"))?;
        page.execute(AddScriptToEvaluateOnNewDocumentParams::new(HOOKS))
            .await
            .map_err(|e| format!("cannot install the route hooks: {e}"))?;
        let headers: Vec<HeaderEntry> = session
            .browser_headers()
            .into_iter()
            .map(|(name, value)| HeaderEntry::new(name, value))
            .collect();
        let mut paused = page
            .event_listener::<EventRequestPaused>()
            .await
            .map_err(|e| format!("cannot intercept requests: {e}"))?;
        // chromiumoxide asks for interception when it attaches to the tab, without waiting
        // for the answer: asked again, and awaited, no request of the page can pass unseen.
        let intercept = FetchEnableParams::builder()
            .handle_auth_requests(true)
            .pattern(RequestPattern::builder().url_pattern("*").build())
            .build();
        page.execute(intercept)
            .await
            .map_err(|e| format!("cannot intercept requests: {e}"))?;
        let mut finished = page
            .event_listener::<EventLoadingFinished>()
            .await
            .map_err(|e| format!("cannot watch the network: {e}"))?;
        let mut failed = page
            .event_listener::<EventLoadingFailed>()
            .await
            .map_err(|e| format!("cannot watch the network: {e}"))?;
        let gate = Gate {
            origin: self.origin.clone(),
            scope: self.scope.clone(),
            headers,
        };
        let interceptor = {
            let page = page.clone();
            let captured = captured.clone();
            tokio::spawn(async move {
                while let Some(event) = paused.next().await {
                    let verdict = gate.decide(&event, &captured);
                    tracing::trace!(
                        url = %event.request.url,
                        method = %event.request.method,
                        sent = matches!(verdict, Decision::Continue(_)),
                        "browser request"
                    );
                    let sent = match verdict {
                        Decision::Continue(headers) => {
                            let mut params = ContinueRequestParams::new(event.request_id.clone());
                            params.headers = headers;
                            page.execute(params).await.map(|_| ())
                        }
                        Decision::Fail => page
                            .execute(FailRequestParams::new(
                                event.request_id.clone(),
                                ErrorReason::BlockedByClient,
                            ))
                            .await
                            .map(|_| ()),
                    };
                    if let Err(err) = sent {
                        tracing::debug!(error = %err, "interception answer");
                    }
                }
            })
        };
        let watcher = {
            let captured = captured.clone();
            tokio::spawn(async move {
                loop {
                    let id = tokio::select! {
                        Some(done) = finished.next() => done.request_id.inner().clone(),
                        Some(done) = failed.next() => done.request_id.inner().clone(),
                        else => break,
                    };
                    if let Ok(mut seen) = captured.lock() {
                        seen.open.remove(&id);
                    }
                }
            })
        };
        Ok(Tab {
            page,
            tasks: vec![interceptor, watcher],
        })
    }

    /// Navigates, waits for the network to settle, clicks what is safe. `Err` says why the
    /// page did not finish.
    async fn drive(
        &self,
        tab: &Tab,
        page: &Url,
        deadline: Instant,
        captured: &Arc<Mutex<Captured>>,
    ) -> Result<(), Unrendered> {
        let navigate = tokio::time::timeout_at(
            deadline.into(),
            tab.page.execute(NavigateParams::new(page.as_str())),
        )
        .await;
        match navigate {
            Err(_) => return Err(Unrendered::HitCap),
            Ok(Err(err)) => return Err(Unrendered::Failed(format!("navigation: {err}"))),
            Ok(Ok(answer)) => {
                if let Some(why) = &answer.result.error_text {
                    return Err(Unrendered::Failed(format!("navigation: {why}")));
                }
            }
        }
        settle(deadline, captured).await?;
        let labels: Vec<String> =
            match tokio::time::timeout_at(deadline.into(), tab.page.evaluate(CLICKABLE)).await {
                Err(_) => return Err(Unrendered::HitCap),
                Ok(Err(err)) => return Err(Unrendered::Failed(format!("reading the page: {err}"))),
                Ok(Ok(value)) => value.into_value().unwrap_or_default(),
            };
        let safe = labels
            .iter()
            .enumerate()
            .filter(|(_, label)| scope::destructive_token(label).is_none())
            .map(|(i, _)| i)
            .take(MAX_CLICKS);
        for index in safe {
            let click = format!(
                "(() => {{ const e = (window.__lowprivClickable || [])[{index}]; if (!e) return false; e.click(); return true; }})()"
            );
            match tokio::time::timeout_at(deadline.into(), tab.page.evaluate(click)).await {
                Err(_) => return Err(Unrendered::HitCap),
                // The page navigated away under the click: the rest of the list is gone.
                Ok(Err(_)) => break,
                Ok(Ok(clicked)) => {
                    if !clicked.into_value::<bool>().unwrap_or(false) {
                        break;
                    }
                }
            }
            settle(deadline, captured).await?;
        }
        Ok(())
    }
}

impl Drop for Renderer {
    fn drop(&mut self) {
        // `close` was not reached (an error or a panic): chromiumoxide's child is killed on
        // drop, and the profile goes with it.
        self.handler.abort();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

struct Tab {
    page: Page,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// What a tab's requests showed, shared with its interception task.
struct Captured {
    gets: BTreeSet<Url>,
    actions: BTreeSet<Action>,
    offsite: usize,
    /// Requests continued and not yet finished or failed, by network id.
    open: HashSet<String>,
    last_request: Instant,
}

impl Captured {
    fn new() -> Captured {
        Captured {
            gets: BTreeSet::new(),
            actions: BTreeSet::new(),
            offsite: 0,
            open: HashSet::new(),
            last_request: Instant::now(),
        }
    }
}

enum Decision {
    Continue(Option<Vec<HeaderEntry>>),
    Fail,
}

/// The one rule for what a page may send.
struct Gate {
    origin: Origin,
    scope: Arc<Scope>,
    /// The identity's credential headers, added to same-origin requests only.
    headers: Vec<HeaderEntry>,
}

impl Gate {
    fn decide(&self, event: &EventRequestPaused, captured: &Mutex<Captured>) -> Decision {
        let Ok(mut seen) = captured.lock() else {
            return Decision::Fail;
        };
        seen.last_request = Instant::now();
        let Ok(url) = Url::parse(&event.request.url) else {
            return Decision::Fail;
        };
        if url.origin() != self.origin {
            seen.offsite += 1;
            return Decision::Fail;
        }
        let method = event.request.method.to_ascii_uppercase();
        if method != "GET" && method != "HEAD" {
            seen.actions.insert(Action {
                method,
                url: scope::normalize(&url).to_string(),
                source: "browser".to_string(),
                fields: Vec::new(),
            });
            return Decision::Fail;
        }
        if wanted(&event.resource_type) && url.path() != "/favicon.ico" {
            seen.gets.insert(scope::normalize(&url));
        }
        if !matches!(self.scope.check(&url), Admission::Crawl) {
            // The crawl hears of it (and says why it is skipped); the browser never sends it.
            return Decision::Fail;
        }
        let id = event
            .network_id
            .as_ref()
            .map_or_else(|| event.request_id.inner().clone(), |id| id.inner().clone());
        seen.open.insert(id);
        drop(seen);
        if self.headers.is_empty() {
            return Decision::Continue(None);
        }
        let mut headers: Vec<HeaderEntry> = event
            .request
            .headers
            .inner()
            .as_object()
            .map(|all| {
                all.iter()
                    .filter(|(name, _)| {
                        !self
                            .headers
                            .iter()
                            .any(|h| h.name.eq_ignore_ascii_case(name))
                    })
                    .filter_map(|(name, value)| {
                        value.as_str().map(|v| HeaderEntry::new(name.clone(), v))
                    })
                    .collect()
            })
            .unwrap_or_default();
        headers.extend(self.headers.iter().cloned());
        Decision::Continue(Some(headers))
    }
}

/// Requests that name an endpoint or a page; images, fonts and styles do not.
fn wanted(kind: &ResourceType) -> bool {
    matches!(
        kind,
        ResourceType::Document
            | ResourceType::Script
            | ResourceType::Xhr
            | ResourceType::Fetch
            | ResourceType::EventSource
            | ResourceType::WebSocket
            | ResourceType::Other
    )
}

/// Waits until no request is open and none started for [`QUIET`], or the deadline.
async fn settle(deadline: Instant, captured: &Mutex<Captured>) -> Result<(), Unrendered> {
    loop {
        let quiet = match captured.lock() {
            Ok(seen) => seen.open.is_empty() && seen.last_request.elapsed() >= QUIET,
            Err(_) => return Err(Unrendered::Failed("internal state lost".to_string())),
        };
        if quiet {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Unrendered::HitCap);
        }
        tokio::time::sleep(Duration::from_millis(50).min(deadline - Instant::now())).await;
    }
}

async fn read_links(tab: &Tab) -> Result<Vec<String>, String> {
    let value = tab
        .page
        .evaluate(DOM_LINKS)
        .await
        .map_err(|e| e.to_string())?;
    value.into_value().map_err(|e| e.to_string())
}

/// Runs before the page's own scripts: client-side routes are noted, WebSockets refused.
const HOOKS: &str = r#"(() => {
  const routes = (window.__lowprivRoutes = []);
  const note = () => routes.push(String(location.href));
  for (const name of ["pushState", "replaceState"]) {
    const original = history[name];
    history[name] = function (...args) {
      const result = original.apply(this, args);
      note();
      return result;
    };
  }
  addEventListener("hashchange", note);
  addEventListener("popstate", note);
  const sockets = (window.__lowprivSockets = []); // sockets and popups
  window.WebSocket = function (url) {
    sockets.push(String(new URL(url, location.href)));
    throw new DOMException("blocked by lowpriv", "SecurityError");
  };
  // A popup would be a new target, outside this tab's interception: noted, never opened.
  window.open = function (url) {
    if (url) sockets.push(String(new URL(url, location.href)));
    return null;
  };
})();"#;

/// The safe-looking things to click, kept on `window` for the clicks that follow; each one's
/// label (text, id, class) is checked in Rust against the destructive words.
const CLICKABLE: &str = r##"(() => {
  const all = [...document.querySelectorAll('[role=tab], a[href^="#"], button[type=button]')]
    .filter((e) => e.tagName !== "BUTTON" || !e.closest("form"));
  window.__lowprivClickable = all;
  return all.map((e) =>
    [e.textContent || "", e.id || "", String(e.className || ""), e.getAttribute("href") || ""]
      .join(" ")
      .slice(0, 300)
  );
})()"##;

/// Every URL the rendered DOM names, the routes the page went through, the sockets it tried.
const DOM_LINKS: &str = r#"(() => {
  const out = [];
  for (const e of document.querySelectorAll("a[href], area[href], link[href], iframe[src], frame[src], script[src]")) {
    out.push(String(e.href || e.src || ""));
  }
  for (const f of document.querySelectorAll("form")) {
    if ((f.getAttribute("method") || "get").toLowerCase() === "get") out.push(String(f.action || ""));
  }
  return out.concat(window.__lowprivRoutes || [], window.__lowprivSockets || []).filter(Boolean);
})()"#;

fn fresh_profile() -> Result<PathBuf, BrowserError> {
    let parent = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = parent.join(format!("lowpriv-chromium-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| BrowserError::Profile {
        dir: parent.display().to_string(),
        source,
    })?;
    Ok(dir)
}

/// Whether an HTML page would run same-origin scripts (a `<script>` with a same-origin
/// `src`, or inline code): what a crawl without `--browser` cannot see. A byte scan, not a
/// parse, so the plain crawl pays next to nothing for it.
pub fn runs_scripts(body: &str, page: &Url) -> bool {
    let text = crate::markup::bounded(body);
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = find_ignore_case(&bytes[from..], b"<script") {
        let tag_start = from + at + b"<script".len();
        let Some(close) = memchr::memchr(b'>', &bytes[tag_start..]) else {
            return false;
        };
        // Only the tag is lowercased: a few bytes, not the page.
        let tag = text[tag_start..tag_start + close].to_ascii_lowercase();
        let after = tag_start + close + 1;
        if let Some(src) = attribute(&tag, "src") {
            if page.join(src).is_ok_and(|u| u.origin() == page.origin()) {
                return true;
            }
        } else if !tag.contains("json") && !tag.contains("template") {
            let code_end = find_ignore_case(&bytes[after..], b"</script")
                .map_or(bytes.len(), |end| after + end);
            if !text[after..code_end].trim().is_empty() {
                return true;
            }
        }
        from = after;
    }
    false
}

/// Where `needle` (lowercase ASCII) starts in `haystack`, ignoring ASCII case.
fn find_ignore_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'<', haystack).find(|&at| {
        haystack
            .get(at..at + needle.len())
            .is_some_and(|window| window.eq_ignore_ascii_case(needle))
    })
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(&format!("{name}="))?;
    let value = &tag[at + name.len() + 1..];
    let (quote, value) = match value.chars().next()? {
        q @ ('"' | '\'') => (q, &value[1..]),
        _ => (' ', value),
    };
    Some(value.split(quote).next().unwrap_or(value))
}

/// What the crawl does with one answered request when the run has (or lacks) a browser:
/// an HTML page that answered 2xx is rendered, once per template, and what it found joins
/// `links` and `actions`. Returns the page's note for the report, if its scripts did not
/// all run, and the count of requests to other origins that were blocked.
pub async fn visit(
    renderer: Option<&Renderer>,
    session: &Session,
    request: &Request,
    response: &Result<Response, FetchError>,
    links: &mut Vec<(Url, Via)>,
    actions: &mut Vec<Action>,
) -> (Option<Unrendered>, usize) {
    let Ok(answer) = response else {
        return (None, 0);
    };
    if !(200..300).contains(&answer.status) || !answer.is_html() || answer.body.is_empty() {
        return (None, 0);
    }
    let Some(renderer) = renderer else {
        let unrendered = runs_scripts(&answer.text(), &answer.final_url);
        return (unrendered.then_some(Unrendered::NoBrowser), 0);
    };
    if !renderer.first_of_template(&session.identity.name, request) {
        return (None, 0);
    }
    let render = renderer.render(session, &answer.final_url).await;
    links.extend(render.links.into_iter().map(|u| (u, Via::Browser)));
    actions.extend(render.actions);
    (render.unrendered, render.offsite)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_failed_render_makes_the_crawl_incomplete() {
        let url = |p: &str| Url::parse("http://site.test").unwrap().join(p).unwrap();
        let mut pages = BTreeMap::new();
        pages.insert(url("/a"), Unrendered::NoBrowser);
        pages.insert(url("/live"), Unrendered::HitCap);
        assert_eq!(
            failures(&pages),
            None,
            "no browser, or a page that never settles"
        );
        pages.insert(
            url("/b"),
            Unrendered::Failed("the browser went away".into()),
        );
        pages.insert(url("/c"), Unrendered::Failed("crashed".into()));
        let why = failures(&pages).unwrap();
        assert!(
            why.starts_with(
                "--browser could not render 2 page(s) (first: /b: the browser went away)"
            ),
            "{why}"
        );
    }

    #[test]
    fn pages_that_run_same_origin_scripts_are_told_apart() {
        let page = Url::parse("http://127.0.0.1:9/app").unwrap();
        let cases = [
            (r#"<script src="/app/app.js"></script>"#, true),
            (r#"<SCRIPT SRC='app.js' defer></SCRIPT>"#, true),
            (r#"<script>draw()</script>"#, true),
            (r#"<script src="https://cdn.example/x.js"></script>"#, false),
            (r#"<script type="application/json">{"a":1}</script>"#, false),
            (r#"<script>  </script><p>plain</p>"#, false),
            ("<p>no scripts at all</p>", false),
        ];
        for (html, expected) in cases {
            assert_eq!(runs_scripts(html, &page), expected, "{html}");
        }
    }

    #[test]
    fn only_labels_without_a_destructive_word_are_clicked() {
        let cases = [
            ("Salaries  tab #", None),
            ("Reports   #/reports", None),
            ("Delete row btn-danger ", Some("delete")),
            ("  remove-user ", Some("remove")),
            ("Sign out  nav-signout #", Some("signout")),
            ("Undeleted items  ", None),
        ];
        for (label, expected) in cases {
            assert_eq!(scope::destructive_token(label), expected, "{label}");
        }
    }

    #[test]
    fn a_named_chromium_that_is_missing_says_how_to_install_one() {
        let err = locate(Some(Path::new("/nonexistent/chromium"))).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("apt-get install chromium"), "{text}");
        assert!(text.contains("--chromium PATH"), "{text}");
        assert!(text.contains("LOWPRIV_CHROMIUM"), "{text}");
    }
}
