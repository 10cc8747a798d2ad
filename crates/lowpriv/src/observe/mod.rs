//! Observations: one response → one outcome, the data classes it carries, its JSON shape and
//! a fingerprint of its content.
//!
//! Input: a response (or the error that stood in for it) while its body is still held.
//! Output: an [`Observation`]; the body is dropped by the caller right after. Invariants: an
//! error is never `allowed` or `denied`; a login page or a deny marker is never `allowed`;
//! `hidden` is only decided once every identity's answer for a request is known ([`finalize`]).

pub mod classify;
mod collect;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use scraper::{Html, Node};
use serde::Serialize;

pub use classify::{Classifier, DataHit};
pub use collect::{ActionSeen, Observations, collect};

use crate::crawl::{Observe, Request};
use crate::scenario::{Identity, Scenario};
use crate::session::{self, Answer, Failure, FetchError, Refusal, Response, SiteContext};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Allowed,
    Denied,
    Hidden,
    Error,
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Hidden => "hidden",
            Outcome::Error => "error",
            Outcome::Skipped => "skipped",
        }
    }

    /// Denied or hidden: the identity did not get the content.
    pub fn is_refused(self) -> bool {
        matches!(self, Outcome::Denied | Outcome::Hidden)
    }
}

/// A request's provenance: where it was found (`html`, `js`, `openapi`, `sitemap`, ...) and
/// the first identity, in scenario order, whose crawl found it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Found {
    pub via: crate::crawl::Via,
    pub by: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Observation {
    pub identity: String,
    pub method: String,
    pub url: String,
    pub template: String,
    pub status: Option<u16>,
    pub outcome: Outcome,
    /// Why this outcome, in a few words (`redirect to login`, `deny marker "Access denied"`,
    /// `timed out after 10 s`, ...).
    pub reason: String,
    pub content_type: Option<String>,
    pub bytes: usize,
    /// Data classes found, by class name.
    pub data: BTreeMap<String, DataHit>,
    /// JSON key paths (`$.employees[*].salary`), sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub json_paths: Vec<String>,
    /// Hash of the essential content (JSON canonicalised; HTML main text without navigation).
    pub fingerprint: Option<String>,
    /// The identity found this request itself; false when it was replayed from another's crawl.
    pub shown: bool,
    /// The body was cut at `max_body_bytes`; `data` covers what was read. A cut static asset
    /// keeps the outcome its status gives; any other cut body is an `error`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// The highest-ranked other identity that got the same content, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_as: Option<String>,
    /// Where the request was found, and by which identity first (scenario order): the same
    /// on every identity's observation of one URL. None for a source's probes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<Found>,
}

impl Observation {
    /// A request found but not sent.
    pub fn skipped(identity: &str, request: &Request, reason: &str, shown: bool) -> Observation {
        Observation {
            identity: identity.to_string(),
            method: request.method.clone(),
            url: request.url.to_string(),
            template: request.template(),
            status: None,
            outcome: Outcome::Skipped,
            reason: reason.to_string(),
            content_type: None,
            bytes: 0,
            data: BTreeMap::new(),
            json_paths: Vec::new(),
            fingerprint: None,
            shown,
            truncated: false,
            same_as: None,
            found: None,
        }
    }

    pub fn path(&self) -> &str {
        url_path(&self.url)
    }
}

/// The path of an absolute URL (no query, no fragment; `/` when it has none), without
/// parsing it: globs match paths, and this runs for every rule on every answer.
pub fn url_path(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let start = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    let end = url[start..]
        .find(['?', '#'])
        .map_or(url.len(), |i| start + i);
    if start == end { "/" } else { &url[start..end] }
}

/// The observer the crawl and replay call with each response.
#[derive(Debug)]
pub struct Observer {
    site: Arc<SiteContext>,
    classifier: Classifier,
}

impl Observer {
    pub fn new(scenario: &Scenario, site: Arc<SiteContext>) -> Observer {
        Observer {
            site,
            classifier: Classifier::for_scenario(scenario),
        }
    }

