//! The crawl: per identity, a concurrent frontier from the seeds (and the OpenAPI document)
//! outwards, in rounds ordered by novelty (`frontier.rs`), bounded by `concurrency`,
//! `max_depth`, `max_per_template` and `max_requests`, with the Site's shared rate limit
//! applied by the session.
//!
//! Input: logged-in [`Session`]s. Output: a [`CrawlMap`]: per identity, what it was shown and
//! what each of those requests gave (as observed by the caller's [`Observe`], so a body is
//! read once and dropped here), what was skipped and why, the actions seen, and whether the
//! crawl was cut short, which is only when a template found in reach was never sent (query
//! variants of observed templates are sampled out, counted in [`Coverage`]). Invariants: only
//! GET is sent; nothing outside [`scope::Scope`] is sent; every request is sent at most once
//! per identity (URLs are normalized first); what is sent does not depend on concurrency or
//! on the order responses arrive.

pub mod browser;
pub mod discover;
pub mod frontier;
pub mod holes;
pub mod openapi;
pub mod scope;
pub mod sitemap;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::task::JoinSet;
use url::Url;

pub use discover::{Action, Via};
pub use frontier::{Budget, Coverage, Frontier, Unobserved};
use scope::{Admission, Scope};

use crate::progress::{CrawlProgress, ProgressHandle};
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
    /// Requests sent, in request order within each round of the frontier.
    pub fetched: Vec<(Request, O)>,
    /// Requests found on the Site but not sent, with the reason.
    pub skipped: BTreeMap<Request, String>,
    pub actions: BTreeSet<Action>,
    /// Paths with unfilled parameters (from JS or OpenAPI).
    pub templates: BTreeSet<String>,
    /// Route templates declared by the Site (OpenAPI paths).
    pub routes: BTreeSet<String>,
    /// Where each request this identity offered the frontier was first found, by
    /// [`url_key`] of its URL: 16 bytes an entry rather than a URL's hundred and more.
    pub via: BTreeMap<u64, Via>,
    /// API servers on other origins that an OpenAPI document named: never sent anything.
    pub offsite_servers: BTreeSet<String>,
    /// Links to other origins: never sent, counted (with `--browser`, a rendered page's
    /// requests to other origins too, which interception failed).
    pub offsite_links: usize,
    /// HTML pages whose scripts did not run to the end, and why: without `--browser`, every
    /// page that loads same-origin scripts; with it, the renders that failed or hit the cap.
    pub unrendered: BTreeMap<Url, browser::Unrendered>,
    /// Why the crawl stopped before its frontier was empty, if it did.
    pub truncated: Option<String>,
    /// Templates found and observed, URLs seen, sent and sampled out.
    pub coverage: Coverage,
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
            via: BTreeMap::new(),
            offsite_servers: BTreeSet::new(),
            offsite_links: 0,
            unrendered: BTreeMap::new(),
            truncated: None,
            coverage: Coverage::default(),
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
    budget: Budget,
    params: crate::scenario::QueryParams,
    openapi: Option<Url>,
    seeds: Vec<Url>,
}

