//! The crawl: per identity, a concurrent frontier from the seeds (and the OpenAPI document)
//! outwards, bounded by `concurrency`, `max_depth` and `max_requests`, with the Site's shared
//! rate limit applied by the session.
//!
//! Input: logged-in [`Session`]s. Output: a [`CrawlMap`]: per identity, what it was shown and
//! what each of those requests gave (as observed by the caller's [`Observe`], so a body is
//! read once and dropped here), what was skipped and why, the actions seen, and whether the
//! crawl was cut short. Invariants: only GET is sent; nothing outside [`scope::Scope`] is sent;
//! every request is sent at most once per identity (URLs are normalized first).

pub mod discover;
pub mod holes;
pub mod scope;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use tokio::task::JoinSet;
use url::Url;

pub use discover::Action;
use scope::{Admission, Scope};

use crate::progress::ProgressHandle;
use crate::scenario::{Identity, Scenario};
use crate::session::{FetchError, Response, Session};

/// One request the crawler may send. Only GET for now; the method is kept for the report.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Request {
    pub method: String,
    pub url: Url,
}

impl Request {
    pub fn get(url: Url) -> Request {
        Request {
            method: "GET".to_string(),
            url: scope::normalize(&url),
        }
    }

    pub fn template(&self) -> String {
        scope::template(&self.url)
    }
}

/// Turns one response into whatever the caller keeps. Called once per request, while the body
/// is still held, so later stages never need bodies.
pub trait Observe: Send + Sync + 'static {
    type Output: Send + 'static;
    /// `shown`: the identity found this request itself (seed, link, script, OpenAPI), as
    /// opposed to having it replayed from another identity's discoveries.
    fn observe(
        &self,
        identity: &Identity,
        request: &Request,
        result: &Result<Response, FetchError>,
        shown: bool,
    ) -> Self::Output;
}

/// What one identity's crawl found.
#[derive(Debug)]
pub struct IdentityCrawl<O> {
    pub identity: String,
    /// Requests sent, in the order they completed.
    pub fetched: Vec<(Request, O)>,
    /// Requests found on the Site but not sent, with the reason.
    pub skipped: BTreeMap<Request, String>,
    pub actions: BTreeSet<Action>,
    /// Paths with unfilled parameters (from JS or OpenAPI).
    pub templates: BTreeSet<String>,
    /// Route templates declared by the Site (OpenAPI paths).
    pub routes: BTreeSet<String>,
    /// Links to other origins: never sent, counted.
    pub offsite_links: usize,
    /// Why the crawl stopped before its frontier was empty, if it did.
    pub truncated: Option<String>,
}

impl<O> IdentityCrawl<O> {
    fn new(identity: &str) -> Self {
        IdentityCrawl {
            identity: identity.to_string(),
            fetched: Vec::new(),
            skipped: BTreeMap::new(),
            actions: BTreeSet::new(),
            templates: BTreeSet::new(),
            routes: BTreeSet::new(),
            offsite_links: 0,
            truncated: None,
        }
    }
}

/// Every identity's crawl, in session order.
#[derive(Debug)]
pub struct CrawlMap<O> {
    pub identities: Vec<IdentityCrawl<O>>,
}

#[derive(Clone, Debug)]
struct Limits {
    concurrency: usize,
    max_per_template: usize,
    max_depth: u32,
    max_requests: usize,
    openapi: Option<Url>,
    seeds: Vec<Url>,
}

