//! Gathering: the crawl's and the replay's observations of every usable identity into one
//! sorted list, with the requests no identity sent (`skipped` cells), the actions each
//! identity was shown, and the holes no value filled.
//!
//! Input: the sessions, the [`CrawlMap`] and the [`ReplayLog`]. Output: [`Observations`].
//! Invariants: an identity whose login failed contributes nothing (its cells would say
//! "denied" about a session that never existed); rows take the Site's own route templates
//! (OpenAPI paths) where they fit; the order is by template, method, URL, then identity in
//! scenario order, so concurrency never changes what follows.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use super::{Observation, finalize};
use crate::crawl::{Action, CrawlMap, Request};
use crate::replay::ReplayLog;
use crate::scenario::Scenario;
use crate::session::Session;

/// An action (a form, a write-capable endpoint) an identity was shown: recorded, never sent.
#[derive(Clone, Debug, Serialize)]
pub struct ActionSeen {
    pub identity: String,
    #[serde(flatten)]
    pub action: Action,
}

/// Everything observed in a run, ready to judge.
#[derive(Clone, Debug, Default)]
pub struct Observations {
    /// Sorted by template, method, URL, then identity in scenario order.
    pub all: Vec<Observation>,
    pub actions: Vec<ActionSeen>,
    /// Paths with parameters no value filled; not sent.
    pub unfilled_templates: Vec<String>,
}

pub fn collect(
    scenario: &Scenario,
    sessions: &[Arc<Session>],
    crawled: &CrawlMap<Observation>,
    replayed: ReplayLog<Observation>,
) -> Observations {
    let sent = crate::replay::union(crawled);
    let mut skipped: BTreeMap<&Request, &str> = BTreeMap::new();
    for identity in &crawled.identities {
        for (request, reason) in &identity.skipped {
            if !sent.contains(request) {
                skipped.entry(request).or_insert(reason.as_str());
            }
        }
    }

    let mut observations = Vec::new();
    let mut actions = Vec::new();
    let mut unfilled = BTreeSet::new();
    for ((session, own), replays) in sessions
        .iter()
        .zip(&crawled.identities)
        .zip(replayed.identities)
    {
        if !session.status.is_usable() {
            continue;
        }
        let identity = &session.identity;
        observations.extend(own.fetched.iter().map(|(_, o)| o.clone()));
        observations.extend(replays.replayed.into_iter().map(|(_, o)| o));
        for (request, reason) in &skipped {
            let shown = own.skipped.contains_key(*request);
            observations.push(Observation::skipped(&identity.name, request, reason, shown));
        }
        actions.extend(own.actions.iter().map(|a| ActionSeen {
            identity: identity.name.clone(),
            action: a.clone(),
        }));
        unfilled.extend(own.templates.iter().cloned());
    }
    // Provenance: the first identity in scenario order whose crawl found the URL, and how.
    let mut found: BTreeMap<u64, super::Found> = BTreeMap::new();
    for (session, own) in sessions.iter().zip(&crawled.identities) {
        for (key, via) in &own.via {
            found.entry(*key).or_insert_with(|| super::Found {
                via: *via,
                by: session.identity.name.clone(),
            });
        }
    }
    for obs in &mut observations {
        if let Some(first) = found.get(&crate::crawl::url_key(&obs.url)) {
            obs.found = Some(first.clone());
        }
    }
    drop(found);
    // The Site's own route templates (OpenAPI paths) name the rows where they fit, and the
    // scenario's presentation keys (`[crawl] presentation_params`) leave them.
    let routes: BTreeSet<&String> = crawled
        .identities
        .iter()
        .flat_map(|c| c.routes.iter())
        .collect();
    let routes = crate::crawl::scope::Routes::new(routes).with_params(&scenario.crawl.params);
    for obs in &mut observations {
        if let Ok(url) = url::Url::parse(&obs.url) {
            obs.template = routes.template(&url);
        }
    }
    // A request not sent (a destructive-looking query value, say) of a template that was
    // observed is not a cell of its own: the row is observed, and whether one of its
    // variants looked unsafe depends on the data, which must not move the snapshot.
    let observed: BTreeSet<(String, String)> = observations
        .iter()
        .filter(|o| o.outcome != super::Outcome::Skipped)
        .map(|o| (o.method.clone(), o.template.clone()))
        .collect();
    observations.retain(|o| {
        o.outcome != super::Outcome::Skipped
            || !observed.contains(&(o.method.clone(), o.template.clone()))
    });
    finalize(&mut observations, &scenario.identities);
    let order: BTreeMap<&str, usize> = scenario
        .identities
        .iter()
        .enumerate()
        .map(|(i, id)| (id.name.as_str(), i))
        .collect();
    observations.sort_by(|a, b| {
        (a.template.as_str(), a.method.as_str(), a.url.as_str())
            .cmp(&(b.template.as_str(), b.method.as_str(), b.url.as_str()))
            .then(
                order
                    .get(a.identity.as_str())
                    .cmp(&order.get(b.identity.as_str())),
            )
    });
    Observations {
        all: observations,
        actions,
        unfilled_templates: unfilled.into_iter().collect(),
    }
}
