//! Source-derived expectations: an identity may see on the Site what its own probes of the
//! data's `[[source]]` returned (`source-bypass`), unless a declaration speaks for the class
//! (a `visible_to` rule covering the path, or a canary's `belongs_to`).
//!
//! Two grains, both proven by the probes, never assumed:
//! - the class: the source gave this identity none of it, while it gave it to another
//!   identity (so the probes do reach that data);
//! - the records: the identity saw values of the class that the source returned to another
//!   identity and never to it (a colleague's compensation, when its own is fine).
//!
//! A value the Site shows that no probe returned to anyone (a sum, a rounded figure) proves
//! nothing and stays silent. A source whose login failed or whose probe errored leaves that
//! identity's view unknown: a reason the run is incomplete, never a silent pass.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::Evidence;
use super::context::{Context, DataVerdict};
use super::finding::{Finding, FindingKind};
use crate::observe::classify::MAX_VALUES;
use crate::observe::{Observation, Outcome};
use crate::source::SourceProbes;

/// What the sources say: findings, and why part of it is unknown.
#[derive(Default)]
pub(super) struct Sourced {
    pub findings: Vec<Finding>,
    pub incomplete: Vec<String>,
}

/// What one identity got of one class from one source.
#[derive(Default)]
struct View<'a> {
    /// Some probe's allowed answer held the class.
    seen: bool,
    values: HashSet<u64>,
    /// Some answer held as many values as are kept: its records cannot be compared.
    capped: bool,
    /// This identity's probes, in probe order.
    probes: Vec<&'a Observation>,
}

/// One source's answers, by class then identity.
struct Derived<'a> {
    source: &'a SourceProbes,
    views: HashMap<(&'a str, &'a str), View<'a>>,
    /// Per class, per value: the identities the source returned it to (scenario order).
    holders: HashMap<&'a str, HashMap<u64, BTreeSet<&'a str>>>,
    /// Identities whose view of the source is unknown (failed login, an errored probe).
    unknown: HashSet<&'a str>,
}

pub(super) fn check(ctx: &Context<'_>, evidence: &Evidence<'_>) -> Sourced {
    let mut out = Sourced::default();
    let mut derived: BTreeMap<&str, Derived<'_>> = BTreeMap::new();
    for source in &evidence.sources.sources {
        let classes: Vec<&str> = ctx
            .scenario
            .data
            .iter()
            .filter(|c| c.source.as_deref() == Some(source.name.as_str()))
            .map(|c| c.name.as_str())
            .collect();
        if classes.is_empty() {
            continue;
        }
        let view = derive(source, &classes);
        for identity in &source.identities {
            if !identity.logged_in {
                out.incomplete.push(format!(
                    "source `{}`: {} could not log in ({}): what it may see there is unknown",
                    source.name,
                    identity.identity,
                    identity.failure.as_deref().unwrap_or("no reason given")
                ));
            }
        }
        for obs in &source.observations {
            if obs.outcome == Outcome::Error {
                out.incomplete.push(format!(
                    "source `{}`: the probe {} as {} failed ({}): what it may see there is unknown",
                    source.name, obs.url, obs.identity, obs.reason
                ));
            }
        }
        derived.insert(source.name.as_str(), view);
    }
    if derived.is_empty() {
        return out;
    }
    for obs in evidence.observations {
        if obs.outcome != Outcome::Allowed {
            continue;
        }
        let Some(identity) = ctx.identities.get(obs.identity.as_str()).copied() else {
            continue;
        };
        for (class_name, hit) in &obs.data {
            let Some(class) = ctx.class(class_name) else {
                continue;
            };
            let Some(source) = class.source.as_deref().and_then(|s| derived.get(s)) else {
                continue;
            };
            // Declarations outrank what the source says.
            if class.belongs_to.is_some()
                || !matches!(
                    ctx.data_verdict(class_name, obs.path(), identity),
                    DataVerdict::Undeclared
                )
                || source.unknown.contains(identity.name.as_str())
            {
                continue;
            }
            if let Some(finding) = judge(source, obs, class_name, &hit.values) {
                let mut finding = finding;
                finding.rule = ctx
                    .scenario
                    .sources
                    .iter()
                    .find(|s| s.name == source.source.name)
                    .map(|s| s.location.to_string());
                finding.data = vec![class_name.clone()];
                out.findings.push(finding);
            }
        }
    }
    out
}