/// Crawls the Site as every identity whose login held, all identities at once.
pub async fn run<O: Observe>(
    sessions: &[Arc<Session>],
    scenario: &Scenario,
    observer: Arc<O>,
    progress: &ProgressHandle,
) -> CrawlMap<O::Output> {
    let scope = Arc::new(Scope::new(scenario));
    let site = match sessions.first() {
        Some(s) => s.site.clone(),
        None => {
            return CrawlMap {
                identities: Vec::new(),
            };
        }
    };
    let limits = Limits {
        concurrency: scenario.crawl.concurrency.max(1),
        max_per_template: scenario.crawl.max_per_template.max(1) as usize,
        max_depth: scenario.crawl.max_depth,
        max_requests: scenario.crawl.max_requests as usize,
        openapi: scenario
            .crawl
            .openapi
            .as_deref()
            .and_then(|p| site.resolve(p)),
        seeds: scenario
            .crawl
            .seeds
            .iter()
            .filter_map(|s| site.resolve(s))
            .collect(),
    };
    let crawls = sessions.iter().map(|session| {
        let scope = scope.clone();
        let observer = observer.clone();
        let limits = limits.clone();
        let session = session.clone();
        let progress = progress.clone();
        async move {
            if !session.status.is_usable() {
                return IdentityCrawl::new(&session.identity.name);
            }
            crawl_one(session, scope, observer, limits, progress).await
        }
    });
    CrawlMap {
        identities: futures::future::join_all(crawls).await,
    }
}

async fn crawl_one<O: Observe>(
    session: Arc<Session>,
    scope: Arc<Scope>,
    observer: Arc<O>,
    limits: Limits,
    progress: ProgressHandle,
) -> IdentityCrawl<O::Output> {
    let mut result = IdentityCrawl::new(&session.identity.name);
    let mut frontier = Frontier {
        scope: &scope,
        limits: &limits,
        seen: HashMap::new(),
        queue: VecDeque::new(),
        depth_limited: 0,
        per_template: HashMap::new(),
    };
    let starts = limits.seeds.iter().chain(limits.openapi.iter());
    for url in starts {
        frontier.offer(Request::get(url.clone()), 0, &mut result);
    }
    let mut in_flight = JoinSet::new();
    let mut sent = 0usize;
    loop {
        while in_flight.len() < limits.concurrency
            && sent < limits.max_requests
            && !session.site.stop.is_stopped()
        {
            let Some((request, depth)) = frontier.queue.pop_front() else {
                break;
            };
            sent += 1;
            let session = session.clone();
            let observer = observer.clone();
            let openapi = limits.openapi.clone();
            in_flight.spawn(async move {
                let response = session.fetch(&request.url).await;
                let failed = response.as_ref().map_or(true, |r| r.status >= 500);
                let found = discover_from(&response, &request, openapi.as_ref());
                let observation = observer.observe(&session.identity, &request, &response, true);
                (request, depth, observation, found, failed)
            });
        }
        let stop = &session.site.stop;
        let joined = tokio::select! {
            biased;
            _ = stop.stopped() => {
                // Dropping the set aborts what is in flight: nothing more is sent.
                result.truncated.get_or_insert(format!(
                    "stopped: {}",
                    stop.reason().unwrap_or_else(|| "stopped".to_string())
                ));
                break;
            }
            joined = in_flight.join_next() => joined,
        };
        let Some(joined) = joined else {
            break;
        };
        let (request, depth, observation, found, failed) = match joined {
            Ok(done) => done,
            Err(err) => {
                // A panicking task is a bug in us; the crawl is no longer complete.
                result.truncated = Some(format!("internal error in a crawl task: {err}"));
                continue;
            }
        };
        progress.answered(&session.identity.name, failed);
        result.fetched.push((request, observation));
        result.actions.extend(found.actions);
        result.templates.extend(found.templates);
        result.routes.extend(found.routes);
        for link in found.links {
            frontier.offer(Request::get(link), depth + 1, &mut result);
        }
        progress.queued(
            &session.identity.name,
            frontier.queue.len() + in_flight.len(),
        );
    }
    if !frontier.queue.is_empty() {
        let left = frontier.queue.len();
        result.truncated.get_or_insert(format!(
            "max_requests ({}) reached with {left} URLs still queued",
            limits.max_requests
        ));
    } else if frontier.depth_limited > 0 {
        result.truncated.get_or_insert(format!(
            "max_depth ({}) left {} URLs unvisited",
            limits.max_depth, frontier.depth_limited
        ));
    }
    result
}