    /// The outcome by the session's refusal rule ([`session::interpret`]), with its reason.
    fn outcome(&self, response: &Response, text: &str) -> (Outcome, String) {
        match session::interpret(response, text, &self.site.deny_markers) {
            Answer::Content => (Outcome::Allowed, format!("{}", response.status)),
            Answer::Offsite(target) => (
                Outcome::Skipped,
                format!(
                    "redirects to another origin ({}); not followed",
                    target.origin().ascii_serialization()
                ),
            ),
            Answer::Refused(Refusal::LoginRedirect) => {
                (Outcome::Denied, "redirect to the login page".to_string())
            }
            Answer::Refused(Refusal::LoginPage) => {
                (Outcome::Denied, "answered with a login page".to_string())
            }
            Answer::Refused(Refusal::DenyMarker(marker)) => {
                (Outcome::Denied, format!("deny marker `{marker}`"))
            }
            // A 404 is provisional: it becomes `hidden` if another identity got the content
            // (see finalize).
            Answer::Refused(Refusal::Status(status)) => (Outcome::Denied, format!("{status}")),
            Answer::Failed(Failure::Throttled(status)) => (
                Outcome::Error,
                format!("{status}: the Site is throttling or slow"),
            ),
            Answer::Failed(Failure::ServerError(status)) => {
                (Outcome::Error, format!("{status}: server error"))
            }
            Answer::Failed(Failure::Unexpected(status)) => {
                (Outcome::Error, format!("unexpected status {status}"))
            }
        }
    }
}

impl Observe for Observer {
    type Output = Observation;

    fn observe(
        &self,
        identity: &Identity,
        request: &Request,
        result: &Result<Response, FetchError>,
        shown: bool,
    ) -> Observation {
        let mut observation = Observation::skipped(&identity.name, request, "", shown);
        let response = match result {
            Ok(response) => response,
            Err(FetchError::BodyTooLarge { limit, prefix }) => {
                // Not judged (the answer is incomplete), but what was read is classified, so
                // a secret in the first megabytes is still reported.
                observation.outcome = Outcome::Error;
                observation.reason = format!("body exceeds max_body_bytes ({limit} bytes)");
                observation.truncated = true;
                observation.bytes = prefix.len();
                let text = String::from_utf8_lossy(prefix);
                observation.data = self.classifier.classify(&text, None).0;
                return observation;
            }
            Err(error) => {
                observation.outcome = Outcome::Error;
                observation.reason = error.describe();
                return observation;
            }
        };
        let text = response.text();
        let (outcome, mut reason) = self.outcome(response, &text);
        if response.retries > 0 {
            reason.push_str(&format!(" (after {} retries)", response.retries));
        }
        if response.truncated {
            reason.push_str(&format!(
                " (a static asset cut at max_body_bytes, {} bytes read)",
                response.body.len()
            ));
        }
        observation.truncated = response.truncated;
        observation.status = Some(response.status);
        observation.outcome = outcome;
        observation.reason = reason;
        observation.content_type = response.content_type.clone();
        observation.bytes = response.body.len();
        if response.body.is_empty() {
            return observation;
        }
        let json = looks_like_json(response, &text)
            .then(|| serde_json::from_str::<serde_json::Value>(&text).ok())
            .flatten();
        let (data, json_paths) = self.classifier.classify(&text, json.as_ref());
        observation.data = data;
        observation.json_paths = json_paths;
        observation.fingerprint = Some(match &json {
            Some(json) => fingerprint(json.to_string().as_bytes()),
            None if response.is_html() => fingerprint(essential_text(&text).as_bytes()),
            None => fingerprint(&response.body),
        });
        observation
    }
}

fn looks_like_json(response: &Response, text: &str) -> bool {
    response
        .content_type
        .as_deref()
        .is_some_and(|ct| ct.contains("json"))
        || matches!(text.trim_start().chars().next(), Some('{' | '['))
}

/// 16 hex digits of FNV-1a 64: stable across runs and Rust versions.
fn fingerprint(bytes: &[u8]) -> String {
    format!("{:016x}", crate::fnv::fnv1a64(bytes.iter().copied()))
}