/// Crawls the Site as every identity whose login held, all identities at once.
pub async fn run<O: Observe>(
    sessions: &[Arc<Session>],
    scenario: &Scenario,
    observer: Arc<O>,
    progress: &ProgressHandle,
    renderer: Option<Arc<browser::Renderer>>,
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
        budget: Budget {
            max_per_template: scenario.crawl.max_per_template.max(1) as usize,
            max_depth: scenario.crawl.max_depth,
            max_requests: scenario.crawl.max_requests as usize,
        },
        params: scenario.crawl.params.clone(),
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
        let renderer = renderer.clone();
        async move {
            if !session.status.is_usable() {
                return IdentityCrawl::new(&session.identity.name);
            }
            crawl_one(session, scope, observer, limits, progress, renderer).await
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
    renderer: Option<Arc<browser::Renderer>>,
) -> IdentityCrawl<O::Output> {
    let name = session.identity.name.clone();
    let mut result = IdentityCrawl::new(&name);
    let mut frontier = Frontier::new(&limits.params, limits.budget.clone());
    let starts = limits.seeds.iter().chain(limits.openapi.iter());
    for url in starts {
        let via = if Some(url) == limits.openapi.as_ref() {
            Via::Openapi
        } else {
            Via::Seed
        };
        offer(
            &scope,
            &mut frontier,
            Request::get(url.clone()),
            0,
            via,
            &mut result,
        );
    }
    // robots.txt and the sitemap are asked for whether or not anything links them; an answer
    // that is not one (a 404, the login page, an HTML catch-all) is dropped unobserved: the
    // Site never named these URLs, so their absence is not part of what it exposes.
    let mut guesses: BTreeSet<Url> = BTreeSet::new();
    for path in WELL_KNOWN {
        if let Some(url) = session.site.resolve(path) {
            let via = if *path == "/robots.txt" {
                Via::Robots
            } else {
                Via::Sitemap
            };
            let request = Request::get(url);
            let url = request.url.clone();
            if offer(&scope, &mut frontier, request, 0, via, &mut result) {
                guesses.insert(url);
            }
        }
    }
    let guesses = Arc::new(guesses);
    let stop = &session.site.stop;
    let mut sent = 0usize;
    let mut routes_known = 0usize;
    let mut ids = holes::IdIndex::default();
    let mut filled: BTreeSet<String> = BTreeSet::new();
    // Rounds with a barrier: a round's discoveries are offered only once the whole round is
    // answered, in URL order, so what the next round holds never depends on which response
    // came back first (see frontier.rs).
    loop {
        let mut round = frontier.next_round();
        if round.is_empty() && !stop.is_stopped() {
            // Nothing left to follow: fill the holes the listings seen so far give values for,
            // and crawl what that adds (its listings may fill further holes).
            fill_holes(
                &session,
                &scope,
                &mut frontier,
                &ids,
                &mut filled,
                &mut result,
            );
            round = frontier.next_round();
        }
        if round.is_empty() {
            break;
        }
        let mut round = round.into_iter();
        let mut in_flight = JoinSet::new();
        let mut found_links: BTreeMap<Url, (u32, Via)> = BTreeMap::new();
        let mut answered = Vec::new();
        let mut stopped = false;
        loop {
            while in_flight.len() < limits.concurrency
                && sent < limits.budget.max_requests
                && !stop.is_stopped()
            {
                let Some((request, depth)) = round.next() else {
                    break;
                };
                sent += 1;
                frontier.sent(&request);
                let session = session.clone();
                let observer = observer.clone();
                let openapi = limits.openapi.clone();
                let guessed = guesses.contains(&request.url);
                let renderer = renderer.clone();
                in_flight.spawn(async move {
                    let response = session.fetch(&request.url).await;
                    if guessed && !is_well_known_file(&request, &response) {
                        let nothing = (None, 0);
                        return (
                            request,
                            depth,
                            None,
                            discover::Discovery::default(),
                            false,
                            nothing,
                        );
                    }
                    let failed = response.as_ref().map_or(true, |r| r.status >= 500);
                    let mut found = discover_from(&response, &request, openapi.as_ref());
                    // After the plain discovery, and only adding to it: what the plain
                    // crawl sends is the same with or without a browser.
                    let rendered = browser::visit(
                        renderer.as_deref(),
                        &session,
                        &request,
                        &response,
                        &mut found.links,
                        &mut found.actions,
                    )
                    .await;
                    let observation =
                        observer.observe(&session.identity, &request, &response, true);
                    (request, depth, Some(observation), found, failed, rendered)
                });
            }
            let joined = tokio::select! {
                biased;
                _ = stop.stopped() => {
                    // Dropping the set aborts what is in flight: nothing more is sent.
                    result.truncated.get_or_insert(format!(
                        "stopped: {}",
                        stop.reason().unwrap_or_else(|| "stopped".to_string())
                    ));
                    stopped = true;
                    break;
                }
                joined = in_flight.join_next() => joined,
            };
            let Some(joined) = joined else {
                break;
            };
            let (request, depth, observation, found, failed, (unrendered, offsite)) = match joined {
                Ok(done) => done,
                Err(err) => {
                    // A panicking task is a bug in us; the crawl is no longer complete.
                    result.truncated = Some(format!("internal error in a crawl task: {err}"));
                    continue;
                }
            };
            progress.answered(&name, failed);
            result.offsite_links += offsite;
            if let Some(why) = unrendered {
                result.unrendered.insert(request.url.clone(), why);
            }
            match observation {
                Some(observation) => answered.push((request, observation)),
                None => {
                    tracing::debug!(identity = %name, url = %request.url, "no such file: not observed");
                    result.via.remove(&url_key(request.url.as_str()));
                }
            }
            result.actions.extend(found.actions);
            result.templates.extend(found.templates);
            result.routes.extend(found.routes);
            result.offsite_servers.extend(found.offsite_servers);
            ids.merge(found.ids);
            for (link, via) in found.links {
                let at = found_links
                    .entry(scope::normalize(&link))
                    .or_insert((depth + 1, via));
                // The shallowest depth wins, then the first source in `Via`'s order: neither
                // depends on which response of the round arrived first.
                *at = (*at).min((depth + 1, via));
            }
        }
        // Completion order is not an order: keep the fetched list in request order.
        answered.sort_by(|a, b| a.0.cmp(&b.0));
        result.fetched.extend(answered);
        if stopped {
            frontier.unsent(round);
            break;
        }
        if result.routes.len() != routes_known {
            routes_known = result.routes.len();
            frontier.learn_routes(&result.routes);
        }
        for (link, (depth, via)) in found_links {
            offer(
                &scope,
                &mut frontier,
                Request::get(link),
                depth,
                via,
                &mut result,
            );
        }
        progress.crawled(
            &name,
            CrawlProgress {
                templates_observed: frontier.templates_sent(),
                templates_waiting: frontier.unseen_waiting(),
                sent,
                queued: frontier.waiting(),
            },
        );
        let rest: Vec<(Request, u32)> = round.collect();
        if !rest.is_empty() {
            // max_requests reached within the round: the rest waits, and `finish` tells a
            // template never sent (a hole) from variants of observed ones (sampled out).
            frontier.unsent(rest);
            break;
        }
        if sent >= limits.budget.max_requests {
            break;
        }
    }
    let (coverage, holes) = frontier.finish(stop.is_stopped());
    for (request, why) in holes {
        let reason = match why {
            Unobserved::MaxRequests => format!(
                "not sent: max_requests ({}) reached first",
                limits.budget.max_requests
            ),
            Unobserved::MaxDepth => format!("beyond max_depth ({})", limits.budget.max_depth),
            Unobserved::Stopped => "not sent: the run was stopped".to_string(),
        };
        result.skipped.entry(request).or_insert(reason);
    }
    if let Some(why) = coverage.shortfall(&limits.budget) {
        result.truncated.get_or_insert(why);
    }
    result.coverage = coverage;
    result
}

/// Values for each unfilled hole, from the listings this identity was shown: at most a few
/// URLs per template, offered like links; a filled template leaves `templates` (which then
/// lists only the holes no value was found for).
fn fill_holes<O>(
    session: &Session,
    scope: &Scope,
    frontier: &mut Frontier,
    ids: &holes::IdIndex,
    filled: &mut BTreeSet<String>,
    result: &mut IdentityCrawl<O>,
) {
    let open: Vec<String> = result
        .templates
        .iter()
        .filter(|t| !filled.contains(*t))
        .cloned()
        .collect();
    for template in open {
        let paths = ids.fill(&template, HOLE_FILLS);
        if paths.is_empty() {
            continue;
        }
        for path in paths {
            if let Some(url) = session.site.resolve(&path) {
                offer(scope, frontier, Request::get(url), 1, Via::Hole, result);
            }
        }
        result.templates.remove(&template);
        filled.insert(template);
    }
}

/// URLs one `{param}` template is filled with, at most.
const HOLE_FILLS: usize = 5;

/// Files a request found at `depth` with the frontier, or records in `result` why it is
/// not sent.
fn offer<O>(
    scope: &Scope,
    frontier: &mut Frontier,
    request: Request,
    depth: u32,
    via: Via,
    result: &mut IdentityCrawl<O>,
) -> bool {
    match scope.check(&request.url) {
        Admission::Offsite => {
            result.offsite_links += 1;
            false
        }
        Admission::Skip(reason) => {
            result
                .via
                .entry(url_key(request.url.as_str()))
                .or_insert(via);
            result.skipped.entry(request).or_insert(reason);
            false
        }
        Admission::Crawl => {
            let key = url_key(request.url.as_str());
            let bare = unnarrowed(&request.url);
            let new = frontier.offer(request, depth);
            if new {
                result.via.insert(key, via);
            }
            if let Some(bare) = bare {
                // What an API returns to a caller who leaves the field selector off is what
                // it exposes; an app only ever asks for the fields it draws.
                offer(
                    scope,
                    frontier,
                    Request::get(bare),
                    depth,
                    Via::Unnarrowed,
                    result,
                );
            }
            new
        }
    }
}

/// The key of a (normalized) URL in [`IdentityCrawl::via`]: FNV-1a 64 of its text, so a
/// collision among a crawl's URLs is about a one in 40 million chance at a million of them, and costs
/// only a request's provenance label.
pub fn url_key(url: &str) -> u64 {
    crate::fnv::fnv1a64(url.bytes())
}

/// Query keys an API narrows its answer with (JSON:API `fields[type]`, OData `$select`,
/// PostgREST `select`, and the common spellings).
const NARROWING_KEYS: &[&str] = &[
    "fields", "fields[]", "_fields", "select", "$select", "columns",
];

/// The URL without its field selectors, when it has one.
fn unnarrowed(url: &Url) -> Option<Url> {
    let narrowing = |key: &str| {
        let key = key.to_ascii_lowercase();
        NARROWING_KEYS.contains(&key.as_str()) || (key.starts_with("fields[") && key.ends_with(']'))
    };
    if !url.query_pairs().any(|(k, _)| narrowing(&k)) {
        return None;
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !narrowing(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut bare = url.clone();
    if kept.is_empty() {
        bare.set_query(None);
    } else {
        bare.query_pairs_mut().clear().extend_pairs(kept);
    }
    Some(bare)
}

/// Paths asked for on every Site, linked or not.
const WELL_KNOWN: &[&str] = &["/robots.txt", "/sitemap.xml"];

/// Whether a guessed well-known URL answered with the file itself: 2xx, no redirect, and a
/// robots.txt that is not a page, or a sitemap that is one.
fn is_well_known_file(request: &Request, response: &Result<Response, FetchError>) -> bool {
    let Ok(response) = response else {
        return false;
    };
    if !(200..300).contains(&response.status)
        || !response.redirects.is_empty()
        || response.final_url.path() != request.url.path()
        || response.body.is_empty()
    {
        return false;
    }
    if request.url.path() == "/robots.txt" {
        !response.is_html()
    } else {
        sitemap::looks_like(&response.body, request.url.path())
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
    found.links.extend(
        response
            .redirects
            .iter()
            .map(|u| (u.clone(), Via::Redirect)),
    );
    for link in &response.link_headers {
        if let Ok(url) = response.final_url.join(link) {
            found.links.push((url, Via::Redirect));
        }
    }
    if !(200..300).contains(&response.status) || response.body.is_empty() {
        return found;
    }
    let content_type = response.content_type.as_deref().unwrap_or("");
    let path = request.url.path();
    if path == "/robots.txt" && !response.is_html() {
        let more = sitemap::robots(&response.text(), &response.final_url);
        found.links.extend(more.links);
        return found;
    }
    if sitemap::looks_like(&response.body, path) {
        let more = sitemap::sitemap(&response.body, &response.final_url);
        found.links.extend(more.links);
        return found;
    }
    let text = response.text();
    let declared = openapi == Some(&request.url);
    let more = if let Some(format) = openapi::looks_like(&text, path, content_type, declared) {
        openapi::discover(&text, format, &response.final_url)
    } else if discover::is_source_map(path, content_type, &text) {
        // The original sources a script's map holds: the code before it was minified.
        discover::source_map(&text, &response.final_url)
    } else if response.is_html() {
        discover::html(&text, &response.final_url)
    } else if content_type.contains("javascript") || path.ends_with(".js") || path.ends_with(".mjs")
    {
        discover::javascript(&text, &response.final_url)
    } else if content_type.contains("json") {
        // A listing's items name the ids a `{param}` hole can be filled with.
        let mut found = discover::Discovery::default();
        // Only a body with an array can list items: the rest is not parsed twice (the
        // observer reads every JSON body already).
        if memchr::memchr(b'[', text.as_bytes()).is_some()
            && let Ok(json) = serde_json::from_str::<serde_json::Value>(&text)
        {
            found.ids.record(response.final_url.path(), &json);
        }
        found
    } else {
        discover::Discovery::default()
    };
    found.links.extend(more.links);
    found.actions.extend(more.actions);
    found.templates.extend(more.templates);
    found.routes.extend(more.routes);
    found.ids.merge(more.ids);
    found.offsite_servers.extend(more.offsite_servers);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bare(url: &str) -> Option<String> {
        unnarrowed(&Url::parse(url).unwrap()).map(|u| u.to_string())
    }

    #[test]
    fn field_selectors_are_left_off_and_nothing_else_is() {
        let site = "http://site.test";
        assert_eq!(
            bare(&format!("{site}/api/people?fields=name,team")),
            Some(format!("{site}/api/people"))
        );
        assert_eq!(
            bare(&format!("{site}/api/people?fields[people]=name&page=2")),
            Some(format!("{site}/api/people?page=2")),
            "JSON:API sparse fieldsets; the page stays"
        );
        assert_eq!(
            bare(&format!("{site}/odata/People?$select=Name&$top=5")),
            Some(format!("{site}/odata/People?%24top=5"))
        );
        assert_eq!(
            bare(&format!("{site}/rest/people?select=name&COLUMNS=a")),
            Some(format!("{site}/rest/people"))
        );
        assert_eq!(bare(&format!("{site}/api/people?q=fields")), None);
        assert_eq!(bare(&format!("{site}/api/fields")), None);
        assert_eq!(bare(&format!("{site}/api/people?selected=1")), None);
    }
}