/// One identity's queue of requests to send, and what bounds it.
struct Frontier<'a> {
    scope: &'a Scope,
    limits: &'a Limits,
    /// Every URL queued so far, with the depth it was found at.
    seen: HashMap<Url, u32>,
    queue: VecDeque<(Request, u32)>,
    /// URLs of templates never observed that max_depth kept out.
    depth_limited: usize,
    /// Requests queued per template (max_per_template).
    per_template: HashMap<String, usize>,
}

impl Frontier<'_> {
    /// Queues a request found at `depth`, or records in `result` why it is not sent.
    fn offer<O>(&mut self, request: Request, depth: u32, result: &mut IdentityCrawl<O>) {
        let limits = self.limits;
        match self.scope.check(&request.url) {
            Admission::Offsite => result.offsite_links += 1,
            Admission::Skip(reason) => {
                result.skipped.entry(request).or_insert(reason);
            }
            Admission::Crawl => {
                if self.seen.contains_key(&request.url) {
                    return;
                }
                let template = request.template();
                if depth > limits.max_depth {
                    // Past the depth limit, a template already crawled is still in the matrix;
                    // only a template never seen is part of the Site left unobserved.
                    let covered = self.per_template.get(&template).is_some_and(|n| *n > 0);
                    if !covered {
                        self.depth_limited += 1;
                    }
                    result.skipped.entry(request).or_insert_with(|| {
                        if covered {
                            format!(
                                "beyond max_depth ({}); {template} already observed",
                                limits.max_depth
                            )
                        } else {
                            format!("beyond max_depth ({})", limits.max_depth)
                        }
                    });
                    return;
                }
                let sent = self.per_template.entry(template.clone()).or_insert(0);
                if *sent >= limits.max_per_template {
                    // A trap (an endless calendar, ever-new queries) or just a big table: the
                    // template's row is already observed; its further URLs are listed, not sent.
                    result.skipped.entry(request).or_insert_with(|| {
                        format!(
                            "over max_per_template ({}) for {template}",
                            limits.max_per_template
                        )
                    });
                    return;
                }
                *sent += 1;
                result.skipped.remove(&request);
                self.seen.insert(request.url.clone(), depth);
                self.queue.push_back((request, depth));
            }
        }
    }
}

/// Everything a response points at: redirects, `Link` headers, and its body by type.
fn discover_from(
    response: &Result<Response, FetchError>,
    request: &Request,
    openapi: Option<&Url>,
) -> discover::Discovery {
    let Ok(response) = response else {
        return discover::Discovery::default();
    };
    let mut found = discover::Discovery::default();
    found.links.extend(response.redirects.iter().cloned());
    for link in &response.link_headers {
        if let Ok(url) = response.final_url.join(link) {
            found.links.push(url);
        }
    }
    if !(200..300).contains(&response.status) || response.body.is_empty() {
        return found;
    }
    let text = response.text();
    let content_type = response.content_type.as_deref().unwrap_or("");
    let path = request.url.path();
    let is_openapi = openapi == Some(&request.url)
        || (content_type.contains("json")
            && text.trim_start().starts_with('{')
            && (text.contains("\"openapi\"") || text.contains("\"swagger\"")));
    let more = if is_openapi {
        discover::openapi(&text, &response.final_url)
    } else if response.is_html() {
        discover::html(&text, &response.final_url)
    } else if content_type.contains("javascript") || path.ends_with(".js") || path.ends_with(".mjs")
    {
        discover::javascript(&text, &response.final_url)
    } else {
        discover::Discovery::default()
    };
    found.links.extend(more.links);
    found.actions.extend(more.actions);
    found.templates.extend(more.templates);
    found.routes.extend(more.routes);
    found
}