/// The text a page is about: its `<main>` if it has one, else the body without navigation,
/// headers, footers and scripts; whitespace collapsed. Who is signed in and which links the
/// menu offers differ per identity; the content is what must be compared.
fn essential_text(html: &str) -> String {
    let document = Html::parse_document(crate::markup::bounded(html));
    let main = document
        .select(&crate::markup::selector("main"))
        .next()
        .map(|m| *m);
    let root = main.unwrap_or_else(|| *document.root_element());
    let mut words = Vec::new();
    for node in root.descendants() {
        let Node::Text(text) = node.value() else {
            continue;
        };
        let skipped = node.ancestors().any(|a| {
            a.value().as_element().is_some_and(|e| {
                matches!(
                    e.name(),
                    "nav" | "header" | "footer" | "script" | "style" | "noscript" | "head"
                )
            })
        });
        if !skipped {
            words.extend(text.split_whitespace().map(str::to_string));
        }
    }
    words.join(" ")
}

/// Decides what needs every identity's answer: a 404 where another identity got the content
/// is `hidden`; and which higher-ranked identity, if any, got the same content.
pub fn finalize(observations: &mut [Observation], identities: &[Identity]) {
    let rank: HashMap<&str, i64> = identities
        .iter()
        .map(|i| (i.name.as_str(), i.rank))
        .collect();
    let mut by_url: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (index, obs) in observations.iter().enumerate() {
        by_url
            .entry((obs.method.clone(), obs.url.clone()))
            .or_default()
            .push(index);
    }
    for indices in by_url.values() {
        // (shown, rank, name, fingerprint) of every identity that got the content.
        let allowed: Vec<(bool, i64, String, Option<String>)> = indices
            .iter()
            .map(|&i| &observations[i])
            .filter(|o| o.outcome == Outcome::Allowed)
            .map(|o| {
                (
                    o.shown,
                    rank.get(o.identity.as_str()).copied().unwrap_or(0),
                    o.identity.clone(),
                    o.fingerprint.clone(),
                )
            })
            .collect();
        for &i in indices {
            let obs = &mut observations[i];
            if obs.outcome == Outcome::Denied && obs.status == Some(404) && !allowed.is_empty() {
                obs.outcome = Outcome::Hidden;
                obs.reason = "404, while another identity got the content".to_string();
            }
            if obs.outcome == Outcome::Allowed && obs.fingerprint.is_some() {
                let own_rank = rank.get(obs.identity.as_str()).copied().unwrap_or(0);
                // Prefer an identity the Site itself showed the request to: "carol got what
                // bob's menu links to" is the sentence a reviewer needs.
                obs.same_as = allowed
                    .iter()
                    .filter(|(_, r, name, fp)| {
                        *r > own_rank && *name != obs.identity && *fp == obs.fingerprint
                    })
                    .max_by(|a, b| {
                        (a.0, std::cmp::Reverse(a.1))
                            .cmp(&(b.0, std::cmp::Reverse(b.1)))
                            .then_with(|| b.2.cmp(&a.2))
                    })
                    .map(|(_, _, name, _)| name.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essential_text_ignores_navigation() {
        let a = "<html><body><nav>Signed in as carol <a href=/x>x</a></nav><main><h1>Payroll</h1> <p>Total  1</p></main></body></html>";
        let b = "<html><body><nav>Signed in as bob</nav><main><h1>Payroll</h1><p>Total 1</p></main></body></html>";
        assert_eq!(essential_text(a), "Payroll Total 1");
        assert_eq!(
            fingerprint(essential_text(a).as_bytes()),
            fingerprint(essential_text(b).as_bytes())
        );
        let no_main = "<html><head><title>t</title></head><body><header>h</header><p>Body</p><script>x()</script></body></html>";
        assert_eq!(essential_text(no_main), "Body");
    }

    #[test]
    fn paths_are_cut_from_urls() {
        let mut obs = Observation::skipped(
            "a",
            &Request::get(url::Url::parse("http://h:1/a/b?x=1").unwrap()),
            "",
            true,
        );
        assert_eq!(obs.path(), "/a/b");
        obs.url = "http://h/".to_string();
        assert_eq!(obs.path(), "/");
    }
}