fn derive<'a>(source: &'a SourceProbes, classes: &[&'a str]) -> Derived<'a> {
    let mut derived = Derived {
        source,
        views: HashMap::new(),
        holders: HashMap::new(),
        unknown: HashSet::new(),
    };
    for identity in &source.identities {
        if !identity.logged_in {
            derived.unknown.insert(identity.identity.as_str());
        }
    }
    for obs in &source.observations {
        if obs.outcome == Outcome::Error {
            derived.unknown.insert(obs.identity.as_str());
        }
        for &class in classes {
            let view = derived
                .views
                .entry((class, obs.identity.as_str()))
                .or_default();
            view.probes.push(obs);
            if obs.outcome != Outcome::Allowed {
                continue;
            }
            let Some(hit) = obs.data.get(class) else {
                continue;
            };
            view.seen = true;
            view.capped |= hit.values.len() >= MAX_VALUES;
            view.values.extend(hit.values.iter().copied());
            let holders = derived.holders.entry(class).or_default();
            for value in &hit.values {
                holders
                    .entry(*value)
                    .or_default()
                    .insert(obs.identity.as_str());
            }
        }
    }
    derived
}

/// The finding for one Site answer and one sourced class it holds, if the source proves one.
fn judge(source: &Derived<'_>, obs: &Observation, class: &str, shown: &[u64]) -> Option<Finding> {
    let name = &source.source.name;
    let who = obs.identity.as_str();
    let empty = View::default();
    let view = source.views.get(&(class, who)).unwrap_or(&empty);
    let others: BTreeSet<&str> = source
        .views
        .iter()
        .filter(|((c, identity), v)| *c == class && *identity != who && v.seen)
        .map(|((_, identity), _)| *identity)
        .collect();
    if !view.seen {
        // The probes must reach the data for its absence to mean anything.
        let holder = others.iter().next()?;
        let probe = witness(source, class, who, holder, "it");
        return Some(Finding::at(
            FindingKind::SourceBypass,
            obs,
            format!(
                "{who} sees `{class}` here, but source `{name}` gives {who} none of it: {probe}"
            ),
        ));
    }
    if view.capped || shown.is_empty() {
        return None;
    }
    let foreign: Vec<u64> = shown
        .iter()
        .copied()
        .filter(|v| !view.values.contains(v))
        .filter(|v| source.holders.get(class).is_some_and(|h| h.contains_key(v)))
        .collect();
    if foreign.is_empty() {
        return None;
    }
    let holder = foreign
        .iter()
        .filter_map(|v| source.holders.get(class)?.get(v)?.iter().next().copied())
        .next()?;
    let probe = witness(source, class, who, holder, "those records");
    let own = shown.len() - foreign.len();
    Some(Finding::at(
        FindingKind::SourceBypass,
        obs,
        format!(
            "{who} sees {} `{class}` record(s) here that source `{name}` returns to others \
             but not to {who} ({own} of {who}'s own shown): {probe}",
            foreign.len()
        ),
    ))
}

/// The probe that shows the difference, in words: where `holder` got the class and `who`
/// was refused it or got less.
fn witness(source: &Derived<'_>, class: &str, who: &str, holder: &str, what: &str) -> String {
    let name = &source.source.name;
    let held = source
        .views
        .get(&(class, holder))
        .and_then(|v| {
            v.probes
                .iter()
                .find(|o| o.outcome == Outcome::Allowed && o.data.contains_key(class))
        })
        .copied();
    let Some(held) = held else {
        return format!("{holder} got it from `{name}`");
    };
    let mine = source
        .views
        .get(&(class, who))
        .and_then(|v| v.probes.iter().find(|o| o.url == held.url).copied());
    let path = display_path(&held.url);
    match mine {
        Some(mine) if mine.outcome == Outcome::Allowed => format!(
            "probe GET {path} on `{name}` returned it to {holder}, and to {who} without {what}"
        ),
        Some(mine) => format!(
            "probe GET {path} on `{name}` returned it to {holder} and refused {who} ({})",
            mine.reason
        ),
        None => {
            format!("probe GET {path} on `{name}` returned it to {holder}; {who} was not answered")
        }
    }
}

fn display_path(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(url) => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        },
        Err(_) => url.to_string(),
    }
}
